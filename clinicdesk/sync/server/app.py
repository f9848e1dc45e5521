"""The sync server's HTTP API (docs/sync.md, protocol version 1): a Starlette app over a store.

Database calls run in worker threads (``run_in_threadpool``), so a long poll waiting for a
clinic's next change never holds up the event loop. Every error is answered as
``{"error", "message"}`` JSON with its status; a fault of the server is logged by its type and
place and answered 500 without a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clinicdesk.logs import crash_summary
from clinicdesk.sync.protocol import (
    API_PREFIX,
    BAD_REQUEST,
    EPOCH_HEADER,
    MAX_BODY,
    MAX_BUNDLE,
    MAX_PART,
    MAX_PULL,
    MAX_PUSH,
    MAX_WAIT,
    NOT_FOUND,
    STATUS,
    BadRequest,
    JoinRefused,
    MalformedChange,
    Rebootstrap,
    ServerFault,
    SyncError,
    TooLarge,
    TooManyTries,
    Unauthorized,
    Unavailable,
    WireChange,
    is_blob,
)
from clinicdesk.sync.server.store import AuthedDevice, ServerStore

log = logging.getLogger("clinicdesk.sync.server")
T = TypeVar("T")

JOIN_TRIES = 20  # refused join codes from one address ...
JOIN_WINDOW_S = 10 * 60  # ... within this many seconds, before it is refused for a while
TICK_S = 0.5  # how often a long poll looks for a change another server process committed (a
# push to this process wakes it at once); each look is a query per waiting desk
DRAIN_LIMIT = 4 * MAX_BODY  # an oversize body is read (and dropped) this far, so the 413 arrives


class JoinTries:
    """Refused join codes per client address: past ``limit`` within ``window`` seconds, that
    address is refused (429) until the oldest counted try is out of the window. A join code has
    over 100 bits, so this only keeps a guesser from loading the server. Bounded: at most
    ``addresses`` are remembered, the longest quiet forgotten first."""

    def __init__(
        self, limit: int = JOIN_TRIES, window: float = JOIN_WINDOW_S, addresses: int = 10_000
    ) -> None:
        self.limit, self.window, self.addresses = limit, window, addresses
        self._tries: dict[str, list[float]] = {}

    def _recent(self, address: str, now: float) -> list[float]:
        tries = [t for t in self._tries.get(address, []) if now - t < self.window]
        if tries:
            self._tries[address] = tries
        else:
            self._tries.pop(address, None)
        return tries

    def check(self, address: str) -> None:
        now = time.monotonic()
        tries = self._recent(address, now)
        if len(tries) >= self.limit:
            wait = max(1, round(self.window - (now - tries[0])))
            minutes = max(1, -(-wait // 60))
            raise TooManyTries(
                f"Too many wrong join codes came from this computer; try again in {minutes} "
                f"minute{'s' if minutes > 1 else ''}."
            )

    def refused(self, address: str) -> None:
        now = time.monotonic()
        tries = self._recent(address, now)
        self._tries.pop(address, None)  # moved to the end: the most recently active
        self._tries[address] = [*tries, now][-self.limit :]
        while len(self._tries) > self.addresses:
            self._tries.pop(next(iter(self._tries)))


class ClinicWaiters:
    """Long polls waiting for a clinic's next change, woken at once by a push to this process
    (a push to another process on the same PostgreSQL is seen at the next tick)."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, clinic_id: str) -> asyncio.Event:
        return self._events.setdefault(clinic_id, asyncio.Event())

    def notify(self, clinic_id: str) -> None:
        event = self._events.pop(clinic_id, None)
        if event is not None:
            event.set()


async def _db(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return await run_in_threadpool(call, *args, **kwargs)
    except DBAPIError as error:
        if error.connection_invalidated or type(error).__name__ == "OperationalError":
            raise Unavailable(
                "The sync server cannot reach its database just now; try again shortly."
            ) from error
        raise


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("This request needs a token: Authorization: Bearer <token>.")
    return token.strip()


async def _body(request: Request, limit: int = MAX_BODY, what: str = "of JSON") -> bytes:
    """The request's body, gzip undone; TooLarge past ``limit`` (the rest is read and dropped,
    up to a bound, so the client gets the answer rather than a reset connection)."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise BadRequest(f"The body's encoding {encoding!r} is not understood; send gzip or none.")
    inflate = zlib.decompressobj(wbits=31) if encoding == "gzip" else None
    body = bytearray()
    received = 0
    too_large = False
    async for chunk in request.stream():
        received += len(chunk)
        if too_large:
            if received > DRAIN_LIMIT:
                break
            continue
        try:
            body += inflate.decompress(chunk, limit + 1 - len(body)) if inflate else chunk
        except zlib.error:
            raise BadRequest("The body is not valid gzip.") from None
        if len(body) > limit or (inflate is not None and inflate.unconsumed_tail):
            too_large = True
            body.clear()
    if too_large:
        raise TooLarge(f"A request may hold at most {limit / 2**20:g} MiB {what}.")
    if inflate is not None and (not inflate.eof or inflate.unused_data):
        raise BadRequest("The body is not one complete gzip stream.")
    return bytes(body)


def _parse_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


async def _json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, parsed in a worker thread (16 MiB of JSON takes a while)."""
    return await run_in_threadpool(_parse_object, await _body(request))


def _changes(data: dict[str, Any]) -> list[WireChange]:
    """A push's changes, every one checked before any is applied."""
    raw = data.get("changes")
    if not isinstance(raw, list):
        raise BadRequest('The body must hold "changes", a list of changes.')
    if len(raw) > MAX_PUSH:
        raise TooLarge(f"A push holds at most {MAX_PUSH} changes; this one has {len(raw)}.")
    changes = []
    for number, item in enumerate(raw, start=1):
        try:
            changes.append(WireChange.from_json(item))
        except MalformedChange as error:
            raise BadRequest(
                f"Change {number} of {len(raw)}: {error.message} Nothing of this push was applied."
            ) from None
    return changes


class _JSON(Response):
    media_type = "application/json"


async def _rendered(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    """A JSON answer, rendered in a worker thread (a pull's page may be megabytes)."""
    content = await run_in_threadpool(
        lambda: json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    )
    return _JSON(content, status_code=status, headers=headers)


def _int_param(request: Request, name: str, default: int, least: int, most: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"The parameter {name} must be a whole number.") from None
    if value < least:
        raise BadRequest(f"The parameter {name} must be {least} or more.")
    return value if most is None else min(value, most)


def _bundle(data: dict[str, Any]) -> bytes:
    encoded = data.get("wrapped")
    if not isinstance(encoded, str) or len(encoded) > 2 * MAX_BUNDLE:
        raise BadRequest('The body must hold "wrapped", the sealed bundle as base64 text.')
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest('"wrapped" is not valid base64.') from None


def create_app(store: ServerStore, *, tick: float = TICK_S) -> Starlette:
    """The server's routes over ``store``, which the caller opens and closes."""
    waiters = ClinicWaiters()
    join_tries = JoinTries()

    async def answer(body: dict[str, Any], epoch: str | None = None) -> Response:
        epoch = epoch or await _db(store.epoch)
        return await _rendered({"epoch": epoch, **body}, **{EPOCH_HEADER: epoch})

    async def device_of(request: Request) -> tuple[AuthedDevice, str]:
        """The device making the request, and the server's epoch, which the desk knows."""
        device = await _db(store.authenticate, _bearer(request))
        epoch = await _db(store.epoch)
        known = request.headers.get(EPOCH_HEADER)
        if known is not None and known.strip() != epoch:
            raise Rebootstrap(
                "The sync server was restored or replaced since this desk last synced: pull "
                "everything again from the start, then push what is not yet on the server."
            )
        return device, epoch

    async def create_clinic(request: Request) -> Response:
        await _db(store.check_operator_token, _bearer(request))
        data = await _json_object(request)
        made = await _db(
            store.create_clinic,
            data.get("clinic_id"),
            data.get("clinic_name"),
            data.get("device_name"),
        )
        return await answer(
            {"clinic_id": made.clinic_id, "device_id": made.device_id, "token": made.token}
        )

    async def push(request: Request) -> Response:
        device, epoch = await device_of(request)
        changes = await run_in_threadpool(_changes, await _json_object(request))
        done = await _db(store.push, device, changes)
        if any(not r.duplicate for r in done.results):
            waiters.notify(device.clinic_id)
        return await answer(
            {"results": [r.to_json() for r in done.results], "head": done.head}, epoch
        )

    async def pull(request: Request) -> Response:
        device, epoch = await device_of(request)
        after = _int_param(request, "after", 0, 0, None)
        limit = _int_param(request, "limit", MAX_PULL, 1, MAX_PULL)
        wait = _int_param(request, "wait", 0, 0, MAX_WAIT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        head = await _db(store.head, device)
        while head <= after and (left := deadline - loop.time()) > 0:
            woken = waiters.event(device.clinic_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=min(tick, left))
            if await request.is_disconnected():  # the desk gave up: nothing to send, or record
                return Response(status_code=204)
            head = await _db(store.head, device)
        done = await _db(store.pull, device, after, limit)
        return await answer(
            {
                "changes": [c.to_json() for c in done.changes],
                "head": done.head,
                "more": done.more,
            },
            epoch,
        )

    def blob_of(request: Request) -> str:
        blob = request.path_params["blob"]
        if not is_blob(blob):
            raise BadRequest("A part's blob is named by its SHA-256, in lower-case hex.")
        return blob

    async def put_part(request: Request) -> Response:
        device, epoch = await device_of(request)
        blob, index = blob_of(request), request.path_params["index"]
        content = await _body(request, MAX_PART, "in one part")
        stored = await _db(store.put_part, device, blob, index, content)
        if stored:
            log.info(
                "part %d of %s kept for clinic %s (%d bytes)",
                index,
                blob,
                device.clinic_id,
                len(content),
            )
        return await answer({"blob": blob, "index": index, "stored": stored}, epoch)

    async def held_parts(request: Request) -> Response:
        device, epoch = await device_of(request)
        blob = blob_of(request)
        size = _int_param(request, "size", 0, 1, None) if "size" in request.query_params else None
        held = await _db(store.held_parts, device, blob, size)
        return await answer({"blob": blob, "held": held}, epoch)

    async def get_part(request: Request) -> Response:
        device, epoch = await device_of(request)
        content = await _db(store.part, device, blob_of(request), request.path_params["index"])
        return Response(
            content, media_type="application/octet-stream", headers={EPOCH_HEADER: epoch}
        )

    async def devices(request: Request) -> Response:
        device, epoch = await device_of(request)
        listed = await _db(store.devices, device.clinic_id)
        return await answer({"devices": [d.to_json() for d in listed]}, epoch)

    async def revoke(request: Request) -> Response:
        device, epoch = await device_of(request)
        data = await _json_object(request)
        target = request.path_params["device_id"]
        done = await _db(store.revoke, target, data.get("reason"), clinic_id=device.clinic_id)
        return await answer({"device": done.to_json()}, epoch)

    async def add_join_code(request: Request) -> Response:
        device, epoch = await device_of(request)
        data = await _json_object(request)
        expires = await _db(
            store.add_join_code,
            device,
            data.get("lookup"),
            _bundle(data),
            data.get("device_name"),
            data.get("expires_in"),
        )
        return await answer({"expires_at": expires.isoformat().replace("+00:00", "Z")}, epoch)

    async def join(request: Request) -> Response:
        address = request.client.host if request.client else ""
        join_tries.check(address)
        data = await _json_object(request)
        try:
            joined = await _db(store.join, data.get("lookup"))
        except JoinRefused:
            join_tries.refused(address)
            raise
        made = joined.device
        return await answer(
            {
                "clinic_id": made.clinic_id,
                "device_id": made.device_id,
                "token": made.token,
                "wrapped": base64.b64encode(joined.wrapped).decode("ascii"),
            }
        )

    async def error_answer(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):  # no such route, or not with this method
            if exc.status_code == 404:
                body = {"error": NOT_FOUND, "message": "There is no such address on this server."}
            else:
                body = {"error": BAD_REQUEST, "message": "This server takes no such request here."}
            status = exc.status_code
        else:
            if not isinstance(exc, SyncError):
                log.error("unexpected error: %s", crash_summary(exc))
                exc = ServerFault(
                    "The sync server ran into a fault of its own; try again later (a push sent "
                    "again is never applied twice). Its operator can find where in its log."
                )
            body, status = exc.to_json(), STATUS[exc.code]
        headers = {}
        if not isinstance(exc, Unavailable):
            try:
                epoch = await _db(store.epoch)
            except Exception:  # the error is answered even when the epoch cannot be read
                pass
            else:
                body["epoch"] = epoch
                headers[EPOCH_HEADER] = epoch
        return await _rendered(body, status, **headers)

    prefix = API_PREFIX
    return Starlette(
        routes=[
            Route(f"{prefix}/clinics", create_clinic, methods=["POST"]),
            Route(f"{prefix}/push", push, methods=["POST"]),
            Route(f"{prefix}/pull", pull, methods=["GET"]),
            Route(f"{prefix}/devices", devices, methods=["GET"]),
            Route(f"{prefix}/parts/{{blob}}", held_parts, methods=["GET"]),
            Route(f"{prefix}/parts/{{blob}}/{{index:int}}", put_part, methods=["POST"]),
            Route(f"{prefix}/parts/{{blob}}/{{index:int}}", get_part, methods=["GET"]),
            Route(f"{prefix}/devices/{{device_id}}/revoke", revoke, methods=["POST"]),
            Route(f"{prefix}/join-codes", add_join_code, methods=["POST"]),
            Route(f"{prefix}/join", join, methods=["POST"]),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=1024)],
        exception_handlers={
            SyncError: error_answer,
            HTTPException: error_answer,
            Exception: error_answer,
        },
    )

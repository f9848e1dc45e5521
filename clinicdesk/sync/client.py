"""The desk's side of the wire: requests to the sync server (docs/sync.md).

One ``requests`` session per desk: TLS checked against the server's own certificate, pinned
when the desk was connected; gzip for larger JSON bodies; timeouts on every call; retries with
backoff for a connection that failed or a server that was briefly unavailable (a retried push
is safe: the server never applies an op id twice). What goes wrong comes back as a sentence:
the protocol's errors as the server words them, the network's as ``Offline``.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.client
import json
import socket
import ssl
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from clinicdesk.errors import ClinicDeskError
from clinicdesk.sync.protocol import (
    API_PREFIX,
    EPOCH_HEADER,
    MAX_WAIT,
    PulledChange,
    ServerFault,
    WireChange,
    error_from_json,
)

CONNECT_TIMEOUT = 5  # seconds
READ_TIMEOUT = 20  # seconds, beyond a long poll's wait
GZIP_FROM = 1024  # bytes: smaller bodies go as they are
BACKOFF = 0.5  # seconds before the second retry, doubled for each retry after it


class Offline(ClinicDeskError):
    """The server could not be reached (no network, server down, or too slow)."""


@dataclass(frozen=True)
class Pushed:
    epoch: str
    seqs: dict[str, int]  # op id -> its place in the clinic's log
    head: int


@dataclass(frozen=True)
class Page:
    epoch: str
    changes: list[PulledChange]
    head: int
    more: bool


class SyncClient:
    def __init__(
        self, url: str, token: str, certificate: Path | None, epoch: str | None = None
    ) -> None:
        """``certificate``: the server's own certificate (PEM), trusted alone; None only for
        plain HTTP on loopback. ``token``: empty for the one request a desk makes before it
        is a device (joining with a code)."""
        self.url = url.rstrip("/")
        self.epoch = epoch
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        # given with every request: a CA bundle named in the environment never replaces it
        self.verify: str | bool = str(certificate) if certificate is not None else True
        retry = Retry(
            total=3,
            connect=3,
            read=1,
            status_forcelist=(502, 503, 504),
            allowed_methods=None,  # POSTs too: a push is idempotent by its op ids
            backoff_factor=BACKOFF,
            raise_on_status=False,
        )
        self.adapter = _CuttableAdapter(max_retries=retry)
        self.http.mount(self.url, self.adapter)

    def close(self) -> None:
        self.http.close()

    def abort(self) -> None:
        """Cut short what this client is waiting for, from another thread (the clinic is
        closing while a long poll waits): the call ends with ``Offline`` at once, and so does
        any call after it."""
        self.adapter.cut_short()

    def push(self, changes: list[WireChange]) -> Pushed:
        body = self._call("POST", "/push", {"changes": [c.to_json() for c in changes]})
        seqs = {r["op_id"]: int(r["seq"]) for r in body["results"]}
        return Pushed(body["epoch"], seqs, int(body["head"]))

    def pull(self, after: int, limit: int, wait: float = 0) -> Page:
        wait = max(0.0, min(wait, MAX_WAIT))
        body = self._call(
            "GET",
            f"/pull?after={after}&limit={limit}&wait={wait:g}",
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT + wait),
        )
        changes = [PulledChange.from_json(c) for c in body["changes"]]
        return Page(body["epoch"], changes, int(body["head"]), bool(body["more"]))

    def held_parts(self, blob: str, size: int) -> set[int]:
        """The parts of ``blob`` the server holds for this clinic; TooLarge when it takes no
        payload of ``size`` bytes."""
        return set(self._call("GET", f"/parts/{blob}?size={size}")["held"])

    def put_part(self, blob: str, index: int, content: bytes) -> None:
        self._call("POST", f"/parts/{blob}/{index}", content)

    def part(self, blob: str, index: int) -> bytes:
        # ciphertext does not compress: the answer comes as it is
        answer = self._request("GET", f"/parts/{blob}/{index}", accept="identity")
        if answer.status_code >= 400:
            _answer(answer)
        return answer.content

    def devices(self) -> list[dict[str, Any]]:
        return self._call("GET", "/devices")["devices"]

    def revoke(self, device_id: str, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/devices/{device_id}/revoke", {"reason": reason})

    def add_join_code(
        self, lookup: str, wrapped: bytes, device_name: str, expires_in: int
    ) -> dict[str, Any]:
        body = {
            "lookup": lookup,
            "wrapped": base64.b64encode(wrapped).decode("ascii"),
            "device_name": device_name,
            "expires_in": expires_in,
        }
        return self._call("POST", "/join-codes", body)

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        """A request whose answer is JSON: a JSON object as its body, or bytes as they are."""
        return _answer(self._request(method, path, body, timeout))

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | None = None,
        timeout: tuple[float, float] | None = None,
        accept: str | None = None,
    ) -> requests.Response:
        timeout = timeout or (CONNECT_TIMEOUT, READ_TIMEOUT)
        headers = {EPOCH_HEADER: self.epoch} if self.epoch else {}
        if accept is not None:
            headers["Accept-Encoding"] = accept
        data = None
        if isinstance(body, bytes):  # a part: ciphertext, which gzip would only make larger
            data = body
            headers["Content-Type"] = "application/octet-stream"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            if len(data) >= GZIP_FROM:
                data = gzip.compress(data, compresslevel=5)
                headers["Content-Encoding"] = "gzip"
        try:
            return self.http.request(
                method,
                self.url + API_PREFIX + path,
                data=data,
                headers=headers,
                timeout=timeout,
                verify=self.verify,
            )
        except (_Cut, requests.exceptions.RequestException) as error:
            if self.adapter.cut:
                raise Offline("Sync was stopped on this desk; nothing more was sent.") from None
            causes = list(_causes(error))
            if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
                raise Offline(
                    "The sync server's certificate is not the one this desk was connected to; "
                    "nothing was sent. Ask the server's operator."
                ) from None
            raise Offline(f"The sync server cannot be reached ({_why(causes)}).") from None


class _Cut(Exception):
    """A connection refused because the client was cut short: not an error urllib3 retries."""


class _CuttableAdapter(HTTPAdapter):
    """Keeps the connections it opens, so that a request waiting on one can be cut short from
    another thread: shutting a socket down wakes the thread blocked reading it, where closing
    it would not."""

    def __init__(self, **kwargs: Any) -> None:
        self.cut = False
        self.connections: weakref.WeakSet[HTTPConnection] = weakref.WeakSet()
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        adapter = self

        def kept(base: type[HTTPConnection]) -> type[HTTPConnection]:
            class Kept(base):
                def connect(self) -> None:
                    if adapter.cut:
                        raise _Cut
                    super().connect()
                    adapter.connections.add(self)
                    if adapter.cut:  # cut while it was connecting
                        _shut(self)

            return Kept

        class Pool(HTTPConnectionPool):
            ConnectionCls = kept(HTTPConnection)

        class SecurePool(HTTPSConnectionPool):
            ConnectionCls = kept(HTTPSConnection)

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SecurePool}

    def cut_short(self) -> None:
        self.cut = True
        for connection in list(self.connections):
            _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            # the plain socket's shutdown, under TLS too: the TLS object stays to the thread
            # that reads through it, which sees the connection end
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def create_clinic(
    url: str,
    operator_token: str,
    certificate: Path | None,
    clinic_id: str,
    clinic_name: str,
    device_name: str,
) -> dict[str, Any]:
    """Make the clinic's space on the server, with this desk as its first device."""
    client = SyncClient(url, operator_token, certificate)
    try:
        return client._call(
            "POST",
            "/clinics",
            {"clinic_id": clinic_id, "clinic_name": clinic_name, "device_name": device_name},
        )
    finally:
        client.close()


def join(url: str, certificate: Path | None, lookup: str) -> dict[str, Any]:
    """Use a join code (its lookup): this desk becomes a device of the code's clinic."""
    client = SyncClient(url, "", certificate)
    try:
        return client._call("POST", "/join", {"lookup": lookup})
    finally:
        client.close()


def _answer(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code >= 400:
        raise error_from_json(body)
    if not isinstance(body, dict):
        raise ServerFault("The sync server gave an answer that could not be read.")
    return body


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and those it stands for: requests wraps urllib3's, which wraps the socket's
    and the TLS layer's (in ``args``, ``reason`` or as the cause)."""
    seen: set[int] = set()
    todo = [error]
    while todo and len(seen) < 32:
        cause = todo.pop()
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        todo.extend(a for a in cause.args if isinstance(a, BaseException))
        for more in (getattr(cause, "reason", None), cause.__cause__, cause.__context__):
            if isinstance(more, BaseException):
                todo.append(more)


def _why(causes: list[BaseException]) -> str:
    """What went wrong on the way, in words (a read timed out after every retry comes back as
    a ConnectionError, a cut answer as a ChunkedEncodingError: their causes tell)."""

    def found(*kinds: type[BaseException]) -> bool:
        return any(isinstance(c, kinds) for c in causes)

    if found(requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        return "it did not answer in time"
    if found(
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
        http.client.IncompleteRead,
        urllib3.exceptions.IncompleteRead,
    ):
        return "its answer was cut off part-way"
    if found(
        ConnectionResetError,
        ConnectionAbortedError,
        BrokenPipeError,
        http.client.RemoteDisconnected,
        ssl.SSLError,
    ):
        return "the connection was cut off"
    return "no connection"

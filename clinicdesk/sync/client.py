"""The desk's side of the wire: requests to the sync server (docs/sync.md).

One ``requests`` session per desk: TLS checked against the server's own certificate, pinned
when the desk was connected; gzip for larger bodies; timeouts on every call; retries with
backoff for a connection that failed or a server that was briefly unavailable (a retried push
is safe: the server never applies an op id twice). What goes wrong comes back as a sentence:
the protocol's errors as the server words them, the network's as ``Offline``.
"""

from __future__ import annotations

import gzip
import http.client
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
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
        plain HTTP on loopback."""
        self.url = url.rstrip("/")
        self.epoch = epoch
        self.http = requests.Session()
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
        self.http.mount(self.url, HTTPAdapter(max_retries=retry))

    def close(self) -> None:
        self.http.close()

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

    def devices(self) -> list[dict[str, Any]]:
        return self._call("GET", "/devices")["devices"]

    def revoke(self, device_id: str, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/devices/{device_id}/revoke", {"reason": reason})

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        timeout = timeout or (CONNECT_TIMEOUT, READ_TIMEOUT)
        headers = {EPOCH_HEADER: self.epoch} if self.epoch else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            if len(data) >= GZIP_FROM:
                data = gzip.compress(data, compresslevel=5)
                headers["Content-Encoding"] = "gzip"
        try:
            answer = self.http.request(
                method,
                self.url + API_PREFIX + path,
                data=data,
                headers=headers,
                timeout=timeout,
                verify=self.verify,
            )
        except requests.exceptions.RequestException as error:
            causes = list(_causes(error))
            if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
                raise Offline(
                    "The sync server's certificate is not the one this desk was connected to; "
                    "nothing was sent. Ask the server's operator."
                ) from None
            raise Offline(f"The sync server cannot be reached ({_why(causes)}).") from None
        return _answer(answer)


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

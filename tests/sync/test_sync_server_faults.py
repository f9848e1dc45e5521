"""A fault inside the server, or its database out of reach, is answered as a sentence in JSON
with its status: never a traceback, never the fault's own words (the app is driven in-process)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from clinicdesk.sync.server.app import create_app
from clinicdesk.sync.server.database import sqlite_url
from clinicdesk.sync.server.store import ServerStore


def call(app, method: str, path: str, token: str) -> tuple[int, dict]:
    """One request through the ASGI app, as uvicorn would make it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8443),
    }
    pending = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # the desk stays connected
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> None:
        # Starlette raises an unexpected error again after answering it, for the server's log
        with contextlib.suppress(RuntimeError):
            await app(scope, receive, send)

    asyncio.run(run())
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = ServerStore(sqlite_url(tmp_path))
    store.init()
    yield store
    store.close()


def test_a_fault_inside_the_server_is_a_sentence_without_its_details(sqlite_store, monkeypatch):
    token = sqlite_store.create_clinic("clinic-1", "Sunrise", "Front desk").token

    def broken(clinic_id: str):
        raise RuntimeError("internal detail: row 17 of devices")

    monkeypatch.setattr(sqlite_store, "devices", broken)
    status, body = call(create_app(sqlite_store), "GET", "/v1/devices", token)
    assert status == 500
    assert body["error"] == "server_error" and body["message"].endswith(".")
    assert "row 17" not in json.dumps(body) and "Traceback" not in json.dumps(body)


def test_a_database_out_of_reach_is_told_as_unavailable(sqlite_store, monkeypatch):
    token = sqlite_store.create_clinic("clinic-1", "Sunrise", "Front desk").token

    def unreachable(*args):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(sqlite_store, "authenticate", unreachable)
    status, body = call(create_app(sqlite_store), "GET", "/v1/pull", token)
    assert status == 503
    assert body == {
        "error": "unavailable",
        "message": "The sync server cannot reach its database just now; try again shortly.",
    }

"""Fixtures of the sync tests: the server's database on SQLite and on PostgreSQL, a store on it,
the real server in a process of its own, speaking HTTPS on loopback, and two desks of one
clinic connected to it.

PostgreSQL is the server at CLINICDESK_TEST_PG_URL (for example
postgresql://postgres@127.0.0.1:5432/test); each test session makes databases of its own there
and drops them after. Without it, or with it unreachable, those tests are skipped, saying why.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from clinicdesk.ids import new_id
from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.models import Patient, SyncConflict
from clinicdesk.sync import desk
from clinicdesk.sync.apply import cursor
from clinicdesk.sync.protocol import EPOCH_HEADER, PulledChange, WireChange
from clinicdesk.sync.server.database import sqlite_url
from clinicdesk.sync.server.store import AuthedDevice, ServerStore
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD

PG_ENV = "CLINICDESK_TEST_PG_URL"
BACKENDS = ["sqlite", "postgresql"]
# for tests of the desk's side, where the server's database matters less: SQLite in every run,
# PostgreSQL with the long ones (parametrize "server" or "own_server" indirectly with these)
DESK_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.long)]


def libpq_url(url: str) -> str:
    """The URL as libpq tools take it (psql, pg_dump, psycopg.connect): no SQLAlchemy driver."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (its URL), dropped at the end."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set, so there is no PostgreSQL server to test on")
    try:
        admin = psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL at {PG_ENV}={url} cannot be reached: {error}".strip())
    name = f"clinicdesk_sync_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield libpq_url(make_url(url).set(database=name).render_as_string(hide_password=False))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def pg_schemas(pg_database: str) -> Iterator[Callable[[], str]]:
    """Makes empty schemas in the session's database, each a database of its own to the server
    (the URL sets its search_path): cheaper than a database per test."""
    admin = psycopg.connect(pg_database, autocommit=True)

    def make() -> str:
        name = f"s_{secrets.token_hex(6)}"
        admin.execute(f'CREATE SCHEMA "{name}"')
        url = make_url(pg_database)
        return url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )

    yield make
    admin.close()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path: Path) -> str:
    """An empty database of each kind the server runs on."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("pg_schemas")()


@pytest.fixture
def store(db_url: str) -> Iterator[ServerStore]:
    server_store = ServerStore(db_url)
    server_store.init()
    yield server_store
    server_store.close()


# ---- the real server, in a process of its own ----


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``clinicdesk server ...`` run as its operator would (a process of its own)."""
    return subprocess.run(
        [sys.executable, "-m", "clinicdesk.cli", "server", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def https(cert: Path) -> requests.Session:
    """Requests that trust the server's own certificate, and nothing from the environment (a
    REQUESTS_CA_BUNDLE there would take the place of ``verify``, a proxy would take loopback)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cert)
    return session


class Desk:
    """A desk's requests to the server, over HTTPS with the server's certificate pinned."""

    def __init__(self, server: RunningServer, token: str, epoch: str | None = None) -> None:
        self.server = server
        self.token = token
        self.device_id = token.partition(".")[0]
        self.http = https(server.cert)
        self.http.headers["Authorization"] = f"Bearer {token}"
        if epoch:
            self.http.headers[EPOCH_HEADER] = epoch

    def push(self, changes: list[WireChange], **kwargs) -> requests.Response:
        body = {"changes": [c.to_json() for c in changes]}
        return self.http.post(f"{self.server.url}/v1/push", json=body, timeout=30, **kwargs)

    def pull(self, after: int = 0, **params) -> requests.Response:
        return self.http.get(
            f"{self.server.url}/v1/pull", params={"after": after, **params}, timeout=60
        )

    def devices(self) -> requests.Response:
        return self.http.get(f"{self.server.url}/v1/devices", timeout=30)

    def revoke(self, device_id: str, reason: str) -> requests.Response:
        return self.http.post(
            f"{self.server.url}/v1/devices/{device_id}/revoke", json={"reason": reason}, timeout=30
        )

    def close(self) -> None:
        self.http.close()


@dataclass
class RunningServer:
    """``clinicdesk server run`` on 127.0.0.1 with its init-made certificate."""

    folder: Path
    db_url: str
    backend: str
    operator_token: str = ""
    fingerprint: str = ""
    port: int = 0
    process: subprocess.Popen | None = None
    desks: list[Desk] = field(default_factory=list)

    @property
    def cert(self) -> Path:
        return self.folder / "tls" / "cert.pem"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "server-output.log"

    def init(self) -> None:
        db = ["--db", self.db_url] if self.backend == "postgresql" else []
        done = server_command("init", "--data-dir", str(self.folder), *db)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        self.fingerprint = lines[lines.index(next(x for x in lines if "fingerprint" in x)) + 1]
        self.fingerprint = self.fingerprint.strip()
        self.operator_token = lines[lines.index(next(x for x in lines if "token" in x)) + 1]
        self.operator_token = self.operator_token.strip()

    def start(self) -> None:
        """Start it; started again after a stop or a kill, it listens where it did before, so
        the desks connected to it find it again."""
        assert self.process is None
        again = self.port
        for _attempt in range(3):
            self.port = again or free_port()
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    [
                        *(sys.executable, "-m", "clinicdesk.cli", "server", "run"),
                        *("--data-dir", str(self.folder), "--host", "127.0.0.1"),
                        *("--port", str(self.port)),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            if self._answers():
                return
            self.process = None  # the port was taken meanwhile: try another (or, restarting, again)
        raise AssertionError(f"the sync server did not start:\n{self.log.read_text()}")

    def _answers(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with https(self.cert) as probe:
                    probe.get(f"{self.url}/v1/devices", timeout=2)
                return True
            except requests.ConnectionError:
                time.sleep(0.05)
        self.kill()
        raise AssertionError(f"the sync server did not answer:\n{self.log.read_text()}")

    def kill(self) -> None:
        """As if the machine lost power under it: SIGKILL, nothing tidied."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        for each in self.desks:  # an open connection would hold up a graceful shutdown
            each.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
            self.process = None

    def operator(self, path: str, body: dict, token: str | None = None) -> requests.Response:
        with https(self.cert) as session:
            return session.post(
                f"{self.url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {token or self.operator_token}"},
                timeout=30,
            )

    def new_clinic(self, name: str = "Sunrise Family Clinic") -> tuple[str, Desk]:
        """A clinic space made with the operator token; its id and its first desk."""
        clinic_id = new_id()
        made = self.operator(
            "/v1/clinics",
            {"clinic_id": clinic_id, "clinic_name": name, "device_name": "Front desk"},
        )
        assert made.status_code == 200, made.text
        desk = Desk(self, made.json()["token"], made.json()["epoch"])
        self.desks.append(desk)
        return clinic_id, desk

    def another_desk(self, clinic_id: str, name: str = "Doctor's room") -> Desk:
        """A further desk of the clinic (join codes come later: made through the store)."""
        store = ServerStore(self.db_url)
        try:
            made = store.add_device(clinic_id, name)
            epoch = store.epoch()
        finally:
            store.close()
        desk = Desk(self, made.token, epoch)
        self.desks.append(desk)
        return desk


def _server(backend: str, folder: Path, request) -> RunningServer:
    pg = backend == "postgresql"
    db_url = request.getfixturevalue("pg_schemas")() if pg else sqlite_url(folder)
    server = RunningServer(folder, db_url, backend)
    server.init()
    server.start()
    return server


@pytest.fixture(scope="session", params=BACKENDS)
def server(request, tmp_path_factory) -> Iterator[RunningServer]:
    """One server of each kind for the session; each test makes clinics of its own on it."""
    running = _server(request.param, tmp_path_factory.mktemp(f"server-{request.param}"), request)
    yield running
    running.stop()


@pytest.fixture(params=BACKENDS)
def own_server(request, tmp_path: Path) -> Iterator[RunningServer]:
    """A server for this test alone (one it may kill and restart)."""
    running = _server(request.param, tmp_path / "server", request)
    yield running
    running.kill()
    running.stop()


def kept_by_server(server: RunningServer) -> bytes:
    """Everything the server keeps, as someone with a copy of it would read it: every file of
    its folder (the SQLite database, its journal, its logs), or a pg_dump of PostgreSQL."""
    if server.backend == "sqlite":
        files = [p for p in server.folder.rglob("*") if p.is_file()]
        assert any(p.name.startswith("server.db") for p in files)
        return b"".join(p.read_bytes() for p in files)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not on PATH, so the PostgreSQL copy cannot be read")
    dump = subprocess.run(
        [pg_dump, "--dbname", libpq_url(server.db_url)], capture_output=True, timeout=120
    )
    if dump.returncode != 0 and b"version mismatch" in dump.stderr:
        pytest.skip(f"pg_dump cannot dump this server: {dump.stderr.decode().strip()}")
    assert dump.returncode == 0, dump.stderr.decode()
    return dump.stdout


# ---- two desks of one clinic, connected to the real server ----


def connect(session: ClinicSession, server: RunningServer, answer: dict, url: str = "") -> None:
    """Connect the desk as Admin -> Sync does, with the device the server made for it; ``url``
    is where the desk reaches the server (its own address unless something stands between)."""
    desk.connect(
        session.store,
        url or server.url,
        answer["device_id"],
        answer["token"],
        answer["epoch"],
        server.cert.read_bytes(),
    )


def two_desks(
    folder: Path, copy: Path, server: RunningServer, url: str = ""
) -> tuple[ClinicSession, ClinicSession]:
    """Desk A (the clinic in ``folder``) makes the clinic's space on the server and sends it all;
    desk B then starts as a copy of the clinic as the server holds it, in ``copy``, with a device
    of its own. Each is signed in by its own person (one account signing in at two desks at once
    changes its row at both: a conflict for the review screen). The caller closes both."""
    first = sign_in(folder, "admin", ADMIN_PASSWORD)
    first.users.create(
        first.actor, "ben", "Ben Okoro", {Role.ADMIN}, STAFF_PASSWORD, must_change_password=False
    )
    made = server.operator(
        "/v1/clinics",
        {
            "clinic_id": first.slots.clinic_id,
            "clinic_name": "Sunrise Family Clinic",
            "device_name": "Front desk",
        },
    )
    assert made.status_code == 200, made.text
    connect(first, server, made.json(), url)
    desk.sync(first.store, first.payload_cipher())  # all of it on the server, nothing waiting
    assert desk.waiting(first.store) == 0
    first.close()
    shutil.copytree(folder, copy)
    a, b = sign_in(folder, "admin", ADMIN_PASSWORD), sign_in(copy, "ben", STAFF_PASSWORD)
    store = ServerStore(server.db_url)
    try:
        second = store.add_device(a.slots.clinic_id, "Doctor's room")
        epoch = store.epoch()
    finally:
        store.close()
    answer = {"device_id": second.device_id, "token": second.token, "epoch": epoch}
    connect(b, server, answer, url)
    return a, b


@pytest.fixture
def desks(clinic_dir, tmp_path: Path, server: RunningServer):
    """Desks A and B of one clinic on the session's server (``two_desks``)."""
    a, b = two_desks(clinic_dir[0], tmp_path / "desk-b", server)
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def own_desks(clinic_dir, tmp_path: Path, own_server: RunningServer):
    """Desks A and B of one clinic on a server of this test's own, which it may stop."""
    a, b = two_desks(clinic_dir[0], tmp_path / "desk-b", own_server)
    yield a, b
    a.close()
    b.close()


def register(session: ClinicSession, given: str, family: str) -> str:
    patient = PatientInput(given, family, date(1980, 5, 17), "female")
    return session.patients.register(session.actor, patient, not_a_duplicate=True).id


def move(session: ClinicSession, patient_id: str, address: str) -> int:
    """The patient's address changed at this desk; the patient's new version."""
    patient = session.patients.get(session.actor, patient_id)
    data = PatientInput(**{**patient.as_input().__dict__, "address": address})
    return session.patients.update(session.actor, patient_id, data, patient.version).version


def eventually(check: Callable[[], bool], within: float, what: str | Callable[[], str]) -> float:
    """Wait (at most ``within`` seconds) until ``check()`` holds; how long it took. ``what``
    says what was awaited (a callable: told as things stand when the wait ran out)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            said = what() if callable(what) else what
            raise AssertionError(f"not within {within} s: {said}")
        time.sleep(0.05)
    return time.monotonic() - started


def server_log(server: RunningServer, session: ClinicSession) -> list[PulledChange]:
    """The clinic's whole change log as the server holds it (read through its store, as the
    desk's device)."""
    link = desk.connection(session.store)
    assert link is not None
    store = ServerStore(server.db_url)
    try:
        device = AuthedDevice(link.device_id, session.slots.clinic_id, "reader")
        changes: list[PulledChange] = []
        while True:
            page = store.pull(device, changes[-1].seq if changes else 0)
            changes += page.changes
            if not page.more:
                return changes
    finally:
        store.close()


def server_head(server: RunningServer, session: ClinicSession) -> int:
    """The last sequence number of the clinic's log on the server."""
    link = desk.connection(session.store)
    assert link is not None
    store = ServerStore(server.db_url)
    try:
        return store.head(AuthedDevice(link.device_id, session.slots.clinic_id, "reader"))
    finally:
        store.close()


def patients_at(session: ClinicSession) -> int:
    with session.store.read() as s:
        return s.scalar(select(func.count()).select_from(Patient)) or 0


def conflicts_at(session: ClinicSession) -> int:
    with session.store.read() as s:
        return s.scalar(select(func.count()).select_from(SyncConflict)) or 0


def assert_in_step(server: RunningServer, *sessions: ClinicSession) -> list[PulledChange]:
    """Every desk has sent all it made, holds what the server holds, and nothing is there twice:
    the server's log has each op once and each version of a row once; the desks have as many
    patients as the log made, and stand at its head. The log, for further checks."""
    log = server_log(server, sessions[0])
    ops = [c.change.op_id for c in log]
    assert len(ops) == len(set(ops)), "an op was appended twice"
    versions = [(c.change.entity, c.change.entity_id, c.change.version) for c in log]
    twice = {v for v in versions if versions.count(v) > 1}
    assert not twice, f"a version of a row was sent twice: {sorted(twice)[:5]}"
    patients = len({c.change.entity_id for c in log if c.change.entity == "patients"})
    head = log[-1].seq if log else 0
    for session in sessions:
        assert desk.waiting(session.store) == 0
        assert cursor(session.store) == head
        assert patients_at(session) == patients
        assert conflicts_at(session) == 0
    return log

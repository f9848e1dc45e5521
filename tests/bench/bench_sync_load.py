"""Sync under load: many desks on two server processes sharing one PostgreSQL database, and what
an idle desk costs the server.

(1) Load: ``--clinics`` clinics of ``--desks`` desks each (4 x 5 by default), every desk an OS
process of its own with its own encrypted data folder, signed in as a person of its own, its
``SyncRunner`` running (``ClinicSession.start_sync``: push on commit, long poll). The desks of
each clinic alternate between two ``clinicdesk server run`` processes on one fresh PostgreSQL
database, so every clinic's changes cross from one process to the other. Each desk edits a
patient of its own share of the clinic's patients every ``--interval`` seconds for
``--duration`` seconds (registering is left out: two desks registering at once hand out the
same record number, and the second is kept aside for review; ``--register`` puts registrations
in the mix to see it). Then every desk sends what it made and takes what the others made, and
the run checks that all desks of each clinic hold the patients of the server's log at its
versions with the same values, that no desk applied a change twice, that the log holds
no op and no version of a row twice, and that nothing was kept aside as a conflict. Figures:
changes per second made, accepted by the servers and delivered to the other desks; p50/p95 of a
change's way from its desk's commit to another desk's change feed (desks on the same server
process, and across the two). Baseline, same run: one clinic of 2 desks on one server process,
at the same rate per desk.

(2) Idle: the same desks afterwards, nothing changing, their runners running, over ``--idle``
seconds: requests per minute per desk (the servers' access logs: uvicorn's line per request),
connections per minute (distinct client ports in those lines), the server processes' CPU
seconds per minute and those of the PostgreSQL backends serving them (``/proc``). Baselines:
the 2 baseline desks on one process, and the two processes with no desk connected.

    uv run python tests/bench/bench_sync_load.py [--quick] [--pg URL] [--clinics 4] [--desks 5]
        [--interval 2] [--duration 120] [--idle 60] [--register] [--keep]

``--pg`` defaults to CLINICDESK_TEST_PG_URL; a database is made there for the run and dropped
after. Everything runs on loopback and is removed at the end, desk processes included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_sync import OWNER, TARGET_P95_S, drop_pg_database, make_pg_database, pg_version
from common import (
    BENCH_KDF,
    DETAILS,
    PASSWORD,
    bench_root,
    machine_note,
    median,
    percentile,
    ratio,
    remove_folder,
    summary,
    table,
    verdict,
)
from sqlalchemy import create_engine, select

from clinicdesk.demo.people import PeopleGenerator
from clinicdesk.permissions import Role
from clinicdesk.services.access import AdminAccount, create_clinic, sign_in
from clinicdesk.sync import desk
from clinicdesk.sync.apply import cursor
from clinicdesk.sync.runner import LONG_POLL
from clinicdesk.sync.server.app import TICK_S
from clinicdesk.sync.server.database import normalized_url
from clinicdesk.sync.server.models import Change
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import RunningServer, connect, libpq_url

DESK_IMPORTS = ["clinicdesk.services.access", "clinicdesk.store.models", "tests.sync.conftest"]
QUICK = {"duration": 20.0, "idle": 40.0}  # idle: two long polls at least
FULL = {"duration": 120.0, "idle": 60.0}
PATIENTS_PER_DESK = 20
NOBODY_S = 30.0  # seconds the servers are watched with no desk connected
KEEPS_UP = 0.95  # accepted / made over the window: the servers kept up
READY_WITHIN = 240.0  # seconds for a desk to sign in and take the clinic from the server
SETTLE_WITHIN = 180.0  # seconds for every desk to send what it made and take the rest


# ---------------------------------------------------------------- the desks, each a process


@dataclass(frozen=True)
class DeskSpec:
    name: str
    folder: str
    state: str  # its XDG_STATE_HOME: each desk a workstation of its own
    username: str
    clinic: int
    clinic_id: str
    index: int  # within its clinic: its share of the patients
    desks: int  # in its clinic
    server: int  # which server process it talks to
    head: int  # the clinic's log at set-up: the desk is ready once it holds that much
    register: bool


class Arrivals:
    """When this desk's change feed told of another desk's patient row. Sync applies each pulled
    change in a savepoint of its own, and the feed is told as each savepoint ends (before the
    page commits, so the row cannot be read back from here yet): one telling per version
    applied, in the log's order. The n-th telling of a row is its n-th version after the one
    the desk held at the start, and more tellings than versions would be a change applied
    twice."""

    def __init__(self) -> None:
        self.told: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    def __call__(self, change) -> None:
        if threading.current_thread() is threading.main_thread():
            return  # this desk's own commit, not an arrival
        now = time.monotonic()
        with self.lock:
            self.told += [(row_id, now) for table, row_id in change.entities if table == "patients"]


def _expect(conn, word: str) -> list:
    """The benchmark's next word to this desk, and what comes with it."""
    try:
        said, *rest = conn.recv()
    except EOFError:
        raise SystemExit("the benchmark went away") from None
    assert said == word, f"expected {word!r}, got {said!r}"
    return rest


def _until(check, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"not within {within:.0f} s: {what}")
        time.sleep(0.05)


def desk_entry(spec: DeskSpec, conn, log: str) -> None:
    """A desk's process (forked from the benchmark's fork server, its imports done): its output
    to its log, its state folder its own."""
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.environ["XDG_STATE_HOME"] = spec.state
    try:
        desk_main(spec, conn)
    except BaseException:
        traceback.print_exc()
        raise


def desk_main(spec: DeskSpec, conn) -> None:
    """One desk: sign in, sync, make changes at a steady rate when told, report what it saw."""
    from clinicdesk.store.models import Patient, SyncConflict
    from tests.sync.conftest import move, register

    session = sign_in(Path(spec.folder), spec.username, PASSWORD)
    arrivals = Arrivals()
    unsubscribe = session.store.changes.subscribe(arrivals)
    statuses = []
    session.on_sync_status(statuses.append)
    try:
        with session.store.read() as s:
            everyone = s.scalars(select(Patient.id).order_by(Patient.mrn)).all()
        share = everyone[spec.index :: spec.desks]
        session.start_sync()
        _until(
            lambda: statuses and statuses[-1].connected and cursor(session.store) >= spec.head,
            READY_WITHIN,
            "connected and caught up",
        )
        conn.send(("ready",))
        start, duration, interval, seed = _expect(conn, "go")
        rng = random.Random(seed)
        start += rng.uniform(0, interval)  # the desks of a clinic do not tick together
        with session.store.read() as s:
            at_start = {
                row.id: row.version for row in s.execute(select(Patient.id, Patient.version))
            }
        commits: list[tuple[str, int, float]] = []
        tick = 0
        while (due := start + tick * interval) < start + duration:
            time.sleep(max(0.0, due - time.monotonic()))
            if spec.register and rng.random() < 0.25:
                patient_id = register(session, "Reggie", "Loadtest")
                version = 1
                share.append(patient_id)
            else:
                patient_id = share[tick % len(share)]
                version = move(session, patient_id, f"{tick} Load Street, {spec.name}")
            commits.append((patient_id, version, time.monotonic()))
            tick += 1
        _until(lambda: desk.waiting(session.store) == 0, SETTLE_WITHIN, "all sent")
        conn.send(("pushed", len(commits)))
        (head,) = _expect(conn, "head")
        _until(lambda: cursor(session.store) >= head, SETTLE_WITHIN, f"at the log's head {head}")
        conn.send(("converged",))
        (path,) = _expect(conn, "dump")
        with session.store.read() as s:
            held = {
                p.id: [p.version, p.mrn, p.given_name, p.family_name, p.address]
                for p in s.scalars(select(Patient))
            }
            kept_aside = [c.reason for c in s.scalars(select(SyncConflict))]
        status = statuses[-1] if statuses else None
        with arrivals.lock:
            result = {
                "commits": commits,
                "told": arrivals.told,
                "at_start": at_start,
                "patients": held,
                "conflicts": kept_aside,
                "refused": status.refused if status else 0,
                "problem": status.problem if status else "",
            }
        Path(path).write_text(json.dumps(result))
    finally:
        unsubscribe()
        session.close()
    conn.send(("done",))


class DeskProcess:
    """A desk's process, talked to through a pipe. Forked from a fork server that imported the
    desk's code once: twenty interpreters importing it at once on a shared machine took
    minutes."""

    def __init__(self, spec: DeskSpec, log: Path) -> None:
        self.spec = spec
        self.log = log
        context = multiprocessing.get_context("forkserver")
        self.conn, theirs = context.Pipe()
        self.process = context.Process(
            target=desk_entry, args=(spec, theirs, str(log)), name=spec.name, daemon=True
        )
        self.process.start()
        theirs.close()

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def tell(self, *words: object) -> None:
        self.conn.send(words)

    def expect(self, word: str, deadline: float) -> list:
        said = None
        if self.conn.poll(max(0.1, deadline - time.monotonic())):
            with contextlib.suppress(EOFError):
                said = self.conn.recv()
        if not said or said[0] != word:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"desk {self.spec.name}: expected {word!r}, got {said!r}\n{tail}")
        return list(said[1:])

    def end(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=15)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(timeout=15)
        self.conn.close()


# ---------------------------------------------------------------- the servers, from outside


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (None: gone, or not ours to read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


REQUEST = re.compile(r'INFO: +127\.0\.0\.1:(\d+) - "(\w+) (/v1/\w+)')


@dataclass
class Requests:
    count: int = 0
    connections: int = 0
    by_path: Counter = field(default_factory=Counter)


def requests_in(text: str) -> Requests:
    """The requests uvicorn's access log tells of: one line each, with the client's port."""
    found = Requests()
    ports = set()
    for match in REQUEST.finditer(text):
        found.count += 1
        ports.add(match.group(1))
        found.by_path[f"{match.group(2)} {match.group(3)}"] += 1
    found.connections = len(ports)
    return found


class Meter:
    """CPU time of the server processes, of the PostgreSQL backends serving their database and
    of the desks' processes, and the requests the servers' access logs told of, between
    ``start`` and ``stop``."""

    def __init__(
        self, servers: list[RunningServer], db_url: str, desks: Sequence[int] = ()
    ) -> None:
        self.servers = servers
        self.db_url = db_url
        self.desks = desks  # their processes' ids: what the desks cost, for comparison

    def _backends(self) -> dict[int, float]:
        import psycopg

        with psycopg.connect(libpq_url(self.db_url), connect_timeout=5) as conn:
            pids = [
                row[0]
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ]
        return {pid: cpu for pid in pids if (cpu := cpu_seconds(pid)) is not None}

    def start(self) -> None:
        self.started = time.monotonic()
        self.cpu = [cpu_seconds(s.process.pid) for s in self.servers]
        self.offsets = [s.log.stat().st_size for s in self.servers]
        self.pg = self._backends()
        self.desk_cpu = {pid: cpu_seconds(pid) for pid in self.desks}

    def stop(self) -> dict:
        seconds = time.monotonic() - self.started
        cpu = [
            cpu_seconds(s.process.pid) - before
            for s, before in zip(self.servers, self.cpu, strict=True)
        ]
        pg_now = self._backends()
        pg = sum(pg_now[pid] - self.pg[pid] for pid in pg_now if pid in self.pg)
        desks = sum(
            now - before
            for pid, before in self.desk_cpu.items()
            if before is not None and (now := cpu_seconds(pid)) is not None
        )
        logs = []
        for server, offset in zip(self.servers, self.offsets, strict=True):
            with server.log.open("rb") as f:
                f.seek(offset)
                logs.append(requests_in(f.read().decode(errors="replace")))
        return {
            "seconds": seconds,
            "cpu": cpu,
            "pg_cpu": pg,
            "desk_cpu": desks,
            "pg_readable": bool(pg_now),
            "requests": logs,
        }


# ---------------------------------------------------------------- setting up


def build_clinic(
    root: Path, number: int, desks: int, servers: list[RunningServer], register: bool
) -> list[DeskSpec]:
    """A clinic made at its first desk (accounts for each desk, its patients), sent to the
    server; its other desks copies of that folder, each with a device of its own. Desk i talks
    to server i mod len(servers)."""
    name = f"Load Clinic {number}"
    first = root / "desk-1"
    os.environ["XDG_STATE_HOME"] = str(root / "state-1")
    create_clinic(
        first,
        replace(DETAILS, name=name),
        AdminAccount(OWNER, "Olive Owner", PASSWORD),
        kdf=BENCH_KDF,
    )
    session = sign_in(first, OWNER, PASSWORD)
    try:
        for i in range(1, desks + 1):
            session.users.create(
                session.actor,
                f"desk{i}",
                f"Desk {i}",
                {Role.RECEPTIONIST},
                PASSWORD,
                must_change_password=False,
            )
        people = PeopleGenerator(number).patients(desks * PATIENTS_PER_DESK)
        session.patients.import_many(session.actor, people)
        made = servers[0].operator(
            "/v1/clinics",
            {"clinic_id": session.slots.clinic_id, "clinic_name": name, "device_name": "Desk 1"},
        )
        made.raise_for_status()
        connect(session, servers[0], made.json())
        desk.sync(session.store, session.payload_cipher())
        head = cursor(session.store)
        clinic_id = session.slots.clinic_id
    finally:
        session.close()
    specs = []
    for i in range(desks):
        folder, state = root / f"desk-{i + 1}", root / f"state-{i + 1}"
        server = i % len(servers)
        if i:
            shutil.copytree(first, folder)
            os.environ["XDG_STATE_HOME"] = str(state)
            copy = sign_in(folder, f"desk{i + 1}", PASSWORD)
            try:
                store = ServerStore(servers[0].db_url)
                try:
                    device = store.add_device(clinic_id, f"Desk {i + 1}")
                    epoch = store.epoch()
                finally:
                    store.close()
                answer = {"device_id": device.device_id, "token": device.token, "epoch": epoch}
                connect(copy, servers[server], answer)
            finally:
                copy.close()
        specs.append(
            DeskSpec(
                name=f"c{number}d{i + 1}",
                folder=str(folder),
                state=str(state),
                username=f"desk{i + 1}",
                clinic=number,
                clinic_id=clinic_id,
                index=i,
                desks=desks,
                server=server,
                head=head,
                register=register,
            )
        )
    return specs


def second_server(first: RunningServer, folder: Path) -> RunningServer:
    """Another process of the same server: its configuration and certificate, its database."""
    folder.mkdir(mode=0o700)
    shutil.copy2(first.folder / "server.json", folder / "server.json")
    shutil.copytree(first.folder / "tls", folder / "tls")
    return RunningServer(folder, first.db_url, "postgresql", operator_token=first.operator_token)


# ---------------------------------------------------------------- a phase: load, then idle


@dataclass
class Phase:
    name: str
    specs: list[DeskSpec]
    servers: list[RunningServer]
    made: int = 0
    accepted: int = 0
    window: float = 0.0
    offered_rate: float = 0.0
    accepted_rate: float = 0.0
    delivered_rate: float = 0.0
    latencies: list[float] = field(default_factory=list)
    same: list[float] = field(default_factory=list)
    across: list[float] = field(default_factory=list)
    lost: int = 0
    settle: float = 0.0
    load_meter: dict = field(default_factory=dict)
    idle_meter: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def run_phase(phase: Phase, work: Path, db_url: str, args: argparse.Namespace) -> None:
    """Start the phase's desks, load them, let them settle, measure them idle, collect."""
    processes = []
    began = time.monotonic()
    try:
        for spec in phase.specs:
            processes.append(DeskProcess(spec, work / f"{spec.name}.log"))
        deadline = time.monotonic() + READY_WITHIN + 30
        for p in processes:
            p.expect("ready", deadline)
        meter = Meter(phase.servers, db_url, [p.pid for p in processes])
        print(f"  {phase.name}: {len(processes)} desks ready in {time.monotonic() - began:.0f} s")
        start = time.monotonic() + 1.0
        wall = time.time() + 1.0
        meter.start()
        for n, p in enumerate(processes):
            p.tell("go", start, args.duration, args.interval, args.seed + n)
        deadline = start + args.duration + args.interval + SETTLE_WITHIN
        made = sum(int(p.expect("pushed", deadline)[0]) for p in processes)
        heads = clinic_heads(db_url, phase)
        for p in processes:
            p.tell("head", heads[p.spec.clinic])
        for p in processes:
            p.expect("converged", deadline)
        converged = time.monotonic()
        phase.load_meter = meter.stop()
        print(f"  {phase.name}: {made} changes made", flush=True)

        meter.start()  # idle: nothing changing, the runners' long polls waiting
        time.sleep(args.idle)
        phase.idle_meter = meter.stop()

        results = {}
        for p in processes:
            path = work / f"{p.spec.name}.json"
            p.tell("dump", path)
        deadline = time.monotonic() + 60
        for p in processes:
            p.expect("done", deadline)
            results[p.spec.name] = json.loads((work / f"{p.spec.name}.json").read_text())
        print(f"  {phase.name}: desks closed; phase took {time.monotonic() - began:.0f} s")
    finally:
        for p in processes:
            p.end()
    analyse(phase, results, db_url, start, wall, args.duration)
    phase.settle = converged - max(c[2] for r in results.values() for c in r["commits"])


def clinic_heads(db_url: str, phase: Phase) -> dict[int, int]:
    """Each clinic's last sequence number, as its desks will find it."""
    store = ServerStore(db_url)
    try:
        by_id = {c.id: c.head for c in store.clinics()}
    finally:
        store.close()
    return {spec.clinic: by_id[spec.clinic_id] for spec in phase.specs}


def server_log(db_url: str) -> list:
    engine = create_engine(normalized_url(db_url))
    try:
        with engine.connect() as conn:
            return conn.execute(
                select(
                    Change.clinic_id,
                    Change.op_id,
                    Change.entity,
                    Change.entity_id,
                    Change.version,
                    Change.received_at,
                )
            ).all()
    finally:
        engine.dispose()


def analyse(
    phase: Phase, results: dict, db_url: str, start: float, wall: float, duration: float
) -> None:
    """Throughput and latency from what the desks saw; whether each clinic converged."""
    end = start + duration
    specs = {s.name: s for s in phase.specs}
    by_clinic: dict[int, list[str]] = defaultdict(list)
    for name, spec in specs.items():
        by_clinic[spec.clinic].append(name)

    delivered = 0
    twice: dict[str, int] = {}
    for names in by_clinic.values():
        seen = {name: arrived_versions(results[name], twice, name) for name in names}
        for sender in names:
            for patient_id, version, committed in results[sender]["commits"]:
                for receiver in names:
                    if receiver == sender:
                        continue
                    arrived = seen[receiver].get((patient_id, version))
                    if arrived is None:
                        phase.lost += 1
                        continue
                    way = arrived - committed
                    phase.latencies.append(way)
                    same = specs[sender].server == specs[receiver].server
                    (phase.same if same else phase.across).append(way)
                    delivered += start <= arrived <= end
    in_window = [c for r in results.values() for c in r["commits"] if start <= c[2] <= end]
    phase.made = sum(len(r["commits"]) for r in results.values())
    phase.window = duration
    phase.offered_rate = len(in_window) / duration
    phase.delivered_rate = delivered / duration

    log = server_log(db_url)
    clinics = {spec.clinic: spec.clinic_id for spec in phase.specs}
    first = datetime.fromtimestamp(wall, UTC)
    last = datetime.fromtimestamp(wall + duration, UTC)
    phase.accepted = sum(
        1
        for row in log
        if row.clinic_id in clinics.values()
        and row.entity == "patients"
        and first <= _utc(row.received_at) <= last
    )
    phase.accepted_rate = phase.accepted / duration

    # in step: every desk of a clinic holds the log's patients, at its versions, alike
    ops = Counter(row.op_id for row in log)
    if repeated := [op for op, n in ops.items() if n > 1]:
        phase.problems.append(f"{len(repeated)} ops appended to the server's log twice")
    versions = Counter((row.clinic_id, row.entity, row.entity_id, row.version) for row in log)
    if repeated := [v for v, n in versions.items() if n > 1]:
        phase.problems.append(f"{len(repeated)} versions of a row in the server's log twice")
    newest: dict[str, dict[str, int]] = defaultdict(dict)
    for row in log:
        if row.entity == "patients":
            held = newest[row.clinic_id]
            held[row.entity_id] = max(held.get(row.entity_id, 0), row.version)
    for number, names in sorted(by_clinic.items()):
        states = {name: results[name]["patients"] for name in names}
        reference = states[names[0]]
        wanted = newest[clinics[number]]
        for name, held in states.items():
            if held != reference:
                differ = sum(
                    1 for pid in set(held) | set(reference) if held.get(pid) != reference.get(pid)
                )
                phase.problems.append(
                    f"clinic {number}: {name} differs from {names[0]} in {differ} patients"
                )
            behind = sum(1 for pid, v in wanted.items() if held.get(pid, [0])[0] != v)
            behind += len(set(held) - set(wanted))
            if behind:
                phase.problems.append(
                    f"clinic {number}: {name} holds {behind} patients not at the log's version"
                )
            if twice.get(name):
                phase.problems.append(
                    f"{name}: told of {twice[name]} versions more than its rows went through "
                    "(a change applied twice, or one kept aside told of all the same)"
                )
            if results[name]["conflicts"]:
                reasons = Counter(results[name]["conflicts"]).most_common(2)
                phase.problems.append(
                    f"{name}: {len(results[name]['conflicts'])} changes kept aside for review, "
                    f"e.g. {reasons}"
                )
            if results[name]["refused"] or results[name]["problem"]:
                phase.problems.append(
                    f"{name}: {results[name]['refused']} refused; {results[name]['problem']}"
                )
    if phase.lost:
        phase.problems.append(f"{phase.lost} deliveries never seen by the receiving desk")


def arrived_versions(result: dict, twice: dict[str, int], name: str) -> dict:
    """(patient id, version) -> when the desk's feed told of it (see ``Arrivals``); counts in
    ``twice`` the tellings beyond the versions a row went through here."""
    told = defaultdict(list)
    for patient_id, at in result["told"]:
        told[patient_id].append(at)
    arrived = {}
    for patient_id, times in told.items():
        base = result["at_start"].get(patient_id, 0)
        final = result["patients"].get(patient_id, [base])[0]
        twice[name] = twice.get(name, 0) + max(0, len(times) - (final - base))
        for n, at in enumerate(sorted(times), start=1):
            arrived[(patient_id, base + n)] = at
    return arrived


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------- the report


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.0f}" if values else "n/a"


def per_minute(meter: dict, value: float) -> float:
    return value * 60 / meter["seconds"]


def idle_figures(meter: dict, desks: int) -> dict[str, float]:
    requests = sum(r.count for r in meter["requests"])
    connections = sum(r.connections for r in meter["requests"])
    cpu = sum(meter["cpu"])
    return {
        "requests per desk": per_minute(meter, requests) / desks if desks else float("nan"),
        "connections per desk": per_minute(meter, connections) / desks if desks else float("nan"),
        "server cpu": per_minute(meter, cpu),
        "server cpu per desk": per_minute(meter, cpu) / desks if desks else float("nan"),
        "pg cpu": per_minute(meter, meter["pg_cpu"]) if meter["pg_readable"] else float("nan"),
        "desk cpu per desk": per_minute(meter, meter["desk_cpu"]) / desks
        if desks
        else float("nan"),
    }


def print_phase(phase: Phase) -> None:
    load = phase.load_meter
    paths = Counter()
    for r in load["requests"]:
        paths.update(r.by_path)
    requests = sum(paths.values())
    cpu = sum(load["cpu"])
    print(
        table(
            ("what", "value"),
            [
                ("desks / server processes", f"{len(phase.specs)} / {len(phase.servers)}"),
                ("changes made (whole run)", phase.made),
                ("made per second (window)", f"{phase.offered_rate:.2f}"),
                ("accepted by the servers per second", f"{phase.accepted_rate:.2f}"),
                ("delivered to other desks per second", f"{phase.delivered_rate:.2f}"),
                (
                    "commit -> other desk's feed p50 / p95 / max, ms",
                    f"{ms(phase.latencies, 50)} / {ms(phase.latencies, 95)} / "
                    f"{max(phase.latencies, default=float('nan')) * 1000:.0f}",
                ),
                (
                    "  same server process p50 / p95, ms (n)",
                    f"{ms(phase.same, 50)} / {ms(phase.same, 95)} ({len(phase.same)})",
                ),
                (
                    "  across the processes p50 / p95, ms (n)",
                    f"{ms(phase.across, 50)} / {ms(phase.across, 95)} ({len(phase.across)})",
                ),
                ("all desks in step after the last change, s", f"{phase.settle:.1f}"),
                (
                    "requests during the load (per change made)",
                    f"{requests} ({requests / max(phase.made, 1):.1f})",
                ),
                ("  of which", ", ".join(f"{p} {n}" for p, n in paths.most_common())),
                (
                    "server CPU s during the load (per 100 changes)",
                    f"{cpu:.1f} ({100 * cpu / max(phase.made, 1):.2f})",
                ),
                ("PostgreSQL backends' CPU s during the load", f"{load['pg_cpu']:.1f}"),
                (
                    "the desk processes' CPU s during the load (per 100 changes)",
                    f"{load['desk_cpu']:.1f} ({100 * load['desk_cpu'] / max(phase.made, 1):.2f})",
                ),
            ],
            f"Load: {phase.name}",
        )
    )
    if phase.problems:
        print("NOT IN STEP:\n  " + "\n  ".join(phase.problems))
    else:
        print(
            "In step: every desk of each clinic holds the log's patients at its versions, alike; "
            "no op or version twice in the log; no change applied twice at a desk; nothing kept "
            "aside."
        )


def print_idle(rows: list[tuple[str, int, dict]], window: float) -> None:
    out = []
    for label, desks, meter in rows:
        f = idle_figures(meter, desks)
        paths = Counter()
        for r in meter["requests"]:
            paths.update(r.by_path)
        out.append(
            (
                label,
                desks,
                f"{f['requests per desk']:.2f}",
                f"{f['connections per desk']:.2f}",
                f"{f['server cpu']:.2f}",
                f"{f['server cpu per desk']:.3f}",
                f"{f['pg cpu']:.2f}",
                f"{f['desk cpu per desk']:.2f}",
                ", ".join(f"{p} {n}" for p, n in paths.most_common()) or "-",
            )
        )
    print(
        table(
            (
                "idle",
                "desks",
                "req/min/desk",
                "conn/min/desk",
                "server CPU s/min",
                "per desk",
                "PG CPU s/min",
                "desk's own CPU s/min",
                "requests",
            ),
            out,
            f"Idle desks over {window:.0f} s (long poll {LONG_POLL:.0f} s; "
            f"a waiting poll looks at the database every {TICK_S} s)",
        )
    )


def run(args: argparse.Namespace) -> int:
    if not args.pg:
        print("Give a PostgreSQL server with --pg URL or CLINICDESK_TEST_PG_URL.")
        return 2
    work = bench_root() / f"sync-load-{os.getpid()}"
    remove_folder(work)
    work.mkdir(parents=True)
    pg_name = ""
    servers: list[RunningServer] = []
    try:
        db_url, pg_name = make_pg_database(args.pg)
        first = RunningServer(work / "server-1", db_url, "postgresql")
        first.folder.mkdir()
        first.init()
        servers = [first, second_server(first, work / "server-2")]
        for server in servers:
            server.start()
        n = args.clinics * args.desks
        print(
            f"Sync under load: {args.clinics} clinics x {args.desks} desks = {n} desk processes, "
            f"one change per desk every {args.interval:g} s for {args.duration:g} s; "
            f"idle {args.idle:g} s"
        )
        print(machine_note())
        print(
            f"servers: 2 x clinicdesk server run (TLS on loopback), PostgreSQL {pg_version(db_url)}"
        )
        print(
            f"desks: SQLCipher clinics in {work}, {PATIENTS_PER_DESK} patients per desk each clinic"
        )

        with_time = time.monotonic()
        baseline_specs = build_clinic(work / "clinic-0", 0, 2, servers[:1], args.register)
        load_specs = []
        for c in range(1, args.clinics + 1):
            load_specs += build_clinic(work / f"clinic-{c}", c, args.desks, servers, args.register)
        print(
            f"set up {1 + args.clinics} clinics and {2 + n} desk folders in "
            f"{time.monotonic() - with_time:.0f} s"
        )

        baseline = Phase(
            "baseline, 1 clinic x 2 desks, 1 server process", baseline_specs, servers[:1]
        )
        run_phase(baseline, work, db_url, args)
        loaded = Phase(
            f"{args.clinics} clinics x {args.desks} desks, 2 server processes", load_specs, servers
        )
        run_phase(loaded, work, db_url, args)

        meter = Meter(servers, db_url)  # nothing connected: what the processes cost alone
        meter.start()
        time.sleep(min(args.idle, NOBODY_S))
        nobody = meter.stop()

        print()
        print_phase(baseline)
        print()
        print_phase(loaded)
        print()
        print_idle(
            [
                ("no desk, 2 processes", 0, nobody),
                ("baseline desks, 1 process", 2, baseline.idle_meter),
                (f"{n} desks, 2 processes", n, loaded.idle_meter),
            ],
            args.idle,
        )
        print()
        idle_b = idle_figures(baseline.idle_meter, 2)
        idle_n = idle_figures(loaded.idle_meter, n)
        idle_0 = idle_figures(nobody, 0)
        in_step = not baseline.problems and not loaded.problems
        print(
            summary(
                [
                    (
                        "changes accepted per second",
                        f"{loaded.accepted_rate:.2f}",
                        f"{baseline.accepted_rate:.2f}",
                        ratio(loaded.accepted_rate, baseline.accepted_rate),
                        f">= {KEEPS_UP:.0%} of made ({loaded.offered_rate:.2f}/s)",
                        verdict(loaded.accepted_rate >= KEEPS_UP * loaded.offered_rate),
                    ),
                    (
                        "changes delivered to other desks per second",
                        f"{loaded.delivered_rate:.2f}",
                        f"{baseline.delivered_rate:.2f}",
                        ratio(loaded.delivered_rate, baseline.delivered_rate),
                        "",
                        "",
                    ),
                    (
                        "commit -> other desk's feed p50, ms",
                        ms(loaded.latencies, 50),
                        ms(baseline.latencies, 50),
                        ratio(median(loaded.latencies), median(baseline.latencies)),
                        "",
                        "",
                    ),
                    (
                        "commit -> other desk's feed p95, ms",
                        ms(loaded.latencies, 95),
                        ms(baseline.latencies, 95),
                        ratio(percentile(loaded.latencies, 95), percentile(baseline.latencies, 95)),
                        f"<= {TARGET_P95_S * 1000:.0f} ms",
                        verdict(
                            bool(loaded.latencies)
                            and percentile(loaded.latencies, 95) <= TARGET_P95_S
                        ),
                    ),
                    (
                        "  across the two processes p95, ms",
                        ms(loaded.across, 95),
                        ms(loaded.same, 95),
                        ratio(percentile(loaded.across, 95), percentile(loaded.same, 95)),
                        "(baseline: same process)",
                        "",
                    ),
                    (
                        "every clinic's desks in step",
                        "yes" if in_step else "NO",
                        "",
                        "",
                        "converged, nothing twice",
                        verdict(in_step),
                    ),
                    (
                        "idle: requests per minute per desk",
                        f"{idle_n['requests per desk']:.2f}",
                        f"{idle_b['requests per desk']:.2f}",
                        ratio(idle_n["requests per desk"], idle_b["requests per desk"]),
                        "",
                        "",
                    ),
                    (
                        f"idle: server CPU s per minute, {n} desks",
                        f"{idle_n['server cpu']:.2f}",
                        f"{idle_b['server cpu']:.2f}",
                        ratio(idle_n["server cpu"], idle_b["server cpu"]),
                        "(baseline: 2 desks)",
                        "",
                    ),
                    (
                        "idle: server CPU s per minute per desk",
                        f"{idle_n['server cpu per desk']:.3f}",
                        f"{idle_b['server cpu per desk']:.3f}",
                        ratio(idle_n["server cpu per desk"], idle_b["server cpu per desk"]),
                        "",
                        "",
                    ),
                    (
                        "idle: server CPU s per minute, no desk",
                        f"{idle_0['server cpu']:.2f}",
                        "",
                        "",
                        "",
                        "",
                    ),
                ],
                f"SUMMARY: {n} desks on 2 server processes, one PostgreSQL "
                "(baseline: 2 desks on 1)",
            )
        )
        return 0 if in_step else 1
    finally:
        for server in servers:
            server.stop()
        if pg_name:
            drop_pg_database(args.pg, pg_name)
        if not args.keep:
            remove_folder(work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about 3 minutes)")
    parser.add_argument("--pg", metavar="URL", default=os.environ.get("CLINICDESK_TEST_PG_URL"))
    parser.add_argument("--clinics", type=int, default=4)
    parser.add_argument("--desks", type=int, default=5, help="desks per clinic")
    parser.add_argument(
        "--interval", type=float, default=2.0, help="seconds between a desk's changes"
    )
    parser.add_argument("--duration", type=float, help="seconds of changes per phase")
    parser.add_argument("--idle", type=float, help="seconds each idle window lasts")
    parser.add_argument("--register", action="store_true", help="a quarter of the changes register")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the desks' and servers' folders")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    args.duration = args.duration or defaults["duration"]
    args.idle = args.idle or defaults["idle"]
    # the desks' processes fork from a server that has imported what they run
    multiprocessing.set_forkserver_preload(["__main__", *DESK_IMPORTS])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

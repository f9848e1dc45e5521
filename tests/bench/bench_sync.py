"""Sync between two desks of one clinic through the real sync server (HTTPS on loopback).

(1) Bootstrap: desk A imports N patients and pushes them; desk B, a copy of A's folder made
before the patients were added (the clinic, its accounts and its key, none of the patients),
pulls everything from the start until its first patient search finds one of them. Baselines,
in the same run: the same patients imported straight into another copy of that folder
(``import_many``: ``outbox.bulk_insert`` and the search terms, one transaction), the pages
fetched from the server without applying them, and a plain SELECT of the clinic's change log
on the server's database.

(2) Latency: both desks running ``SyncRunner`` (push on commit, pull with a long poll), one
patient registered at A until B's change feed tells of it, repeated; baseline: a round trip
``GET /v1/devices`` to the same server, alternating with the changes.

    uv run python tests/bench/bench_sync.py [--patients 100000] [--changes 50] [--pg URL]
        [--profile] [--keep]

The server is ``clinicdesk server run`` in a process of its own (``tests/sync/conftest.py``'s
``RunningServer``), on SQLite by default; ``--pg URL`` puts it on a fresh database made on that
PostgreSQL server (dropped afterwards). Everything is built anew in the bench directory and
removed at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import (
    BENCH_KDF,
    DETAILS,
    PASSWORD,
    RECEPTION,
    Stopwatch,
    bench_root,
    machine_note,
    percentile,
    ratio,
    remove_folder,
    summary,
    table,
    verdict,
)
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from clinicdesk.demo.people import PeopleGenerator
from clinicdesk.permissions import Role
from clinicdesk.services.access import AdminAccount, ClinicSession, create_clinic, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.sync import desk
from clinicdesk.sync.protocol import MAX_PULL, MAX_PUSH
from clinicdesk.sync.runner import SyncRunner
from clinicdesk.sync.server.database import normalized_url, sqlite_url
from clinicdesk.sync.server.models import Change
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import RunningServer, libpq_url

TARGET_PUSH_S = 15.0  # for 100,000 patient rows
TARGET_PULL_S = 10.0  # for 100,000 patient rows
TARGET_P95_S = 2.0
TARGET_ROWS = 100_000
OWNER = "owner"


# ---------------------------------------------------------------- the server and the desks


def make_pg_database(url: str) -> tuple[str, str]:
    """A fresh database on the PostgreSQL server at ``url``: (its URL, its name)."""
    import psycopg

    name = f"clinicdesk_bench_{secrets.token_hex(6)}"
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return libpq_url(make_url(url).set(database=name).render_as_string(hide_password=False)), name


def drop_pg_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def make_clinic(folder: Path) -> None:
    """The clinic at desk A: its owner and a receptionist (each desk signs in as its own
    person: one account signed in at two desks changes its row at both)."""
    create_clinic(folder, DETAILS, AdminAccount(OWNER, "Olive Owner", PASSWORD), kdf=BENCH_KDF)
    session = sign_in(folder, OWNER, PASSWORD)
    try:
        session.users.create(
            session.actor,
            RECEPTION,
            "Priya Shah",
            {Role.RECEPTIONIST},
            PASSWORD,
            must_change_password=False,
        )
    finally:
        session.close()


def connect_desks(server: RunningServer, a: ClinicSession, b: ClinicSession) -> None:
    """A makes the clinic's space; B joins it with a device of its own."""
    made = server.operator(
        "/v1/clinics",
        {"clinic_id": a.slots.clinic_id, "clinic_name": DETAILS.name, "device_name": "Front desk"},
    )
    made.raise_for_status()
    answer = made.json()
    pem = server.cert.read_bytes()
    desk.connect(a.store, server.url, answer["device_id"], answer["token"], answer["epoch"], pem)
    store = ServerStore(server.db_url)
    try:
        second = store.add_device(a.slots.clinic_id, "Doctor's room")
        epoch = store.epoch()
    finally:
        store.close()
    desk.connect(b.store, server.url, second.device_id, second.token, epoch, pem)


def client_of(session: ClinicSession):
    link = desk.connection(session.store)
    assert link is not None
    return link.client()


def profiled(call, enabled: bool, top: int = 25):
    """``call()``, under cProfile when ``enabled``; returns (result, report text)."""
    if not enabled:
        return call(), ""
    profile = cProfile.Profile()
    result = profile.runcall(call)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return result, out.getvalue()


class ServerProfile:
    """py-spy sampling the server's process while a figure is measured (with ``--profile``,
    when py-spy is on PATH): the functions it spent its busy samples in."""

    def __init__(self, server: RunningServer, enabled: bool, name: str) -> None:
        self.path = server.folder / f"py-spy-{name}.txt"
        self.pid = server.process.pid if server.process else 0
        self.enabled = enabled and shutil.which("py-spy") is not None
        self.spy: subprocess.Popen | None = None
        self.report = ""

    def __enter__(self) -> ServerProfile:
        if self.enabled:
            command = ["py-spy", "record", "-p", str(self.pid), "-f", "raw", "-r", "200"]
            self.spy = subprocess.Popen(
                [*command, "-o", str(self.path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)  # attached before the work starts
        return self

    def __exit__(self, *exc: object) -> None:
        if self.spy is None:
            return
        self.spy.send_signal(signal.SIGINT)
        self.spy.wait(timeout=60)
        if self.path.exists():
            self.report = collapsed_summary(self.path.read_text())

    def print(self, title: str) -> None:
        if self.report:
            print(f"\nPROFILE: {title} (server process, py-spy)\n{self.report}")


# a thread waiting (the event loop for a socket, the worker threads for work), not working
IDLE = ("Selector.select (selectors.py)", "Condition.wait (threading.py)")


def collapsed_summary(text: str, top: int = 20) -> str:
    """Where a py-spy recording's busy samples went: own time and time inside, per function."""
    own: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    busy = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        if frames[-1].endswith(IDLE):
            continue
        n = int(count)
        busy += n
        own[frames[-1]] += n
        for frame in set(frames):
            inside[frame] += n
    if not busy:
        return "(no busy samples)"
    lines = [f"{busy} busy samples; own time:"]
    lines += [f"  {100 * n / busy:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("time inside (clinicdesk and the web stack):")
    ours = [(f, n) for f, n in inside.most_common() if "clinicdesk/" in f or "starlette" in f]
    lines += [f"  {100 * n / busy:5.1f}%  {f}" for f, n in ours[:top]]
    return "\n".join(lines)


# ---------------------------------------------------------------- (1) bootstrap


def fetch_all(session: ClinicSession) -> tuple[int, int]:
    """Every page of the clinic's log from the start, not applied: (changes, requests)."""
    client = client_of(session)
    after, changes, requests = 0, 0, 0
    try:
        while True:
            page = client.pull(after, MAX_PULL)
            requests += 1
            changes += len(page.changes)
            if page.changes:
                after = page.changes[-1].seq
            if not page.more:
                return changes, requests
    finally:
        client.close()


def select_log(db_url: str, clinic_id: str) -> int:
    """The clinic's whole change log read with one plain SELECT on the server's database."""
    engine = create_engine(normalized_url(db_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Change).where(Change.clinic_id == clinic_id).order_by(Change.seq)
            ).all()
        return len(rows)
    finally:
        engine.dispose()


def log_size(db_url: str, clinic_id: str) -> int:
    engine = create_engine(normalized_url(db_url))
    try:
        with engine.connect() as conn:
            return conn.scalar(
                select(func.count()).select_from(Change).where(Change.clinic_id == clinic_id)
            )
    finally:
        engine.dispose()


# ---------------------------------------------------------------- (2) latency


class Arrivals:
    """When B's change feed told of each patient row."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.cond = threading.Condition()

    def __call__(self, change) -> None:
        now = time.perf_counter()
        with self.cond:
            for table_name, row_id in change.entities:
                if table_name == "patients":
                    self.seen.setdefault(row_id, now)
            self.cond.notify_all()

    def wait(self, row_id: str, timeout: float) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: row_id in self.seen, timeout)
            return self.seen.get(row_id)


def latency(
    a: ClinicSession, b: ClinicSession, changes: int, seed: int
) -> tuple[list[float], list[float], list[float], int]:
    """(A's change to B's feed, s; A's register alone, s; GET /v1/devices, s; lost)."""
    arrivals = Arrivals()
    unsubscribe = b.store.changes.subscribe(arrivals)
    runners = [SyncRunner(s.store, s.payload_cipher) for s in (a, b)]  # the desk's long poll
    for runner in runners:
        runner.start()
    probe = client_of(b)
    rng = random.Random(seed)
    shown, commits, trips, lost = [], [], [], 0
    try:
        probe.devices()  # the probe's connection is made (kept alive, as a running desk's)
        time.sleep(1.0)  # both long polls are waiting
        for i in range(changes):
            time.sleep(rng.uniform(0.3, 1.0))  # anywhere in B's long poll
            start = time.perf_counter()
            patient = a.patients.register(
                a.actor,
                PatientInput(f"Sync{i}", "Latencytest", date(1980, 5, 17), "female"),
                not_a_duplicate=True,
            )
            committed = time.perf_counter()
            arrived = arrivals.wait(patient.id, 30)
            if arrived is None:
                lost += 1
            else:
                shown.append(arrived - start)
            commits.append(committed - start)
            time.sleep(rng.uniform(0.1, 0.3))
            with Stopwatch() as trip:
                probe.devices()
            trips.append(trip.seconds)
    finally:
        probe.close()
        for runner in runners:
            runner.stop()
        unsubscribe()
    return shown, commits, trips, lost


# ---------------------------------------------------------------- the run


def environment(args, server: RunningServer) -> list[str]:
    backend = "SQLite (WAL, synchronous=FULL)"
    if args.pg:
        backend = f"PostgreSQL {pg_version(server.db_url)}"
    return [
        machine_note(),
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}",
        f"server: clinicdesk server run on {server.url} (TLS, a process of its own); "
        f"its database: {backend}",
        f"desks: SQLCipher clinics in {bench_root()}; pull pages of {MAX_PULL}, "
        f"push batches of {MAX_PUSH}",
    ]


def run(args: argparse.Namespace) -> int:
    work = bench_root() / f"sync-{os.getpid()}"
    remove_folder(work)
    work.mkdir(parents=True)
    # the desks' local state (the audit log's witness) in the run's folder, not the account's;
    # the three copies of one clinic share this one workstation's witness, so signing out of
    # the copies logs "audit log disagrees with this workstation's witness": expected here
    os.environ["XDG_STATE_HOME"] = str(work / "state")
    pg_name = ""
    server: RunningServer | None = None
    sessions: list[ClinicSession] = []
    try:
        if args.pg:
            db_url, pg_name = make_pg_database(args.pg)
            server = RunningServer(work / "server", db_url, "postgresql")
        else:
            server = RunningServer(work / "server", sqlite_url(work / "server"), "sqlite")
        server.folder.mkdir()
        server.init()
        server.start()

        n = args.patients
        print(f"Sync benchmark: {n:,} patients, {args.changes} changes, seed {args.seed}")
        for line in environment(args, server):
            print(line)

        folder_a, folder_b, folder_c = work / "desk-a", work / "desk-b", work / "desk-c"
        make_clinic(folder_a)
        shutil.copytree(folder_a, folder_b)  # B: the clinic, its accounts, its key; no patients
        shutil.copytree(folder_a, folder_c)  # the baseline's desk, never connected
        a = sign_in(folder_a, OWNER, PASSWORD)
        sessions.append(a)
        b = sign_in(folder_b, RECEPTION, PASSWORD)
        sessions.append(b)
        connect_desks(server, a, b)
        desk.sync(a.store, a.payload_cipher())  # the clinic's set-up reaches the server

        records = PeopleGenerator(args.seed).patients(n)
        with Stopwatch() as imported:
            a.patients.import_many(a.actor, records)
        waiting = desk.waiting(a.store)
        print(f"\nA imported {n:,} patients in {imported.seconds:.1f} s; {waiting:,} to push")

        client = client_of(a)
        try:
            with ServerProfile(server, args.profile, "push") as server_push, Stopwatch() as pushed:
                sent, push_profile = profiled(
                    lambda: desk.push(a.store, client, a.payload_cipher()), args.profile
                )
        finally:
            client.close()
        print(f"A pushed {sent:,} changes in {pushed.seconds:.2f} s")
        clinic_id = a.slots.clinic_id

        # B: a new desk. What it has of the set-up is already on the server (taken once).
        client = client_of(b)
        try:
            desk.push(b.store, client, b.payload_cipher())
        finally:
            client.close()
        family = records[-1].family_name
        client = client_of(b)
        try:
            with ServerProfile(server, args.profile, "pull") as server_pull, Stopwatch() as pulled:
                done, pull_profile = profiled(
                    lambda: desk.pull(b.store, client, b.payload_cipher()), args.profile
                )
        finally:
            client.close()
        with Stopwatch() as searched:
            found = b.patients.search(b.actor, family)
        first_search = pulled.seconds + searched.seconds
        print(
            f"B pulled {done.applied:,} applied, {done.unchanged:,} unchanged, "
            f"{done.conflicts} conflicts, {len(done.unreadable)} unreadable in "
            f"{pulled.seconds:.2f} s; its first search ({family!r}) found {len(found)} in "
            f"{searched.seconds * 1000:.0f} ms"
        )
        if not found or done.conflicts or done.unreadable:
            print("B did not end up with A's patients: the figures below are not meaningful")

        # baselines, same run
        c = sign_in(folder_c, OWNER, PASSWORD)
        sessions.append(c)
        with Stopwatch() as direct:
            c.patients.import_many(c.actor, records)
        with Stopwatch() as fetched:
            fetched_changes, fetch_requests = fetch_all(b)
        with Stopwatch() as selected:
            selected_rows = select_log(server.db_url, clinic_id)
        log_rows = log_size(server.db_url, clinic_id)
        print(
            f"Baselines: the same patients imported at a third copy in {direct.seconds:.2f} s; "
            f"{fetched_changes:,} changes fetched in {fetch_requests} pages without applying in "
            f"{fetched.seconds:.2f} s; one SELECT of the server's {selected_rows:,} log rows in "
            f"{selected.seconds:.2f} s"
        )

        # A has its own changes to take back before it runs like a desk (its cursor is at 0)
        with Stopwatch() as caught_up:
            back = desk.sync(a.store, a.payload_cipher())
        print(
            f"A pulled back its own {back.unchanged + back.applied:,} changes "
            f"({back.unchanged:,} unchanged) in {caught_up.seconds:.2f} s"
        )

        print(f"\nLatency: {args.changes} patients registered at A, each until B's feed shows it")
        shown, commits, trips, lost = latency(a, b, args.changes, args.seed + 1)
        if lost:
            print(f"{lost} changes never reached B within 30 s")

        scale = TARGET_ROWS / n
        push_target = TARGET_PUSH_S / scale
        pull_target = TARGET_PULL_S / scale
        ms = 1000
        print()
        print(
            table(
                ("what", "n", "p50 ms", "p95 ms", "max ms"),
                [
                    (
                        "A registers -> B's change feed",
                        len(shown),
                        f"{percentile(shown, 50) * ms:.0f}",
                        f"{percentile(shown, 95) * ms:.0f}",
                        f"{max(shown, default=float('nan')) * ms:.0f}",
                    ),
                    (
                        "of which A's register (commit)",
                        len(commits),
                        f"{percentile(commits, 50) * ms:.1f}",
                        f"{percentile(commits, 95) * ms:.1f}",
                        f"{max(commits) * ms:.1f}",
                    ),
                    (
                        "GET /v1/devices round trip",
                        len(trips),
                        f"{percentile(trips, 50) * ms:.1f}",
                        f"{percentile(trips, 95) * ms:.1f}",
                        f"{max(trips) * ms:.1f}",
                    ),
                ],
                "Change latency",
            )
        )
        if push_profile:
            print("\nPROFILE: A's push (desk side, cProfile)\n" + push_profile)
        server_push.print("A's push")
        if pull_profile:
            print("\nPROFILE: B's pull (desk side, cProfile)\n" + pull_profile)
        server_pull.print("B's pull")

        print()
        rate = f"{n / pushed.seconds:,.0f}/s"
        print(
            summary(
                [
                    (
                        f"push {sent:,} changes, s",
                        f"{pushed.seconds:.2f}",
                        f"{imported.seconds:.2f}",
                        ratio(pushed.seconds, imported.seconds),
                        f"<= {push_target:.1f} s",
                        verdict(pushed.seconds <= push_target),
                    ),
                    ("push rate, patients", rate, "", "", "", ""),
                    (
                        f"new desk: pull {log_rows:,} changes, s",
                        f"{pulled.seconds:.2f}",
                        f"{direct.seconds:.2f}",
                        ratio(pulled.seconds, direct.seconds),
                        f"<= {pull_target:.1f} s",
                        verdict(pulled.seconds <= pull_target),
                    ),
                    (
                        "new desk: pull + first search, s",
                        f"{first_search:.2f}",
                        f"{direct.seconds:.2f}",
                        ratio(first_search, direct.seconds),
                        "",
                        "",
                    ),
                    (
                        "pull vs pages fetched, not applied, s",
                        f"{pulled.seconds:.2f}",
                        f"{fetched.seconds:.2f}",
                        ratio(pulled.seconds, fetched.seconds),
                        "",
                        "",
                    ),
                    (
                        "pull vs one SELECT of the log, s",
                        f"{pulled.seconds:.2f}",
                        f"{selected.seconds:.2f}",
                        ratio(pulled.seconds, selected.seconds),
                        "",
                        "",
                    ),
                    (
                        "change A -> B's feed p50, ms",
                        f"{percentile(shown, 50) * ms:.0f}",
                        f"{percentile(trips, 50) * ms:.1f}",
                        ratio(percentile(shown, 50), percentile(trips, 50)),
                        "",
                        "",
                    ),
                    (
                        "change A -> B's feed p95, ms",
                        f"{percentile(shown, 95) * ms:.0f}",
                        f"{percentile(trips, 95) * ms:.1f}",
                        ratio(percentile(shown, 95), percentile(trips, 95)),
                        f"<= {TARGET_P95_S * ms:.0f} ms",
                        verdict(not lost and percentile(shown, 95) <= TARGET_P95_S),
                    ),
                ],
                f"SUMMARY: sync at {n:,} patients, server on "
                f"{'PostgreSQL' if args.pg else 'SQLite'} (baselines: push = A's own import; "
                "pull = the same import at a third copy; latency = GET /v1/devices)",
            )
        )
        if n != TARGET_ROWS:
            print(
                f"Targets scaled from {TARGET_ROWS:,} patient rows to {n:,} "
                f"(push {TARGET_PUSH_S:.0f} s, pull {TARGET_PULL_S:.0f} s)."
            )
    finally:
        for session in sessions:
            session.close()
        if server is not None:
            server.stop()
        if pg_name:
            drop_pg_database(args.pg, pg_name)
        if not args.keep:
            remove_folder(work)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=TARGET_ROWS)
    parser.add_argument("--changes", type=int, default=50, help="single changes timed A -> B")
    parser.add_argument("--pg", metavar="URL", help="run the server on PostgreSQL at URL")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the desk's push and pull; py-spy the server meanwhile (if on PATH)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the desks' and server's folders")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

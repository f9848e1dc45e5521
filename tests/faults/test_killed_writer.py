"""The process killed in the middle of a write: the clinic reopens consistent and keeps every
change that was reported as saved."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinicdesk.services.access import sign_in
from clinicdesk.store.models import AuditEntry, Counter, OutboxEntry, Patient
from tests.conftest import ADMIN_PASSWORD

CHILD = Path(__file__).with_name("writer_child.py")
ROUNDS = 5
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run_and_kill(folder: Path, round_no: int, delay: float) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(folder), ADMIN_PASSWORD, str(round_no)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = child.stdout.readline()
        assert first.strip() == "ready", first + child.stderr.read()
        time.sleep(delay)
        assert child.poll() is None, child.stderr.read()
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    lines = out.splitlines()
    if lines and not out.endswith("\n"):
        lines.pop()  # a line cut off by the kill reports nothing
    return lines


@pytest.mark.long
def test_killed_mid_write_reopens_consistent_and_keeps_what_was_saved(clinic_dir):
    folder, _ = clinic_dir
    rng = random.Random(20261125)
    registered: set[str] = set()
    versions: dict[str, int] = {}
    for round_no in range(1, ROUNDS + 1):
        delay = rng.uniform(0.05, 0.5)
        lines = _run_and_kill(folder, round_no, delay)
        for line in lines:
            kind, mrn, *rest = line.split()
            if kind == "R":
                registered.add(mrn)
                versions.setdefault(mrn, 1)
            else:
                versions[mrn] = max(versions.get(mrn, 0), int(rest[0]))
        assert (folder / "clinic.db-wal").exists()  # it really died with its WAL open

        session = sign_in(folder, "admin", ADMIN_PASSWORD)
        try:
            with session.store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert conn.exec_driver_sql("PRAGMA cipher_integrity_check").all() == []
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            report = session.audit.verify(session.actor)
            assert report.intact, (round_no, delay, report.problems)
            with session.store.read() as s:
                saved = dict(s.execute(select(Patient.mrn, Patient.version)).all())
                counter = s.get(Counter, "mrn")
                registrations = s.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.action == "patient.register")
                )
                inserts = s.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.entity == "patients", OutboxEntry.op == "insert")
                )
                updates = s.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.entity == "patients", OutboxEntry.op == "update")
                )
            missing = registered - saved.keys()
            assert not missing, f"round {round_no}: reported saved but lost: {sorted(missing)}"
            behind = {m: (v, saved[m]) for m, v in versions.items() if saved[m] < v}
            assert not behind, f"round {round_no}: edits reported saved but lost: {behind}"
            # Each change committed whole: patient rows, their audit entries and outbox rows agree.
            assert len(saved) == registrations == inserts == (counter.value if counter else 0)
            assert updates == sum(v - 1 for v in saved.values())
        finally:
            session.close()
    print(f"{len(registered)} registrations, {sum(versions.values())} versions reported")
    assert len(registered) >= ROUNDS, "the child hardly wrote anything before each kill"

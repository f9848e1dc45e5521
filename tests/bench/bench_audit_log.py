"""Reading the audit log as an admin does, at a million entries.

A clinic whose log holds N entries (1,000,000 by default) spread over a year, written by ten
staff about 1,000 patients, each entry hashed into the chain as ``audit.append`` would, inserted
in bulk in one transaction. Timed through ``AuditService.page`` (the query, names resolved for
the page, actions in words), signed in as the admin: the first page; pages filtered by person,
by patient (typed name), by action and by a week's dates; the next page after the first; a page
half-way back. Baseline, alternating: a plain ``SELECT * FROM audit_log ORDER BY seq DESC LIMIT
100`` on the same database.

    uv run python tests/bench/bench_audit_log.py [--entries N] [--reps N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import insert, text

from clinicdesk.ids import utcnow
from clinicdesk.permissions import SYSTEM, Role
from clinicdesk.services.access import AdminAccount, create_clinic, sign_in
from clinicdesk.services.audit_log import AuditFilter
from clinicdesk.services.patients import PatientInput
from clinicdesk.store import audit
from clinicdesk.store.models import AuditEntry, Meta
from tests.bench.common import (
    BENCH_KDF,
    DETAILS,
    PASSWORD,
    Stopwatch,
    machine_note,
    median,
    percentile,
    ratio,
    summary,
    verdict,
)

TARGET_P95_MS = 50.0
STAFF = 10
PATIENTS = 1000
ABOUT_PATIENTS = ("patient.view", "chart.open", "patient.update", "chart.allergies")
OTHER = ("user.sign_in", "queue.check_in", "appointment.book", "visit.note", "stock.adjust")
BATCH = 20_000


def build(entries: int, folder: Path):
    create_clinic(folder, DETAILS, AdminAccount("admin", "Ada Admin", PASSWORD), BENCH_KDF)
    session = sign_in(folder, "admin", PASSWORD)
    staff = [
        session.users.create(
            session.actor, f"staff{i}", f"Staff Member {i}", {Role.RECEPTIONIST}, PASSWORD
        ).id
        for i in range(STAFF)
    ]
    patients = [
        session.patients.register(
            session.actor,
            PatientInput(f"Given{i}", f"Family{i}", date(1950, 1, 1) + timedelta(days=i), "female"),
            not_a_duplicate=True,
        ).id
        for i in range(PATIENTS)
    ]
    rng = random.Random(12)
    start = utcnow() - timedelta(days=365)
    step = timedelta(days=365) / entries
    with session.store.write(SYSTEM) as s:
        seq, prev = audit._parse_head(s.get(Meta, audit.HEAD_KEY).value)
        batch: list[dict] = []
        for i in range(entries):
            seq += 1
            actor = rng.choice(staff)
            if rng.random() < 0.6:
                action, entity = rng.choice(ABOUT_PATIENTS), "patients"
                entity_id = rng.choice(patients)
            else:
                action, entity, entity_id = rng.choice(OTHER), "users", actor
            row = SimpleNamespace(
                seq=seq,
                at=start + step * i,
                actor_id=actor,
                actor_name="Staff Member",
                action=action,
                entity=entity,
                entity_id=entity_id,
                detail=json.dumps({"n": i}),
                prev_hash=prev,
            )
            row.hash = prev = audit.entry_hash(row)
            batch.append(vars(row))
            if len(batch) == BATCH:
                s.execute(insert(AuditEntry), batch)
                batch = []
        if batch:
            s.execute(insert(AuditEntry), batch)
        s.get(Meta, audit.HEAD_KEY).value = f"{seq}:{prev}"
    return session, staff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="audit entries (1,000,000)")
    parser.add_argument("--reps", type=int, default=30, help="repetitions of each figure (30)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="clinicdesk-bench-auditlog-"))
    with Stopwatch() as building:
        session, staff = build(args.entries, root / "clinic")
    print(f"{args.entries:,} audit entries built in {building.seconds:.1f} s. {machine_note()}")
    service, actor = session.audit, session.actor
    newest = service.newest_seq(actor)
    first_page = service.page(actor)
    mid = utcnow().date() - timedelta(days=180)

    def plain() -> None:
        with session.store.read() as s:
            s.execute(text("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 100")).fetchall()

    figures: list[tuple[str, Callable[[], object]]] = [
        ("first page", lambda: service.page(actor)),
        ("by person", lambda: service.page(actor, AuditFilter(person_id=staff[3]))),
        (
            "by patient (name typed)",
            lambda: service.page(actor, AuditFilter(patient="Given999 Family999")),
        ),
        ("by action", lambda: service.page(actor, AuditFilter(action="queue.check_in"))),
        (
            "by a week's dates",
            lambda: service.page(actor, AuditFilter(since=mid, until=mid + timedelta(days=6))),
        ),
        ("next page", lambda: service.page(actor, before=first_page.rows[-1].seq)),
        ("a page half-way back", lambda: service.page(actor, before=newest // 2)),
    ]
    for name, call in figures:  # every figure finds entries: none is an empty shortcut
        assert call().rows, name
    times: dict[str, list[float]] = {name: [] for name, _ in figures}
    baseline: list[float] = []
    for _ in range(args.reps):
        for name, call in figures:
            with Stopwatch() as w:
                call()
            times[name].append(w.seconds * 1000)
            with Stopwatch() as w:
                plain()
            baseline.append(w.seconds * 1000)
    session.close()

    b50, b95 = median(baseline), percentile(baseline, 95)
    rows = []
    for name, values in times.items():
        p50, p95 = median(values), percentile(values, 95)
        rows.append((f"{name} p50, ms", f"{p50:.2f}", f"{b50:.2f}", ratio(p50, b50), "", ""))
        rows.append(
            (
                f"{name} p95, ms",
                f"{p95:.2f}",
                f"{b95:.2f}",
                ratio(p95, b95),
                f"<= {TARGET_P95_MS:.0f} ms",
                verdict(p95 <= TARGET_P95_MS),
            )
        )
    print()
    print(summary(rows, f"SUMMARY: 100 entries a page, {newest:,} in the log"))


if __name__ == "__main__":
    main()

"""The hash-chained audit log: every patient write and read is logged; tampering is named."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from clinicdesk.permissions import Role
from clinicdesk.services.patients import PatientInput
from clinicdesk.store import audit
from tests.conftest import ADMIN_PASSWORD


def _entries(session) -> list[tuple[int, str, str | None]]:
    with session.store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT seq, action, entity_id FROM audit_log ORDER BY seq"
            )
        ]


def _sql(session, statement: str, *params) -> None:
    with session.store.engine.begin() as conn:
        conn.exec_driver_sql(statement, params)


def _check(session) -> audit.ChainReport:
    with session.store.read() as s:
        return audit.verify(s)


@pytest.fixture
def history(admin):
    """A clinic with a few patients registered, edited and viewed; returns their ids."""
    ids = []
    for given, family, born in [
        ("Ines", "Okafor", date(1984, 2, 3)),
        ("Tomas", "Brandt", date(1950, 11, 30)),
        ("Lea", "Marchetti", date(2011, 7, 19)),
    ]:
        ids.append(
            admin.patients.register(admin.actor, PatientInput(given, family, born, "female")).id
        )
    rec = admin.patients.get(admin.actor, ids[1])
    admin.patients.update(
        admin.actor, rec.id, PatientInput(**{**rec.as_input().__dict__, "phone": "0171 555"}), 1
    )
    admin.patients.get(admin.actor, ids[2])
    return ids


def test_every_patient_write_and_read_appends_an_entry(admin, staff):
    doctor = staff(Role.DOCTOR)
    start = len(_entries(admin))
    p = doctor.patients.register(
        doctor.actor, PatientInput("Ines", "Okafor", date(1984, 2, 3), "female")
    )
    doctor.patients.get(doctor.actor, p.id)
    doctor.patients.update(
        doctor.actor, p.id, PatientInput("Ines", "Okafor-Bell", date(1984, 2, 3), "female"), 1
    )
    new = _entries(admin)[start:]
    assert [(a, e) for _, a, e in new] == [
        ("patient.register", p.id),
        ("patient.view", p.id),
        ("patient.update", p.id),
    ]
    with admin.store.engine.connect() as conn:
        actors = conn.exec_driver_sql(
            "SELECT DISTINCT actor_id FROM audit_log WHERE entity_id = ?", (p.id,)
        ).all()
    assert actors == [(doctor.actor.user_id,)]
    report = admin.audit.verify(admin.actor)
    assert report.intact and report.problems == []
    assert report.entries == len(new) + start


def test_an_altered_entry_is_named(admin, history):
    seq = next(s for s, a, _ in _entries(admin) if a == "patient.update")
    _sql(admin, "UPDATE audit_log SET detail = ? WHERE seq = ?", '{"fields": []}', seq)
    report = admin.audit.verify(admin.actor)
    assert not report.intact
    assert any(p.startswith(f"Audit entry {seq} (patient.update") for p in report.problems)
    assert any("altered" in p for p in report.problems)


def test_an_altered_entry_with_its_hash_recomputed_breaks_the_next_link(admin, history):
    """An entry rewritten with its hash recomputed (the scheme is known) still breaks the chain."""
    from clinicdesk.store.models import AuditEntry

    seq = next(s for s, a, _ in _entries(admin) if a == "patient.view")
    with admin.store.write() as s:
        entry = s.get(AuditEntry, seq)
        entry.entity_id = history[0]
        entry.hash = audit.entry_hash(entry)
    report = _check(admin)
    assert not report.intact
    assert any(f"entry {seq + 1} does not follow entry {seq}" in p for p in report.problems)


def test_a_removed_middle_entry_is_named(admin, history):
    entries = _entries(admin)
    seq = entries[len(entries) // 2][0]
    _sql(admin, "DELETE FROM audit_log WHERE seq = ?", seq)
    report = _check(admin)
    assert not report.intact
    assert any(f"Audit entry {seq} removed" in p for p in report.problems), report.problems


def test_several_removed_entries_are_named_as_a_range(admin, history):
    _sql(admin, "DELETE FROM audit_log WHERE seq IN (3, 4, 5)")
    report = _check(admin)
    assert any("entries 3 to 5 removed" in p for p in report.problems), report.problems


def test_a_removed_last_entry_is_caught_by_the_head(admin, history):
    last = _entries(admin)[-1][0]
    _sql(admin, "DELETE FROM audit_log WHERE seq = ?", last)
    report = _check(admin)
    assert not report.intact
    assert len(report.problems) == 1
    assert str(last) in report.problems[0] and "removed" in report.problems[0]


def test_a_replaced_last_entry_is_caught_by_the_head(admin, history):
    from clinicdesk.store.models import AuditEntry

    last = _entries(admin)[-1][0]
    with admin.store.write() as s:
        entry = s.get(AuditEntry, last)
        entry.detail = '{"note": "nothing to see"}'
        entry.hash = audit.entry_hash(entry)
    report = _check(admin)
    assert any(f"entry {last}, the newest, was replaced" in p for p in report.problems)


def test_the_audit_log_cannot_be_read_by_front_desk(staff):
    from clinicdesk.errors import PermissionDenied

    desk = staff(Role.RECEPTIONIST)
    with pytest.raises(PermissionDenied):
        desk.audit.verify(desk.actor)


def _cli(folder, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clinicdesk.cli", "--data-dir", str(folder), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_audit_verify_command_names_the_tampered_entry(admin, history):
    folder = admin.folder
    seq = next(s for s, a, _ in _entries(admin) if a == "patient.register")
    _sql(admin, "UPDATE audit_log SET actor_name = 'Somebody Else' WHERE seq = ?", seq)
    admin.close()

    out = _cli(folder, "audit-verify", stdin=ADMIN_PASSWORD + "\n")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Audit log damaged" in out.stdout
    assert f"Audit entry {seq} " in out.stdout

    wrong = _cli(folder, "audit-verify", stdin="not the password\n")
    assert wrong.returncode == 2
    assert "not correct" in wrong.stderr

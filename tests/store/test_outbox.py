"""Sync capture: each change of a synced row sets its sync columns and appends an outbox row in
the same transaction; a failed unit of work leaves neither."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.models import OutboxEntry, Patient

ANA = PatientInput("Ana", "Silva", date(1990, 1, 2), "female", phone="+351 912 345 678")


def _outbox(session, entity_id: str | None = None) -> list[OutboxEntry]:
    with session.store.read() as s:
        stmt = select(OutboxEntry).order_by(OutboxEntry.seq)
        if entity_id:
            stmt = stmt.where(OutboxEntry.entity_id == entity_id)
        return list(s.scalars(stmt))


def _count(session, model) -> int:
    with session.store.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def _assert_uuid7(text: str) -> None:
    assert uuid.UUID(text).version == 7, text


def test_register_and_edits_append_outbox_rows_with_growing_versions(admin):
    before = _outbox(admin)
    started = datetime.now(UTC)
    p = admin.patients.register(admin.actor, ANA)
    p2 = admin.patients.update(
        admin.actor, p.id, PatientInput(**{**ANA.__dict__, "email": "ana@example.org"}), 1
    )
    p3 = admin.patients.update(
        admin.actor, p.id, PatientInput(**{**ANA.__dict__, "address": "Rua Augusta 1"}), 2
    )
    assert (p.version, p2.version, p3.version) == (1, 2, 3)

    rows = _outbox(admin, p.id)
    assert [(r.entity, r.op, r.row_version) for r in rows] == [
        ("patients", "insert", 1),
        ("patients", "update", 2),
        ("patients", "update", 3),
    ]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert min(r.seq for r in rows) > max((r.seq for r in before), default=0)
    for r in rows:
        _assert_uuid7(r.op_id)
        assert r.pushed_at is None
        assert r.created_at.tzinfo is not None and r.created_at.utcoffset().total_seconds() == 0
        assert r.created_at >= started
    assert len({r.op_id for r in _outbox(admin)}) == len(_outbox(admin))

    # The payload is the row as saved: version and values travel with it.
    last = json.loads(rows[-1].payload)
    assert last["id"] == p.id and last["version"] == 3 and last["address"] == "Rua Augusta 1"
    assert json.loads(rows[0].payload)["address"] == ""

    # The edit history rows are synced too, each with its own insert.
    history_rows = [r for r in _outbox(admin) if r.entity == "patient_versions"]
    assert [r.op for r in history_rows] == ["insert", "insert"]


def test_sync_columns_are_set_by_the_unit_of_work(admin):
    started = datetime.now(UTC)
    a = admin.patients.register(admin.actor, ANA)
    b = admin.patients.register(
        admin.actor, PatientInput("Bruno", "Costa", date(1975, 5, 5), "male")
    )
    updated = admin.patients.update(
        admin.actor, a.id, PatientInput(**{**ANA.__dict__, "family_name": "Silva Reis"}), 1
    )
    for rec in (a, b):
        _assert_uuid7(rec.id)
    assert a.id < b.id  # time-ordered keys sort in creation order
    with admin.store.read() as s:
        row = s.get(Patient, a.id)
        assert row.version == 2
        assert row.deleted_at is None
        for stamp in (row.created_at, row.updated_at):
            assert stamp.tzinfo is not None and stamp.utcoffset().total_seconds() == 0
        assert started <= row.created_at <= row.updated_at <= datetime.now(UTC)
        assert row.created_at == a.created_at
        assert row.updated_at == updated.updated_at > a.updated_at


def test_a_failed_unit_of_work_leaves_neither_row_nor_outbox_entry(admin):
    admin.patients.register(admin.actor, ANA)
    patients, outbox = _count(admin, Patient), _count(admin, OutboxEntry)

    with pytest.raises(RuntimeError, match="power cut"), admin.store.write(admin.actor) as s:
        s.add(
            Patient(
                mrn="X-1",
                given_name="Ghost",
                family_name="Row",
                date_of_birth=date(2000, 1, 1),
                sex="male",
                sort_name="row ghost",
            )
        )
        s.flush()  # the outbox row is written here, then the work fails
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == outbox + 1
        raise RuntimeError("power cut")

    assert (_count(admin, Patient), _count(admin, OutboxEntry)) == (patients, outbox)


def test_a_constraint_failure_in_flush_rolls_back_the_outbox_too(admin):
    first = admin.patients.register(admin.actor, ANA)
    patients, outbox = _count(admin, Patient), _count(admin, OutboxEntry)
    with pytest.raises(IntegrityError), admin.store.write(admin.actor) as s:
        s.add(
            Patient(
                mrn=first.mrn,  # the MRN is unique per clinic
                given_name="Copy",
                family_name="Cat",
                date_of_birth=date(2000, 1, 1),
                sex="male",
                sort_name="cat copy",
            )
        )
    assert (_count(admin, Patient), _count(admin, OutboxEntry)) == (patients, outbox)


def test_refused_service_calls_write_no_outbox_rows(admin):
    p = admin.patients.register(admin.actor, ANA)
    outbox = _count(admin, OutboxEntry)
    with pytest.raises(ValidationError):
        admin.patients.update(
            admin.actor, p.id, PatientInput(**{**ANA.__dict__, "email": "not-an-email"}), 1
        )
    admin.patients.update(
        admin.actor, p.id, PatientInput(**{**ANA.__dict__, "email": "a@b.org"}), 1
    )
    outbox += 2  # the patient update and its history row
    with pytest.raises(Conflict):  # a stale edit from a second desk
        admin.patients.update(
            admin.actor, p.id, PatientInput(**{**ANA.__dict__, "email": "c@d.org"}), 1
        )
    # Saving without a change bumps no version and queues nothing.
    same = admin.patients.update(
        admin.actor, p.id, PatientInput(**{**ANA.__dict__, "email": "a@b.org"}), 2
    )
    assert same.version == 2
    assert _count(admin, OutboxEntry) == outbox


def test_synced_rows_are_never_hard_deleted(admin):
    p = admin.patients.register(admin.actor, ANA)
    with pytest.raises(RuntimeError, match="tombstone"), admin.store.write(admin.actor) as s:
        s.delete(s.get(Patient, p.id))
        s.flush()
    assert admin.patients.get(admin.actor, p.id).id == p.id


def test_tombstone_is_captured_as_a_delete(admin):
    p = admin.patients.register(admin.actor, ANA)
    with admin.store.write(admin.actor) as s:
        s.get(Patient, p.id).deleted_at = datetime.now(UTC)
    last = _outbox(admin, p.id)[-1]
    assert (last.op, last.row_version) == ("delete", 2)
    assert admin.patients.count(admin.actor) == 0


def test_bulk_import_writes_one_outbox_row_per_patient(admin):
    people = [
        PatientInput(f"Given{i}", f"Family{i}", date(1980, 1, 1 + i), "other") for i in range(20)
    ]
    outbox = _count(admin, OutboxEntry)
    assert len(admin.patients.import_many(admin.actor, people)) == 20
    rows = _outbox(admin)[outbox:]
    assert len(rows) == 20
    assert {(r.entity, r.op, r.row_version) for r in rows} == {("patients", "insert", 1)}
    with admin.store.read() as s:
        ids = set(s.scalars(select(Patient.id)))
    assert {r.entity_id for r in rows} == ids
    for r in rows:
        _assert_uuid7(r.entity_id)

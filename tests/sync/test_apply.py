"""Changes pulled from the server applied to a desk's copy: in one transaction with the cursor,
never captured again, never written over a change of this desk's, and refused when altered."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.booking import SlotUnavailable
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.models import Meta, OutboxEntry, SyncConflict
from clinicdesk.sync import apply, desk
from clinicdesk.sync.apply import DEVICE, apply_page, cursor, set_meta
from clinicdesk.sync.protocol import PulledChange, WireChange
from tests.conftest import ADMIN_PASSWORD
from tests.ui.scheduling_setup import make_practice


def unpushed(session: ClinicSession, after: int = 0) -> list[PulledChange]:
    """This desk's outbox as the server would relay it (sealed, numbered)."""
    cipher = session.payload_cipher()
    with session.store.read() as s:
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.seq > after)).all()
        return [
            PulledChange(
                r.seq,
                "desk-a",
                WireChange(
                    r.op_id,
                    r.entity,
                    r.entity_id,
                    r.row_version,
                    r.op == "delete",
                    cipher.generation,
                    cipher.seal(
                        r.entity, r.entity_id, r.row_version, r.op == "delete", r.payload.encode()
                    ),
                ),
            )
            for r in rows
        ]


def outbox_size(session: ClinicSession) -> int:
    with session.store.read() as s:
        return s.scalar(select(func.count()).select_from(OutboxEntry)) or 0


@pytest.fixture
def desks(clinic_dir, tmp_path: Path):
    """Two desks of one clinic: B starts as a copy of A (as a desk does after joining)."""
    folder, _ = clinic_dir
    a = sign_in(folder, "admin", ADMIN_PASSWORD)
    a.close()
    copy = tmp_path / "desk-b"
    shutil.copytree(folder, copy)
    a, b = sign_in(folder, "admin", ADMIN_PASSWORD), sign_in(copy, "admin", ADMIN_PASSWORD)
    yield a, b
    a.close()
    b.close()


def newest(session: ClinicSession) -> int:
    with session.store.read() as s:
        return s.scalar(select(func.max(OutboxEntry.seq))) or 0


def register(session: ClinicSession, given: str, family: str) -> str:
    return session.patients.register(
        session.actor,
        PatientInput(given, family, date(1980, 5, 17), "female"),
        not_a_duplicate=True,
    ).id


def test_a_patient_made_at_one_desk_is_found_at_the_other_and_not_sent_back(desks):
    a, b = desks
    start, b_outbox = newest(a), outbox_size(b)
    patient = register(a, "Chloé", "Moreau")
    page = unpushed(a, start)
    seen = []
    b.store.changes.subscribe(seen.append)

    report = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)

    assert report.applied == len(page) and report.conflicts == 0 and not report.unreadable
    (found,) = b.patients.search(b.actor, "moreau")
    assert found.id == patient and found.given_name == "Chloé"
    assert outbox_size(b) == b_outbox  # applied rows are never pushed again from here
    assert cursor(b.store) == page[-1].seq
    assert any(("patients", patient) in change.entities for change in seen)

    again = apply_page(
        b.store, b.payload_cipher(), page, after=page[-1].seq
    )  # a page applied twice
    assert again.applied == 0 and again.conflicts == 0
    assert len(b.patients.search(b.actor, "moreau")) == 1


def test_a_change_meeting_an_unpushed_change_here_is_kept_beside_it(desks):
    a, b = desks
    start = newest(a)
    patient = register(a, "Chloé", "Moreau")
    first = unpushed(a, start)
    apply_page(b.store, b.payload_cipher(), first, after=first[-1].seq)
    b_start = newest(b)
    view = a.patients.get(a.actor, patient)
    a.patients.update(
        a.actor,
        patient,
        PatientInput("Chloé", "Moreau-Blanc", date(1980, 5, 17), "female"),
        view.version,
    )
    seen_b = b.patients.get(b.actor, patient)
    b.patients.update(
        b.actor,
        patient,
        PatientInput("Chloe", "Moreau", date(1980, 5, 17), "female"),
        seen_b.version,
    )
    assert newest(b) > b_start  # B's edit waits to be pushed

    edit = unpushed(a, first[-1].seq)
    told = []
    b.store.changes.subscribe(told.append)
    report = apply_page(b.store, b.payload_cipher(), edit, after=edit[-1].seq)

    assert report.conflicts >= 1
    assert b.patients.get(b.actor, patient).given_name == "Chloe"  # B's own edit stands
    with b.store.read() as s:
        kept = s.scalars(select(SyncConflict).where(SyncConflict.entity_id == patient)).all()
    assert kept and "Moreau-Blanc" in kept[0].remote_payload and "Chloe" in kept[0].local_payload
    assert kept[0].reason == "changed here too and not yet sent"
    with b.store.read() as s:
        reasons = sorted(s.scalars(select(SyncConflict.reason)))
    # the history line of A's edit meets B's own version 2 of that history: kept aside too
    assert reasons == [
        "changed here too and not yet sent",
        "clashes with a row here (patient_versions.patient_id, patient_versions.patient_version)",
    ]
    with b.store.read() as s:
        clash = s.scalar(select(SyncConflict.entity_id).where(SyncConflict.entity != "patients"))
    assert clash not in {row for change in told for _, row in change.entities}  # undone alone
    apply_page(b.store, b.payload_cipher(), edit, after=edit[-1].seq)  # the same page again
    with b.store.read() as s:
        assert s.scalar(select(func.count()).select_from(SyncConflict)) == len(reasons)


def test_an_altered_payload_is_refused_and_the_rest_of_the_page_applies(desks):
    a, b = desks
    start = newest(a)
    kept_id = register(a, "Amara", "Adebayo")
    middle = newest(a)
    altered_id = register(a, "Hugo", "Dubois")
    page = unpushed(a, start)
    damaged = []
    for p in page:
        c = p.change
        if p.seq > middle and c.entity == "patients":
            flipped = c.payload[:-1] + bytes([c.payload[-1] ^ 1])
            c = WireChange(c.op_id, c.entity, c.entity_id, c.version, c.deleted, c.key_gen, flipped)
        damaged.append(PulledChange(p.seq, p.device_id, c))

    report = apply_page(b.store, b.payload_cipher(), damaged, after=damaged[-1].seq)

    assert (
        len(report.unreadable) == 1
        and "does not open with the clinic's key" in report.unreadable[0]
    )
    assert [p.id for p in b.patients.search(b.actor, "adebayo")] == [kept_id]
    assert b.patients.search(b.actor, "dubois") == []
    assert altered_id


def test_a_booking_from_another_desk_holds_its_time_and_a_double_booking_is_kept_aside(
    clinic_dir, tmp_path: Path
):
    folder, _ = clinic_dir
    first = sign_in(folder, "admin", ADMIN_PASSWORD)
    practice = make_practice(first)
    olga, ines, pia = (practice.patient(n) for n in ("Olga", "Ines", "Pia"))
    first.close()
    shutil.copytree(folder, tmp_path / "desk-b")
    a = sign_in(folder, "admin", ADMIN_PASSWORD)
    b = sign_in(tmp_path / "desk-b", "admin", ADMIN_PASSWORD)
    try:
        at_a, at_b = replace(practice, session=a), replace(practice, session=b)
        monday = practice.monday
        start = newest(a)
        at_a.book(olga, monday, "09:00")
        at_b.book(ines, monday, "09:00")  # the same time, booked while the desks were apart
        at_a.book(olga, monday, "10:00")
        page = unpushed(a, start)

        report = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)

        with b.store.read() as s:
            reasons = set(s.scalars(select(SyncConflict.reason)))
        assert "its time is taken by a booking here" in reasons
        day = b.appointments.day(b.actor, monday, [practice.doctor_id])
        assert sorted((x.patient_name, x.starts_at) for x in day) == [
            ("Ines Berg", practice.at(monday, "09:00")),
            ("Olga Berg", practice.at(monday, "10:00")),
        ]
        assert report.applied > 0
        with pytest.raises(SlotUnavailable):  # the booking that arrived holds its time here
            at_b.book(pia, monday, "10:00")
    finally:
        a.close()
        b.close()


def test_a_push_takes_as_many_changes_as_fit_one_request():
    def change(n: int, size: int) -> WireChange:
        return WireChange(f"op-{n}", "patients", f"row-{n}", 1, False, 1, bytes(size))

    big = desk.BATCH_BYTES // 3
    changes = [change(n, big) for n in range(5)]
    assert [c.op_id for c in desk.first_batch(changes)] == ["op-0", "op-1", "op-2"]
    alone = [change(0, desk.BATCH_BYTES * 2), change(1, 100)]
    assert [c.op_id for c in desk.first_batch(alone)] == ["op-0"]  # never stuck behind a large one


def test_a_change_kept_aside_is_not_announced_to_the_screens(clinic_dir, tmp_path: Path):
    """The feed tells open screens only of rows the page kept: a double booking undone alone
    (its savepoint rolled back) is not announced, the bookings that arrived are."""
    folder, _ = clinic_dir
    first = sign_in(folder, "admin", ADMIN_PASSWORD)
    practice = make_practice(first)
    olga, ines = practice.patient("Olga"), practice.patient("Ines")
    first.close()
    shutil.copytree(folder, tmp_path / "desk-b")
    a = sign_in(folder, "admin", ADMIN_PASSWORD)
    b = sign_in(tmp_path / "desk-b", "admin", ADMIN_PASSWORD)
    try:
        at_a, at_b = replace(practice, session=a), replace(practice, session=b)
        monday = practice.monday
        start = newest(a)
        clashing = at_a.book(olga, monday, "09:00").id
        at_b.book(ines, monday, "09:00")  # the same time, booked while the desks were apart
        arriving = at_a.book(olga, monday, "10:00").id
        page = unpushed(a, start)
        told = []
        b.store.changes.subscribe(told.append)

        report = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)

        with b.store.read() as s:
            kept = set(s.scalars(select(SyncConflict.entity_id)))
        assert clashing in kept and report.conflicts == len(kept)
        announced = {row for change in told for row in change.entities}
        assert ("appointments", arriving) in announced
        assert ("appointments", clashing) not in announced, "a booking kept aside was announced"
    finally:
        a.close()
        b.close()


def test_what_the_feed_announces_can_be_read_when_it_is_told(desks):
    """A screen reloads as soon as the feed tells it: the page has committed by then, so the
    patient that arrived is found (told at a savepoint's end, a reload found nothing)."""
    a, b = desks
    start = newest(a)
    register(a, "Hugo", "Dubois")
    page = unpushed(a, start)
    found_when_told = []
    b.store.changes.subscribe(
        lambda change: (
            any(t == "patients" for t, _ in change.entities)
            and found_when_told.append(len(b.patients.search(b.actor, "dubois")))
        )
    )

    apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)

    assert found_when_told and all(found_when_told), found_when_told


def relayed(changes: list[PulledChange]) -> list[PulledChange]:
    """Changes as one page of the server's log: numbered in the order given."""
    return [PulledChange(n, p.device_id, p.change) for n, p in enumerate(changes, start=1)]


def as_device(changes: list[PulledChange], device_id: str) -> list[PulledChange]:
    return [PulledChange(p.seq, device_id, p.change) for p in changes]


def damaged(p: PulledChange) -> PulledChange:
    c = p.change
    flipped = c.payload[:-1] + bytes([c.payload[-1] ^ 1])
    altered = WireChange(c.op_id, c.entity, c.entity_id, c.version, c.deleted, c.key_gen, flipped)
    return PulledChange(p.seq, p.device_id, altered)


def rename(session: ClinicSession, patient_id: str, given: str, family: str) -> None:
    view = session.patients.get(session.actor, patient_id)
    data = PatientInput(given, family, date(1980, 5, 17), "female")
    session.patients.update(session.actor, patient_id, data, view.version)


def set_device(session: ClinicSession, device_id: str) -> None:
    with session.store.write() as s:
        set_meta(s, DEVICE, device_id)


def names(session: ClinicSession, query: str) -> list[str]:
    return [p.full_name for p in session.patients.search(session.actor, query)]


def test_a_page_of_new_rows_updates_own_echoes_and_an_unreadable_change_applies_at_once(desks):
    a, b = desks
    start = newest(a)
    known = register(a, "Oskar", "Oldname")
    first = unpushed(a, start)
    apply_page(b.store, b.payload_cipher(), first, after=first[-1].seq)
    set_device(b, "desk-b")
    b_start = newest(b)
    mine = register(b, "Bea", "Localone")  # B's own, come back through the server
    echoes = as_device(unpushed(b, b_start), "desk-b")
    a_start = newest(a)
    elsewhere = register(a, "Fay", "Filler")  # not in the page: A's record numbers run ahead
    rename(a, known, "Oskar", "Renamed")  # an update of a row B holds
    twice = register(a, "Quinn", "Firstname")
    rename(a, twice, "Quinn", "Secondname")  # a row new in the page, and changed again in it
    lost = register(a, "Lars", "Unreadable")
    fresh = register(a, "Vera", "Newrow")
    from_a = [p for p in unpushed(a, a_start) if p.change.entity_id != elsewhere]
    lost_change = next(p for p in from_a if p.change.entity_id == lost)
    page = relayed(echoes + [damaged(p) if p is lost_change else p for p in from_a])
    b_outbox, seen = outbox_size(b), []
    b.store.changes.subscribe(seen.append)

    report = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)

    assert report.conflicts == 0
    (unreadable,) = report.unreadable
    assert unreadable.startswith(f"Change {page[len(echoes) + from_a.index(lost_change)].seq}:")
    assert report.unchanged == len(echoes)
    assert report.applied == len(from_a) - 1
    assert names(b, "renamed") == ["Oskar Renamed"] and names(b, "oldname") == []
    assert names(b, "secondname") == ["Quinn Secondname"] and names(b, "firstname") == []
    assert names(b, "newrow") == ["Vera Newrow"] and names(b, "localone") == ["Bea Localone"]
    assert names(b, "unreadable") == []
    assert outbox_size(b) == b_outbox  # nothing that arrived goes out again from here
    assert cursor(b.store) == page[-1].seq
    told = set().union(*(change.entities for change in seen))
    assert {("patients", known), ("patients", twice), ("patients", fresh)} <= told
    assert len(seen) == 1  # once, after the page committed
    # the record numbers that arrived are not given again here
    taken = {b.patients.get(b.actor, i).mrn for i in (known, mine, twice, fresh)}
    assert b.patients.get(b.actor, register(b, "Nina", "Next")).mrn not in taken

    with b.store.write() as s:
        set_meta(s, apply.CATCHING_UP, "1")  # the log pulled again from its start (a restore)
    again = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)
    assert again.applied == 0 and again.conflicts == 0
    assert names(b, "secondname") == ["Quinn Secondname"]
    with b.store.write() as s:
        s.delete(s.get(Meta, apply.CATCHING_UP))
    # not replaying: the first version of Quinn, below the second here, was made apart
    again = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)
    assert again.applied == 0 and again.conflicts == 1
    with b.store.read() as s:
        kept = s.execute(select(SyncConflict.entity_id, SyncConflict.reason)).all()
    assert kept == [(twice, "made from an older version, while this desk went on from another")]
    assert names(b, "secondname") == ["Quinn Secondname"]


@pytest.mark.parametrize("slice_size", [apply.SLICE, 1, 3])
def test_a_clash_in_a_page_is_kept_aside_alone_whatever_slice_it_falls_in(
    desks, monkeypatch, slice_size
):
    a, b = desks
    monkeypatch.setattr(apply, "SLICE", slice_size)
    start = newest(a)
    known = register(a, "Oskar", "Oldname")
    first = unpushed(a, start)
    apply_page(b.store, b.payload_cipher(), first, after=first[-1].seq)
    set_device(b, "desk-b")
    b_start = newest(b)
    mine = register(b, "Bea", "Localone")  # takes the next record number at B
    echoes = as_device(unpushed(b, b_start), "desk-b")
    a_start = newest(a)
    rename(a, known, "Oskar", "Renamed")
    clash = register(a, "Carl", "Samenumber")  # the same record number at A
    register(a, "Vera", "Newrow")
    lost = register(a, "Lars", "Unreadable")
    from_a = unpushed(a, a_start)
    page = relayed(echoes + [damaged(p) if p.change.entity_id == lost else p for p in from_a])
    assert a.patients.get(a.actor, clash).mrn == b.patients.get(b.actor, mine).mrn
    seen = []
    b.store.changes.subscribe(seen.append)

    report = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)

    with b.store.read() as s:
        kept = s.execute(select(SyncConflict.entity_id, SyncConflict.reason)).all()
    assert (clash, "clashes with a row here (patients.mrn)") in kept
    assert report.conflicts == len(kept) >= 1 and len(report.unreadable) == 1
    assert names(b, "renamed") == ["Oskar Renamed"] and names(b, "newrow") == ["Vera Newrow"]
    assert names(b, "samenumber") == [] and names(b, "localone") == ["Bea Localone"]
    assert report.unchanged == len(echoes)
    told = set().union(*(change.entities for change in seen))
    assert ("patients", known) in told
    assert ("patients", clash) not in told  # written in an undone slice, then kept aside

    again = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)
    assert again.applied == 0 and again.conflicts == 0
    with b.store.read() as s:
        assert s.scalar(select(func.count()).select_from(SyncConflict)) == len(kept)

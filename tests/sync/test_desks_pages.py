"""Pages of changes as a desk applies them: a page applied a second time (as after a restart, or
a pull again from the start) changes nothing and finds nothing new to review, and a desk's own
change coming back from the server is never taken for someone else's."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from clinicdesk.store.models import OutboxEntry, Patient, SyncConflict
from clinicdesk.sync import desk
from clinicdesk.sync.apply import apply_page, cursor
from clinicdesk.sync.protocol import MAX_PULL
from tests.sync.conftest import DESK_BACKENDS, assert_in_step, conflicts_at, move, register

pytestmark = pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)


def snapshot(session) -> dict:
    """What the desk holds, as far as a page can touch it."""
    with session.store.read() as s:
        return {
            "patients": s.execute(
                select(Patient.id, Patient.version, Patient.mrn).order_by(Patient.id)
            ).all(),
            "clinic": session.clinic.details(),
            "conflicts": s.execute(
                select(SyncConflict.remote_seq, SyncConflict.reason).order_by(
                    SyncConflict.remote_seq
                )
            ).all(),
            "outbox": s.scalar(select(func.count()).select_from(OutboxEntry)),
            "cursor": cursor(session.store),
            "found": [p.id for p in session.patients.search(session.actor, "Achebe")],
        }


def test_a_page_applied_twice_changes_nothing_and_finds_nothing_new(desks, server):
    a, b = desks
    # apart: each desk registers a patient (both take record number 1) and gives the clinic a
    # new phone number
    achebe = register(a, "Chinua", "Achebe")
    a.clinic.update(a.actor, replace(a.clinic.details(), phone="+44 20 7946 0001"))
    register(b, "Flora", "Nwapa")
    b.clinic.update(b.actor, replace(b.clinic.details(), phone="+44 20 7946 0002"))
    desk.sync(a.store, a.payload_cipher())

    cipher = b.payload_cipher()
    client = desk.connection(b.store).client()
    try:
        desk.push(b.store, client, cipher)  # as a sync does, before it pulls
        page = client.pull(cursor(b.store), MAX_PULL)
    finally:
        client.close()
    first = apply_page(b.store, cipher, page.changes, after=page.changes[-1].seq)
    assert first.applied >= 1 and first.conflicts == 2 and not first.unreadable
    held = snapshot(b)
    reasons = sorted(reason for _, reason in held["conflicts"])
    assert reasons == [
        "changed here from the same version",  # the clinic's phone
        "clashes with a row here (patients.mrn)",  # Achebe's record number
    ]
    assert held["found"] == [] and held["clinic"].phone == "+44 20 7946 0002"

    again = apply_page(b.store, cipher, page.changes, after=page.changes[-1].seq)

    assert (again.applied, again.conflicts, again.unreadable) == (0, 0, [])
    assert snapshot(b) == held
    assert conflicts_at(b) == 2
    assert achebe not in {p for p, *_ in held["patients"]}


def test_a_desks_own_change_coming_back_is_not_a_conflict(desks, server):
    a, b = desks
    patient = register(a, "Wole", "Soyinka")
    client = desk.connection(a.store).client()
    try:
        desk.push(a.store, client, a.payload_cipher())  # the pusher sends the registration
        version = move(a, patient, "3 Abeokuta Street")  # the receptionist edits at once
        done = desk.pull(a.store, client, a.payload_cipher())  # the puller brings it back
    finally:
        client.close()

    assert done.conflicts == 0
    assert conflicts_at(a) == 0
    kept = a.patients.get(a.actor, patient)
    assert (kept.address, kept.version) == ("3 Abeokuta Street", version)
    assert desk.waiting(a.store) > 0  # the edit, still to be sent
    for session in (a, b, a):
        desk.sync(session.store, session.payload_cipher())
    assert b.patients.get(b.actor, patient).address == "3 Abeokuta Street"
    assert_in_step(server, a, b)

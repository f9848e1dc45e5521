"""Two desks of one clinic, each with its own encrypted folder, kept in step through the real
sync server (HTTPS on loopback, SQLite and PostgreSQL behind it)."""

from __future__ import annotations

import time

from sqlalchemy import select

from clinicdesk.store.models import SyncConflict
from clinicdesk.sync import desk
from clinicdesk.sync.runner import SyncRunner
from tests.sync.conftest import register


def test_a_patient_registered_at_one_desk_is_found_at_the_other(desks):
    a, b = desks
    patient = register(a, "Chloé", "Moreau")

    desk.sync(a.store, a.payload_cipher())
    assert desk.waiting(a.store) == 0
    done = desk.sync(b.store, b.payload_cipher())

    assert done.conflicts == 0 and not done.unreadable
    (found,) = b.patients.search(b.actor, "moreau")
    assert found.id == patient
    assert desk.waiting(b.store) == 0  # what B pushed was A's own history: taken once
    again = desk.sync(b.store, b.payload_cipher())
    assert again.applied == 0


def test_a_change_reaches_the_other_desk_within_seconds_and_its_screens(desks):
    a, b = desks
    desk.sync(a.store, a.payload_cipher())
    desk.sync(b.store, b.payload_cipher())
    arrived: list[float] = []
    b.store.changes.subscribe(
        lambda change: (
            any(t == "patients" for t, _ in change.entities) and arrived.append(time.monotonic())
        )
    )
    runners = [SyncRunner(s.store, s.payload_cipher, long_poll=5) for s in (a, b)]
    for runner in runners:
        runner.start()
    try:
        time.sleep(0.5)  # B's long poll is waiting
        started = time.monotonic()
        register(a, "Hugo", "Dubois")
        deadline = started + 10
        while not arrived and time.monotonic() < deadline:
            time.sleep(0.05)
        assert arrived, "the change never reached desk B"
        print(f"from A's commit to B's change feed: {arrived[0] - started:.2f} s")
        assert arrived[0] - started < 5
        with b.store.read() as s:
            kept = [(c.entity, c.reason) for c in s.scalars(select(SyncConflict))]
        assert b.patients.search(b.actor, "dubois"), f"not found at B; kept aside: {kept}"
        assert runners[1].status.text() == "Synced"
    finally:
        for runner in runners:
            runner.stop()


def test_a_desk_removed_from_the_clinic_stops_and_says_why(desks, server):
    a, b = desks
    b_device = desk.connection(b.store).device_id
    client = desk.connection(a.store).client()
    try:
        client.revoke(b_device, "The doctor's room PC was stolen")
    finally:
        client.close()
    runner = SyncRunner(b.store, b.payload_cipher, long_poll=1)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while not runner.status.stopped and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
    assert runner.status.stopped
    assert "The doctor's room PC was stolen" in runner.status.text()

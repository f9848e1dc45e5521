"""Two desks of one clinic, each with its own encrypted folder, kept in step through the real
sync server (HTTPS on loopback, SQLite and PostgreSQL behind it)."""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.models import SyncConflict
from clinicdesk.sync import desk
from clinicdesk.sync.runner import SyncRunner
from clinicdesk.sync.server.store import ServerStore
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD


def connect(session: ClinicSession, server, answer: dict) -> None:
    desk.connect(
        session.store,
        server.url,
        answer["device_id"],
        answer["token"],
        answer["epoch"],
        server.cert.read_bytes(),
    )


@pytest.fixture
def desks(clinic_dir, tmp_path: Path, server):
    """Desk A made the clinic's space on the server; desk B joined as a copy of A with a device
    of its own."""
    folder, _ = clinic_dir
    first = sign_in(folder, "admin", ADMIN_PASSWORD)
    first.users.create(
        first.actor, "ben", "Ben Okoro", {Role.ADMIN}, STAFF_PASSWORD, must_change_password=False
    )
    first.close()
    copy = tmp_path / "desk-b"
    shutil.copytree(folder, copy)
    # each desk signed in by its own person (one account signing in at two desks at once
    # changes its row at both: a conflict for the review screen)
    a, b = sign_in(folder, "admin", ADMIN_PASSWORD), sign_in(copy, "ben", STAFF_PASSWORD)
    made = server.operator(
        "/v1/clinics",
        {
            "clinic_id": a.slots.clinic_id,
            "clinic_name": "Sunrise Family Clinic",
            "device_name": "Front desk",
        },
    )
    assert made.status_code == 200, made.text
    connect(a, server, made.json())
    store = ServerStore(server.db_url)
    try:
        second = store.add_device(a.slots.clinic_id, "Doctor's room")
        epoch = store.epoch()
    finally:
        store.close()
    connect(b, server, {"device_id": second.device_id, "token": second.token, "epoch": epoch})
    yield a, b
    a.close()
    b.close()


def register(session: ClinicSession, given: str, family: str) -> str:
    patient = PatientInput(given, family, date(1980, 5, 17), "female")
    return session.patients.register(session.actor, patient, not_a_duplicate=True).id


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

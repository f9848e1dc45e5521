"""Only pharmacists dispense and manage stock: reception and doctors are told so in words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from clinicdesk.errors import PermissionDenied
from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.inventory import BatchInput
from clinicdesk.services.pharmacy_views import SCANNER, DispenseInput, HistoryFilter
from tests.clinic_time import clinic_today
from tests.conftest import STAFF_PASSWORD
from tests.pharmacy.pharmacy_setup import (
    Counter,
    counter_fixture,
    drug_id,
    remaining,
    shelf,
)

counter = counter_fixture()


@pytest.fixture
def receptionist(counter) -> Iterator[ClinicSession]:
    admin = counter.admin
    admin.users.create(
        admin.actor,
        "reception",
        "Rosa Diaz",
        {Role.RECEPTIONIST},
        STAFF_PASSWORD,
        must_change_password=False,
    )
    session = sign_in(admin.folder, "reception", STAFF_PASSWORD)
    yield session
    session.close()


def pharmacy_work(counter: Counter, session: ClinicSession):
    """Each thing only pharmacy staff may do, as (what, call)."""
    a, code = session.actor, counter.rx.code
    batch = counter.batches["ibuprofen_late"].id
    ibuprofen = drug_id(counter.pharmacist, "Ibuprofen")
    delivery = BatchInput(
        ibuprofen, "IBU-NEW", clinic_today(session) + timedelta(days=100), 10, 5, 10
    )
    return [
        ("scan", lambda: session.pharmacy.scan(a, code, SCANNER)),
        ("look up", lambda: session.pharmacy.look_up(a, counter.rx.reference)),
        ("dispense", lambda: session.pharmacy.dispense(a, code, [DispenseInput(1, batch, 15)])),
        ("reject", lambda: session.pharmacy.reject(a, code, "not for this patient")),
        ("receive", lambda: session.inventory.receive(a, delivery)),
        ("adjust", lambda: session.inventory.adjust(a, batch, -100, "taken")),
        ("reorder level", lambda: session.inventory.set_reorder_level(a, ibuprofen, 5)),
        ("stock", lambda: session.inventory.stock(a)),
        ("history", lambda: session.pharmacy.history(a, HistoryFilter())),
    ]


@pytest.mark.parametrize("who", ["receptionist", "doctor"])
def test_reception_and_doctors_cannot_dispense_or_touch_stock(counter, receptionist, who):
    session = receptionist if who == "receptionist" else counter.doctor
    name = session.actor.display_name
    before, left = shelf(counter), remaining(counter)
    for what, call in pharmacy_work(counter, session):
        with pytest.raises(PermissionDenied) as caught:
            call()
        assert caught.value.message.startswith(f"{name} is not allowed to"), what
        assert "Ask an administrator" in caught.value.message
    assert (shelf(counter), remaining(counter)) == (before, left)
    assert counter.pharmacist.pharmacy.verdict(counter.pharmacist.actor, counter.rx.code).scans == 0

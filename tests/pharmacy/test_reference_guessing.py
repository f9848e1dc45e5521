"""Guessing reference numbers at the counter: each wrong one is in the audit log, and after five
in ten minutes the look-ups pause, longer each time, even after a restart; and the dispensing
history (every patient's medicines) is for those who dispense, not for the stock permission."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from clinicdesk.errors import LookupsPaused, NotFound, PermissionDenied
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Role
from clinicdesk.rx import reference
from clinicdesk.services.access import sign_in
from clinicdesk.services.pharmacy import PharmacyService
from clinicdesk.services.pharmacy_views import HistoryFilter
from tests.conftest import STAFF_PASSWORD
from tests.pharmacy.pharmacy_setup import PHARMACIST_PASSWORD, Counter, counter_fixture

counter = counter_fixture()


def guesses(counter: Counter) -> Iterator[str]:
    """Valid reference numbers (right check digits) of no prescription here."""
    return (r for r in iter(reference.new_reference, None) if r != counter.rx.reference)


def failed_look_ups(counter: Counter) -> list[dict]:
    entries = counter.admin.audit.recent(counter.admin.actor)
    return [e for e in entries if e.action == "prescription.lookup_failed"]


def test_wrong_references_are_recorded_and_then_look_ups_pause(counter):
    ph = counter.pharmacist
    guess = guesses(counter)
    for _ in range(5):
        with pytest.raises(NotFound):
            ph.pharmacy.look_up(ph.actor, next(guess))
    recorded = failed_look_ups(counter)
    assert len(recorded) == 5
    assert {e.actor_name for e in recorded} == {ph.actor.display_name}

    # the sixth waits, even for the right number, and nothing more is recorded meanwhile
    for typed in (next(guess), counter.rx.reference):
        with pytest.raises(LookupsPaused) as paused:
            ph.pharmacy.look_up(ph.actor, typed)
        assert "paused for" in paused.value.message
        assert 0 < paused.value.seconds_left <= 16
    with pytest.raises(LookupsPaused):  # the doctors' look-up by reference is the same door
        ph.prescriptions.find_by_reference(ph.actor, counter.rx.reference)
    assert len(failed_look_ups(counter)) == 5

    # a restart does not reset it: the count is in the clinic's database
    ph.close()
    again = sign_in(counter.admin.folder, "pharmacist", PHARMACIST_PASSWORD)
    try:
        with pytest.raises(LookupsPaused):
            again.pharmacy.look_up(again.actor, counter.rx.reference)

        # each further failure waits longer
        waits = []
        for _ in range(3):
            after = _waited(again, counter.rx.reference, waits)
            with pytest.raises(NotFound):
                after.look_up(again.actor, next(guess))
        _waited(again, counter.rx.reference, waits)
        assert waits == sorted(waits) and waits[0] < waits[-1], waits

        # ten minutes after the last failure, look-ups are free again
        later = PharmacyService(again.store, clock=lambda: utcnow() + timedelta(minutes=11))
        assert later.look_up(again.actor, counter.rx.reference).content.prescription_id
    finally:
        again.close()


def _waited(session, typed: str, waits: list[int]) -> PharmacyService:
    """The pause running now, noted; returns the counter as it will be once it has passed."""
    with pytest.raises(LookupsPaused) as paused:
        session.pharmacy.look_up(session.actor, typed)
    waits.append(paused.value.seconds_left)
    moment = utcnow() + timedelta(seconds=paused.value.seconds_left + 1)
    return PharmacyService(session.store, clock=lambda: moment)


def test_one_users_guessing_does_not_pause_another(counter, staff_at_counter):
    ph = counter.pharmacist
    guess = guesses(counter)
    for _ in range(5):
        with pytest.raises(NotFound):
            ph.pharmacy.look_up(ph.actor, next(guess))
    with pytest.raises(LookupsPaused):
        ph.pharmacy.look_up(ph.actor, counter.rx.reference)
    other = staff_at_counter
    assert other.pharmacy.look_up(other.actor, counter.rx.reference).content


@pytest.fixture
def staff_at_counter(counter) -> Iterator:
    admin = counter.admin
    admin.users.create(
        admin.actor, "rosa", "Rosa", {Role.PHARMACIST}, STAFF_PASSWORD, must_change_password=False
    )
    session = sign_in(admin.folder, "rosa", STAFF_PASSWORD)
    yield session
    session.close()


def test_an_admin_cannot_read_or_export_what_patients_were_given(counter):
    admin = counter.admin
    admin.users.create(
        admin.actor, "stock", "Stock", {Role.ADMIN}, STAFF_PASSWORD, must_change_password=False
    )
    stock = sign_in(admin.folder, "stock", STAFF_PASSWORD)
    try:
        stock.inventory.stock(stock.actor)  # the stock is hers to manage
        for call in (stock.pharmacy.history, stock.pharmacy.history_csv):
            with pytest.raises(PermissionDenied) as refused:
                call(stock.actor, HistoryFilter())
            assert "dispense prescriptions" in refused.value.message
    finally:
        stock.close()

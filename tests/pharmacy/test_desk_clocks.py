"""Several desks share one clinic's database, each with its own clock. The clock guard catches
this computer's clock going back; another desk's clock running fast never blocks a desk whose
clock is right. Each desk is a service with its own desk identity and an injected clock, as two
computers (two processes) would be."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinicdesk.ids import utcnow
from clinicdesk.rx.errors import ClockBehind, DateBehind
from clinicdesk.services.pharmacy import PharmacyService
from clinicdesk.services.pharmacy_views import SCANNER
from clinicdesk.services.prescriptions import PrescriptionService
from clinicdesk.store.desk import DESK_FILE, this_desk
from tests.clinical.clinic_setup import three_items
from tests.pharmacy.pharmacy_setup import Counter, counter_fixture

counter = counter_fixture()


def at(offset: timedelta):
    """A desk's clock: the true time, ``offset`` out."""
    return lambda: utcnow() + offset


def prescribing_desk(counter: Counter, desk: str, offset: timedelta) -> PrescriptionService:
    return PrescriptionService(counter.doctor.store, clock=at(offset), desk=desk)


def counter_desk(counter: Counter, desk: str, offset: timedelta) -> PharmacyService:
    return PharmacyService(counter.pharmacist.store, clock=at(offset), desk=desk)


def prescribe(desk: PrescriptionService, counter: Counter) -> str:
    doctor = counter.doctor
    return desk.write(doctor.actor, counter.consultation.visit.id, three_items()).code


@pytest.mark.parametrize("fast", [timedelta(minutes=30), timedelta(days=1)])
def test_a_desk_running_fast_never_blocks_desks_whose_clock_is_right(counter, fast):
    ph, doctor = counter.pharmacist, counter.doctor
    fast_code = prescribe(prescribing_desk(counter, "consulting-room-2", fast), counter)

    pharmacy = counter_desk(counter, "pharmacy-counter", timedelta(0))
    assert pharmacy.scan(ph.actor, counter.rx.code, SCANNER).content.reference
    assert pharmacy.scan(ph.actor, fast_code, SCANNER).content.reference
    other_room = prescribing_desk(counter, "consulting-room-1", timedelta(0))
    assert prescribe(other_room, counter).startswith("RX1")
    assert other_room.verify_code(doctor.actor, fast_code).content.reference


def test_a_desk_whose_own_clock_goes_back_is_still_refused(counter):
    ph, doctor = counter.pharmacist, counter.doctor
    prescribe(prescribing_desk(counter, "consulting-room-1", timedelta(0)), counter)
    back = timedelta(days=-2)
    with pytest.raises(ClockBehind):
        prescribe(prescribing_desk(counter, "consulting-room-1", back), counter)
    with pytest.raises(ClockBehind):
        counter_desk(counter, "consulting-room-1", back).scan(ph.actor, counter.rx.code, SCANNER)
    with pytest.raises(ClockBehind):
        prescribing_desk(counter, "consulting-room-1", back).verify_code(
            doctor.actor, counter.rx.code
        )
    # the same clock at another desk is no evidence against that desk
    assert prescribe(prescribing_desk(counter, "consulting-room-2", back), counter)


def test_a_counter_running_days_fast_never_blocks_a_counter_whose_date_is_right(counter):
    """The latest prescription date seen is kept per desk too: a desk three days ahead
    that scans a prescription signed three days ahead says nothing about this desk's date."""
    ph = counter.pharmacist
    ahead = timedelta(days=3)
    future_code = prescribe(prescribing_desk(counter, "consulting-room-2", ahead), counter)
    counter_desk(counter, "pharmacy-fast", ahead).scan(ph.actor, future_code, SCANNER)

    right = counter_desk(counter, "pharmacy-right", timedelta(0))
    assert right.scan(ph.actor, counter.rx.code, SCANNER).content.reference
    # and that desk's own date going back is still caught
    with pytest.raises(DateBehind):
        counter_desk(counter, "pharmacy-right", timedelta(days=-5)).scan(
            ph.actor, counter.rx.code, SCANNER
        )


def test_a_computer_keeps_one_desk_identity(tmp_path):
    """The clock guard relies on it: the same computer is the same desk after a restart, and
    its identity file is private to the account."""
    first = this_desk(tmp_path)
    assert this_desk(tmp_path) == first
    assert this_desk(tmp_path / "another computer") != first
    assert (tmp_path / DESK_FILE).stat().st_mode & 0o777 == 0o600

"""What an appointment may become, and when: one rule for the services and the screens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinicdesk.errors import Conflict
from clinicdesk.scheduling.status import AppointmentStatus as S
from clinicdesk.services.appointments import AppointmentService


def test_a_future_appointment_is_not_checked_in_or_missed_before_its_day(practice):
    s = practice.session
    sunday = practice.monday - timedelta(days=1)
    s.appointments.clock = lambda: practice.at(sunday, "09:00")
    booked = s.appointments.book(
        s.actor,
        practice.patient("Anna"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    history = s.appointments.history(s.actor, booked.id)
    assert s.appointments.moves(s.actor, booked.id) == (S.CANCELLED,)
    with pytest.raises(Conflict) as refused:
        s.appointments.set_status(s.actor, booked.id, S.CHECKED_IN)
    assert refused.value.message == (
        f"This appointment is on {practice.monday:%A %d/%m/%Y}; a patient is checked in on the "
        "day of their appointment."
    )
    with pytest.raises(Conflict, match="cannot be missed before its day"):
        s.appointments.set_status(s.actor, booked.id, S.NO_SHOW)
    with pytest.raises(Conflict, match="checked in on the day of their appointment"):
        s.queue.check_in(s.actor, booked.id)
    assert s.appointments.history(s.actor, booked.id) == history  # nothing changed

    on_the_day = AppointmentService(s.store, clock=lambda: practice.at(practice.monday, "08:55"))
    assert on_the_day.moves(s.actor, booked.id) == (S.CHECKED_IN, S.CANCELLED, S.NO_SHOW)
    assert on_the_day.set_status(s.actor, booked.id, "checked_in").status is S.CHECKED_IN
    assert on_the_day.moves(s.actor, booked.id) == (S.IN_CONSULTATION, S.CANCELLED)

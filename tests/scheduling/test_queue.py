"""The walk-in queue: tokens, priorities, check-in of booked patients, call next, estimates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from practice import add_doctor

from clinicdesk.errors import Conflict
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.queue import QueueService, StillInConsultation

pytestmark = pytest.mark.clock  # dated by the clinic's calendar; see .ci/run


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def morning(practice):
    """Reception's view of the practice's Monday, at 08:50 local time."""
    clock = Clock(practice.at(practice.monday, "08:50"))
    store = practice.session.store
    return practice, clock, AppointmentService(store, clock), QueueService(store, clock)


def test_tokens_count_up_and_the_order_is_fair(morning):
    practice, clock, appointments, queue = morning
    actor = practice.session.actor
    booked = appointments.book(
        actor,
        practice.patient("Bea"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    first = queue.add_walk_in(actor, practice.patient("Walt"))  # arrived 08:50
    clock.now += timedelta(minutes=5)
    checked_in = queue.check_in(actor, booked.id)  # due 09:00, arrived 08:55
    clock.now += timedelta(minutes=5)
    late = queue.add_walk_in(actor, practice.patient("Lena"))  # arrived 09:00
    clock.now += timedelta(minutes=1)
    urgent = queue.add_walk_in(actor, practice.patient("Ugo"), priority=1)
    assert [first.token, checked_in.token, late.token, urgent.token] == [1, 2, 3, 4]
    board = queue.board(actor)
    assert [v.patient_name for v in board] == ["Ugo Berg", "Walt Berg", "Bea Berg", "Lena Berg"]
    assert board[0].estimated_wait_minutes == 0
    assert board[1].estimated_wait_minutes == 15  # behind Ugo's walk-in
    assert appointments.history(actor, booked.id)[-1].to_status == "checked_in"


def test_call_next_sends_the_patient_to_the_doctors_room(morning):
    practice, _clock, appointments, queue = morning
    actor = practice.session.actor
    booked = appointments.book(
        actor,
        practice.patient("Bea"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    entry = queue.check_in(actor, booked.id)
    called = queue.call_next(actor, practice.doctor_id)
    assert (called.token, called.room, called.called_by) == (entry.token, "Room 2", "Dr Maya Hale")
    assert queue.called() == [(entry.token, "Room 2", "Dr Maya Hale")]
    assert appointments.history(actor, booked.id)[-1].to_status == "in_consultation"
    assert queue.call_next(actor, practice.doctor_id) is None
    queue.finish(actor, called.id)
    assert appointments.history(actor, booked.id)[-1].to_status == "completed"


def test_a_patient_waiting_for_one_doctor_is_not_called_by_another(morning):
    practice, _clock, _appointments, queue = morning
    s = practice.session
    other = add_doctor(
        s, "dr.ruiz", "Dr Leo Ruiz", practice.specialization_id, {practice.consultation_id}, []
    )
    actor = s.actor
    for_hale = queue.add_walk_in(actor, practice.patient("Hana"), doctor_id=practice.doctor_id)
    anyone = queue.add_walk_in(actor, practice.patient("Any"))
    assert queue.call_next(actor, other).id == anyone.id
    assert queue.call_next(actor, other) is None
    assert queue.call_next(actor, practice.doctor_id).id == for_hale.id


def test_queue_refusals_change_nothing(morning):
    practice, _clock, appointments, queue = morning
    actor = practice.session.actor
    walt = practice.patient("Walt")
    entry = queue.add_walk_in(actor, walt)
    with pytest.raises(Conflict, match="already waiting with token 1"):
        queue.add_walk_in(actor, walt)
    with pytest.raises(Conflict, match="has not been called"):
        queue.finish(actor, entry.id)
    tomorrow = appointments.book(
        actor,
        practice.patient("Tom"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday + timedelta(days=1), "09:00"),
    )
    with pytest.raises(Conflict, match="checked in on the day of their appointment"):
        queue.check_in(actor, tomorrow.id)
    assert [v.token for v in queue.board(actor)] == [1]


def test_calling_next_never_finishes_the_patient_still_with_the_doctor(morning):
    """The call is refused with a question while Bea is in consultation, changing nothing;
    "leave it open" calls Walt and Bea stays in consultation until she is finished."""
    practice, clock, appointments, queue = morning
    actor = practice.session.actor
    booked = appointments.book(
        actor,
        practice.patient("Bea"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    first = queue.check_in(actor, booked.id)
    clock.now += timedelta(minutes=15)  # Walt walks in after Bea's booked time
    walt = queue.add_walk_in(actor, practice.patient("Walt"))
    assert queue.call_next(actor, practice.doctor_id).id == first.id
    before = {v.id: v.status for v in queue.board(actor)}

    with pytest.raises(StillInConsultation) as asked:
        queue.call_next(actor, practice.doctor_id)

    assert asked.value.message == (
        "Bea Berg is still in consultation with Dr Maya Hale. Finish that visit first, or call "
        "the next patient and leave it open."
    )
    assert [q.id for q in asked.value.with_doctor] == [first.id]
    assert {v.id: v.status for v in queue.board(actor)} == before
    second = queue.call_next(actor, practice.doctor_id, leave_open=True)
    assert second.id == walt.id
    statuses = {v.id: v.status for v in queue.board(actor)}
    assert (statuses[first.id], statuses[walt.id]) == ("called", "called")
    assert appointments.history(actor, booked.id)[-1].to_status == "in_consultation"
    queue.finish(actor, first.id)  # reception: Bea has been seen
    assert appointments.history(actor, booked.id)[-1].to_status == "completed"

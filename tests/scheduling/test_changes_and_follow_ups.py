"""Changes that hit bookings, follow-ups and the waitlist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from practice import WEEKDAY_HOURS, add_doctor

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.booking import AppointmentView
from clinicdesk.services.schedule_setup import HoursInput


def test_new_hours_mark_the_bookings_they_hit_with_offers(practice):
    s = practice.session
    add_doctor(
        s,
        "dr.ruiz",
        "Dr Leo Ruiz",
        practice.specialization_id,
        {practice.consultation_id},
        WEEKDAY_HOURS,
    )
    afternoon = s.appointments.book(
        s.actor,
        practice.patient("Anna"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "15:00"),
    )
    morning = s.appointments.book(
        s.actor,
        practice.patient("Bert"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    mornings_only = [HoursInput(d, 9 * 60, 12 * 60 + 30) for d in range(5)]
    assert s.schedule.set_hours(s.actor, practice.doctor_id, mornings_only) == 1

    (hit,) = s.appointments.needing_attention(s.actor)
    assert hit.appointment.id == afternoon.id
    assert hit.reason == "The doctor's visiting hours changed."
    assert hit.same_doctor.doctor_name == "Dr Maya Hale"
    assert hit.same_doctor.starts_at.astimezone(practice.at(practice.monday, "09:00").tzinfo)
    assert hit.other_doctor.doctor_name == "Dr Leo Ruiz"
    # rebooking clears the mark; the untouched morning booking was never marked
    s.appointments.reschedule(
        s.actor, afternoon.id, hit.other_doctor.starts_at, hit.other_doctor.doctor_id
    )
    assert s.appointments.needing_attention(s.actor) == []
    assert all(c.to_status == "confirmed" for c in s.appointments.history(s.actor, morning.id))


def test_leave_holiday_and_emergency_absence_mark_bookings(practice):
    s = practice.session
    monday, tuesday = practice.monday, practice.monday + timedelta(days=1)
    wednesday = practice.monday + timedelta(days=2)
    a = s.appointments.book(
        s.actor,
        practice.patient("Anna"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(monday, "09:00"),
    )
    b = s.appointments.book(
        s.actor,
        practice.patient("Bert"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(tuesday, "09:00"),
    )
    c = s.appointments.book(
        s.actor,
        practice.patient("Cleo"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(wednesday, "10:15"),
    )
    assert s.schedule.add_holiday(s.actor, monday, "Bank holiday") == 1
    assert s.schedule.add_leave(s.actor, practice.doctor_id, tuesday, tuesday, "Course") == 1
    assert (
        s.schedule.add_absence(
            s.actor,
            practice.doctor_id,
            practice.at(wednesday, "10:00"),
            practice.at(wednesday, "11:00"),
            "Called to hospital",
        )
        == 1
    )
    reasons = {h.appointment.id: h.reason for h in s.appointments.needing_attention(s.actor)}
    assert reasons[a.id].startswith("The clinic is closed on")
    assert reasons[b.id].startswith("The doctor is on leave")
    assert reasons[c.id] == "The doctor is unavailable: Called to hospital."
    s.appointments.mark_told(s.actor, c.id)
    assert c.id not in {h.appointment.id for h in s.appointments.needing_attention(s.actor)}


def booked_monday_nine(practice) -> tuple[AppointmentService, AppointmentView]:
    """Anna booked at 09:00 on Monday, by a service whose clock reads 08:00 that morning."""
    before = practice.at(practice.monday, "08:00")
    early = AppointmentService(practice.session.store, clock=lambda: before)
    visit = early.book(
        practice.session.actor,
        practice.patient("Anna"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    return early, visit


def test_follow_up_from_a_completed_visit(practice):
    s = practice.session
    early, visit = booked_monday_nine(practice)
    with pytest.raises(Conflict, match="completed or missed"):
        early.book_follow_up(s.actor, visit.id, 14)
    for status in ("checked_in", "in_consultation", "completed"):
        early.set_status(s.actor, visit.id, status)
    follow_up = early.book_follow_up(s.actor, visit.id, 14)
    assert follow_up.starts_at == practice.at(practice.monday + timedelta(days=14), "09:00")
    assert follow_up.doctor_id == practice.doctor_id


def test_a_freed_slot_shows_who_on_the_waitlist_could_take_it(practice):
    s = practice.session
    nine = practice.at(practice.monday, "09:00")
    anna, wendy = practice.patient("Anna"), practice.patient("Wendy")
    booked = s.appointments.book(s.actor, anna, practice.doctor_id, practice.consultation_id, nine)
    entry = s.appointments.add_to_waitlist(
        s.actor,
        wendy,
        practice.consultation_id,
        practice.monday,
        practice.monday + timedelta(days=3),
    )
    s.appointments.add_to_waitlist(
        s.actor,
        practice.patient("Late"),
        practice.consultation_id,
        practice.monday + timedelta(days=5),
        practice.monday + timedelta(days=9),
    )
    s.appointments.cancel(s.actor, booked.id, "Feeling better")
    matches = s.appointments.waitlist_matches(
        s.actor, practice.doctor_id, practice.consultation_id, nine
    )
    assert [(m[0], m[2]) for m in matches] == [(entry, "Wendy Berg")]
    taken = s.appointments.book_from_waitlist(s.actor, entry, practice.doctor_id, nine)
    assert taken.patient_name == "Wendy Berg"
    assert (
        s.appointments.waitlist_matches(s.actor, practice.doctor_id, practice.consultation_id, nine)
        == []
    )


@pytest.mark.parametrize(
    ("status", "refusal", "said"),
    [
        ("seen", ValidationError, "“seen” is not an appointment status"),
        ("", ValidationError, "is not an appointment status"),
        ("cancelled", Conflict, "cancelled with Cancel, which asks for the reason"),
    ],
)
def test_a_status_that_cannot_be_set_is_refused_in_words(practice, status, refusal, said):
    s = practice.session
    appointments, booked = booked_monday_nine(practice)
    history = appointments.history(s.actor, booked.id)
    with pytest.raises(refusal, match=said):
        appointments.set_status(s.actor, booked.id, status)
    assert appointments.history(s.actor, booked.id) == history  # nothing changed

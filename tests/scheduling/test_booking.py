"""Booking through the service layer: free slots, one booking per slot, holds, lifecycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from practice import LONDON, WEEKDAY_HOURS, add_doctor
from sqlalchemy import select

from clinicdesk.errors import Conflict, PermissionDenied, ValidationError
from clinicdesk.permissions import Role
from clinicdesk.services import booking
from clinicdesk.services.appointments import SlotUnavailable
from clinicdesk.store.models import DoctorTimeClaim


def local_times(slots, tz):
    return [s.astimezone(tz).strftime("%H:%M") for s in slots]


def test_free_slots_follow_hours_duration_and_buffer(practice):
    s = practice.session
    slots = s.appointments.free_slots(
        s.actor, practice.doctor_id, practice.consultation_id, practice.monday
    )
    times = local_times(slots, LONDON)
    assert times[:4] == ["09:00", "09:25", "09:50", "10:15"]
    # 11:55 ends at 12:15; 12:20 would end after 12:30
    assert times[times.index("11:55") + 1] == "14:00"
    assert times[-1] == "16:30"


def test_a_slot_is_booked_once_and_the_patient_once(practice):
    s = practice.session
    anna, bert = practice.patient("Anna"), practice.patient("Bert")
    nine = practice.at(practice.monday, "09:00")
    booked = s.appointments.book(s.actor, anna, practice.doctor_id, practice.consultation_id, nine)
    assert booked.status == "confirmed"
    with pytest.raises(SlotUnavailable, match="already booked"):
        s.appointments.book(s.actor, bert, practice.doctor_id, practice.consultation_id, nine)
    # the buffer after Anna's consultation is the doctor's too
    with pytest.raises(SlotUnavailable, match="already booked"):
        s.appointments.book(
            s.actor,
            bert,
            practice.doctor_id,
            practice.consultation_id,
            practice.at(practice.monday, "09:20"),
        )
    assert len(s.appointments.day(s.actor, practice.monday)) == 1
    slots = s.appointments.free_slots(
        s.actor, practice.doctor_id, practice.consultation_id, practice.monday
    )
    assert nine not in slots and practice.at(practice.monday, "09:25") in slots


def test_the_database_refuses_a_second_claim_on_booked_time(practice, monkeypatch):
    """The claims' keys hold even when the friendly check before them is skipped (as when two
    desks pass it at the same moment): the overlapping booking is refused and nothing written."""
    s = practice.session
    anna, bert = practice.patient("Anna"), practice.patient("Bert")
    nine = practice.at(practice.monday, "09:00")
    s.appointments.book(s.actor, anna, practice.doctor_id, practice.consultation_id, nine)
    claims_before = claimed_cells(s)
    monkeypatch.setattr(booking, "check_free", lambda *args: None)

    for hhmm in ("09:00", "09:20"):  # the same start, and a start inside Anna's buffer
        with pytest.raises(SlotUnavailable) as refused:
            s.appointments.book(
                s.actor,
                bert,
                practice.doctor_id,
                practice.consultation_id,
                practice.at(practice.monday, hhmm),
            )
        assert refused.value.message == (
            "That time was just taken at another desk. Choose another slot."
        )

    assert [a.patient_id for a in s.appointments.day(s.actor, practice.monday)] == [anna]
    assert claimed_cells(s) == claims_before


def claimed_cells(session) -> list[tuple]:
    with session.store.read() as s:
        return sorted(
            (c.doctor_id, c.cell, c.appointment_id) for c in s.scalars(select(DoctorTimeClaim))
        )


@pytest.mark.parametrize(
    ("hhmm", "day_offset", "message"),
    [
        ("08:30", 0, "outside Dr Maya Hale's visiting hours"),
        ("12:20", 0, "outside"),  # would end after 12:30
        ("13:00", 0, "outside"),
        ("10:00", 5, "outside"),  # Saturday
        ("09:03", 0, "5-minute step"),
    ],
)
def test_times_outside_hours_are_refused(practice, hhmm, day_offset, message):
    s = practice.session
    anna = practice.patient("Anna")
    day = practice.monday + timedelta(days=day_offset)
    with pytest.raises((SlotUnavailable, ValidationError), match=message):
        s.appointments.book(
            s.actor, anna, practice.doctor_id, practice.consultation_id, practice.at(day, hhmm)
        )
    assert s.appointments.day(s.actor, day) == []


def test_past_holiday_and_leave_are_refused(practice):
    s = practice.session
    anna = practice.patient("Anna")
    last_monday = practice.monday - timedelta(days=21)
    with pytest.raises(SlotUnavailable, match="already passed"):
        s.appointments.book(
            s.actor,
            anna,
            practice.doctor_id,
            practice.consultation_id,
            practice.at(last_monday, "09:00"),
        )
    s.schedule.add_holiday(s.actor, practice.monday, "Bank holiday")
    with pytest.raises(SlotUnavailable, match="not working"):
        s.appointments.book(
            s.actor,
            anna,
            practice.doctor_id,
            practice.consultation_id,
            practice.at(practice.monday, "09:00"),
        )
    tuesday = practice.monday + timedelta(days=1)
    s.schedule.add_leave(s.actor, practice.doctor_id, tuesday, tuesday, "Conference")
    assert (
        s.appointments.free_slots(
            s.actor, practice.doctor_id, practice.consultation_id, practice.monday, days=2
        )
        == []
    )


def test_a_patient_cannot_be_in_two_places_unless_overridden_with_a_reason(practice, staff):
    s = practice.session
    nurse = add_doctor(
        s, "dr.ruiz", "Dr Leo Ruiz", practice.specialization_id, {practice.consultation_id}, []
    )
    s.schedule.set_hours(s.actor, nurse, WEEKDAY_HOURS)
    anna = practice.patient("Anna")
    nine = practice.at(practice.monday, "09:00")
    s.appointments.book(s.actor, anna, practice.doctor_id, practice.consultation_id, nine)
    with pytest.raises(SlotUnavailable, match="patient already has an appointment"):
        s.appointments.book(s.actor, anna, nurse, practice.consultation_id, nine)
    reception = staff(Role.RECEPTIONIST)
    with pytest.raises(PermissionDenied):
        reception.appointments.book(
            reception.actor,
            anna,
            nurse,
            practice.consultation_id,
            nine,
            overlap_reason="seen together",
        )
    both = s.appointments.book(
        s.actor, anna, nurse, practice.consultation_id, nine, overlap_reason="joint consultation"
    )
    assert both.doctor_name == "Dr Leo Ruiz"


def test_a_held_slot_is_refused_to_other_desks_until_it_lapses(practice, staff):
    s = practice.session
    other_desk = staff(Role.RECEPTIONIST, username="desk2")
    anna, bert = practice.patient("Anna"), practice.patient("Bert")
    ten = practice.at(practice.monday, "10:15")
    hold = s.appointments.hold(s.actor, practice.doctor_id, practice.consultation_id, ten)
    with pytest.raises(SlotUnavailable, match="Ada Admin is holding that time"):
        other_desk.appointments.book(
            other_desk.actor, bert, practice.doctor_id, practice.consultation_id, ten
        )
    assert ten not in s.appointments.free_slots(
        s.actor, practice.doctor_id, practice.consultation_id, practice.monday
    )
    booked = s.appointments.book(
        s.actor, anna, practice.doctor_id, practice.consultation_id, ten, hold_id=hold.id
    )
    assert booked.starts_at == ten


def test_a_lapsed_hold_frees_the_slot(practice, staff):
    s = practice.session
    ten = practice.at(practice.monday, "10:15")
    s.appointments.hold(s.actor, practice.doctor_id, practice.consultation_id, ten, minutes=0)
    bert = practice.patient("Bert")
    booked = s.appointments.book(s.actor, bert, practice.doctor_id, practice.consultation_id, ten)
    assert booked.patient_name == "Bert Berg"


def test_lifecycle_with_history(practice):
    s = practice.session
    anna = practice.patient("Anna")
    s.appointments.clock = lambda: practice.at(practice.monday, "08:45")  # that morning
    appt = s.appointments.book(
        s.actor,
        anna,
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    for status in ("checked_in", "in_consultation", "completed"):
        appt = s.appointments.set_status(s.actor, appt.id, status)
    with pytest.raises(Conflict, match="completed cannot become checked in"):
        s.appointments.set_status(s.actor, appt.id, "checked_in")
    steps = [(c.from_status, c.to_status) for c in s.appointments.history(s.actor, appt.id)]
    assert steps == [
        ("", "confirmed"),
        ("confirmed", "checked_in"),
        ("checked_in", "in_consultation"),
        ("in_consultation", "completed"),
    ]


def test_cancel_frees_the_slot_once_and_applies_the_policy(practice):
    s = practice.session
    from clinicdesk.scheduling.policy import CancellationPolicy, RefundRule

    s.schedule.set_cancellation_policy(
        s.actor, CancellationPolicy((RefundRule(24, 100), RefundRule(0, 50)), 2000)
    )
    anna, bert = practice.patient("Anna"), practice.patient("Bert")
    nine = practice.at(practice.monday, "09:00")
    appt = s.appointments.book(s.actor, anna, practice.doctor_id, practice.consultation_id, nine)
    with pytest.raises(ValidationError, match="Reason"):
        s.appointments.cancel(s.actor, appt.id, "  ")
    assert (
        s.appointments.cancel(s.actor, appt.id, "Feeling better", now=nine - timedelta(hours=2))
        == 2250
    )
    with pytest.raises(Conflict, match="already cancelled by Ada Admin: Feeling better"):
        s.appointments.cancel(s.actor, appt.id, "again")
    again = s.appointments.book(s.actor, bert, practice.doctor_id, practice.consultation_id, nine)
    assert again.status == "confirmed"


def test_reschedule_onto_a_taken_slot_changes_nothing(practice):
    s = practice.session
    anna, bert = practice.patient("Anna"), practice.patient("Bert")
    nine, ten = practice.at(practice.monday, "09:00"), practice.at(practice.monday, "10:15")
    a = s.appointments.book(s.actor, anna, practice.doctor_id, practice.consultation_id, nine)
    s.appointments.book(s.actor, bert, practice.doctor_id, practice.consultation_id, ten)
    with pytest.raises(SlotUnavailable, match="already booked"):
        s.appointments.reschedule(s.actor, a.id, ten)
    assert [v.starts_at for v in s.appointments.day(s.actor, practice.monday)] == [nine, ten]
    moved = s.appointments.reschedule(s.actor, a.id, practice.at(practice.monday, "11:05"))
    assert moved.starts_at == practice.at(practice.monday, "11:05")
    assert nine in s.appointments.free_slots(
        s.actor, practice.doctor_id, practice.consultation_id, practice.monday
    )
    (_, change) = s.appointments.history(s.actor, a.id)
    assert change.detail["moved_from"] == nine.isoformat()


def test_next_free_slot_for_doctor_and_specialization(practice):
    s = practice.session
    after = practice.at(practice.monday, "12:15")  # too late for a 20-minute consultation
    offer = s.appointments.next_free(
        s.actor, practice.consultation_id, doctor_id=practice.doctor_id, after=after
    )
    assert offer.starts_at == practice.at(practice.monday, "14:00")
    offer = s.appointments.next_free(
        s.actor, practice.consultation_id, specialization_id=practice.specialization_id, after=after
    )
    assert offer.doctor_name == "Dr Maya Hale"


def test_hours_that_overlap_or_end_before_they_start_are_refused(practice):
    from clinicdesk.services.schedule_setup import HoursInput

    s = practice.session
    with pytest.raises(ValidationError, match="ends \\(09:00\\) before it starts \\(12:00\\)"):
        s.schedule.set_hours(s.actor, practice.doctor_id, [HoursInput(0, 720, 540)])
    with pytest.raises(ValidationError, match="Monday 09:00–12:00 and 11:00–13:00 overlap"):
        s.schedule.set_hours(
            s.actor, practice.doctor_id, [HoursInput(0, 540, 720), HoursInput(0, 660, 780)]
        )
    assert s.appointments.free_slots(
        s.actor, practice.doctor_id, practice.consultation_id, practice.monday
    )  # the old hours still stand


def test_approval_rule_and_no_shows(practice):
    from clinicdesk.services.appointments import AppointmentService

    s = practice.session
    s.schedule.set_booking_rules(s.actor, needs_approval=True, no_show_after_minutes=15)
    pending = s.appointments.book(
        s.actor,
        practice.patient("Anna"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    assert pending.status_label == "Awaiting approval"
    with pytest.raises(ValidationError, match="Reason"):
        s.appointments.set_status(s.actor, pending.id, "rejected")
    approved = s.appointments.set_status(s.actor, pending.id, "confirmed")
    assert approved.status == "confirmed"
    late = AppointmentService(s.store, clock=lambda: practice.at(practice.monday, "09:16"))
    assert late.flag_no_shows(s.actor) == 1
    assert late.flag_no_shows(s.actor) == 0  # idempotent: a second tick changes nothing
    assert s.appointments.history(s.actor, pending.id)[-1].to_status == "no_show"


def test_an_unknown_time_zone_is_refused(practice):
    from dataclasses import replace

    s = practice.session
    details = s.clinic.details()
    with pytest.raises(ValidationError, match="'Mars/Olympus' is not a known time zone"):
        s.clinic.update(s.actor, replace(details, time_zone="Mars/Olympus"))
    assert s.clinic.details().time_zone == "Europe/London"

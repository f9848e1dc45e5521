"""History, attendance and iCalendar exports."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from clinicdesk.services.appointments import AppointmentService


def test_history_filters_attendance_and_calendar_files(practice):
    s = practice.session
    early = AppointmentService(s.store, clock=lambda: practice.at(practice.monday, "08:00"))
    came = early.book(
        s.actor,
        practice.patient("Anna"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:00"),
    )
    missed = early.book(
        s.actor,
        practice.patient("Bert"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday, "09:25"),
    )
    later = early.book(
        s.actor,
        practice.patient("Cleo"),
        practice.doctor_id,
        practice.consultation_id,
        practice.at(practice.monday + timedelta(days=2), "10:15"),
    )
    for status in ("checked_in", "in_consultation", "completed"):
        early.set_status(s.actor, came.id, status)
    early.set_status(s.actor, missed.id, "no_show")

    week = (practice.monday, practice.monday + timedelta(days=6))
    assert [v.id for v in s.reports.search(s.actor, *week)] == [came.id, missed.id, later.id]
    assert [v.id for v in s.reports.search(s.actor, *week, status="no_show")] == [missed.id]
    assert (
        s.reports.search(s.actor, practice.monday, practice.monday, doctor_id=practice.doctor_id)[
            -1
        ].id
        == missed.id
    )
    (row,) = s.reports.attendance(s.actor, *week)
    assert (row.doctor_name, row.booked, row.attended, row.no_shows) == ("Dr Maya Hale", 3, 1, 1)
    assert row.rate == 0.5

    (event,) = Calendar.from_ical(s.reports.ics_for_appointment(s.actor, later.id)).walk("VEVENT")
    assert event.decoded("dtstart") == later.starts_at
    assert str(event["summary"]) == "Consultation with Dr Maya Hale"
    assert "Cleo" not in str(event["summary"])  # the patient's own file names no patient
    assert "Sunrise Family Clinic" in str(event["location"])

    schedule = Calendar.from_ical(
        s.reports.ics_for_doctor(s.actor, practice.doctor_id, *week)
    ).walk("VEVENT")
    assert [str(e["summary"]) for e in schedule] == [
        "Anna Berg: Consultation",
        "Bert Berg: Consultation",
        "Cleo Berg: Consultation",
    ]

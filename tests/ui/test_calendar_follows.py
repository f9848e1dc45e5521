"""The calendar follows the bookings with no refresh and no polling timer: a booking made at
another desk (its own connection to the same clinic, told through this desk's watch of other
desks' commits) and a cancellation both show on the open calendar."""

from __future__ import annotations

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QDate, Qt
from scheduling_setup import make_practice

from clinicdesk.permissions import Role


def test_a_booking_made_at_another_desk_appears_on_the_open_calendar(
    qtbot, admin, staff, make_main, tasks
):
    practice = make_practice(admin)
    admin.watch_other_desks()  # as the app does at sign-in
    main = make_main(admin)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_F3)
    day = practice.monday
    desk.calendar.date_edit.setDate(QDate(day.year, day.month, day.day))
    wait_idle(qtbot, tasks)
    grid = desk.calendar.grid
    assert grid.blocks == []

    reception = staff(Role.RECEPTIONIST)  # another desk
    patient = practice.patient("Chloé", "Moreau")
    booked = reception.appointments.book(
        reception.actor,
        patient.id,
        practice.doctor_id,
        practice.consultation_id,
        practice.at(day, "11:10"),
    )
    qtbot.waitUntil(lambda: [b.appointment.id for b in grid.blocks] == [booked.id], timeout=3000)
    assert "1 appointment ·" in desk.calendar.status.text()

    reception.appointments.cancel(reception.actor, booked.id, "patient phoned")
    qtbot.waitUntil(
        lambda: all(b.appointment.status == "cancelled" for b in grid.blocks), timeout=3000
    )
    wait_idle(qtbot, tasks)

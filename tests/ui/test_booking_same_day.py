"""Booking a patient who already has an appointment that day: said first, then booked anyway."""

from __future__ import annotations

from datetime import timedelta

from conftest import gone, open_booking_dialog, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication
from scheduling_setup import make_practice


def test_another_appointment_that_day_is_said_before_booking(qtbot, admin, tasks):
    practice = make_practice(admin)
    monday = practice.monday
    chloe = practice.patient("Chloé", "Moreau")
    practice.book(chloe, monday, "11:10")  # with Dr Hale
    ross = practice.add_doctor("dr.ross", "Dr Ian Ross", "Room 4")
    dialog = open_booking_dialog(qtbot, admin, tasks, chloe, ross, monday)
    assert dialog.chosen_slot().starts_at == practice.at(monday, "09:00")
    assert dialog.same_day.isVisible()
    assert dialog.same_day.text() == (
        "Chloé Moreau already has an appointment at 11:10 with Dr Maya Hale on this day. "
        "Book anyway, or choose a slot on another day."
    )
    assert dialog.save.text() == "Book anyway"

    tuesday = monday + timedelta(days=1)
    dialog.first_day.setDate(QDate(tuesday.year, tuesday.month, tuesday.day))
    wait_idle(qtbot, tasks)  # slots from another day: nothing to say
    assert dialog.chosen_slot().starts_at == practice.at(tuesday, "09:00")
    assert not dialog.same_day.isVisible() and dialog.save.text() == "Book"
    dialog.first_day.setDate(QDate(monday.year, monday.month, monday.day))
    wait_idle(qtbot, tasks)
    assert dialog.same_day.isVisible()

    dialog.slots.setFocus()
    qtbot.keyClick(dialog.slots, Qt.Key.Key_Return)  # holds the 09:00 slot
    wait_idle(qtbot, tasks)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # books it anyway
    wait_idle(qtbot, tasks)
    assert gone(dialog), dialog.message.text()
    booked = admin.appointments.day(admin.actor, monday)
    assert sorted((v.starts_at, v.doctor_name) for v in booked) == [
        (practice.at(monday, "09:00"), "Dr Ian Ross"),
        (practice.at(monday, "11:10"), "Dr Maya Hale"),
    ]

"""The waitlist: added from the booking dialog; a cancellation offers the freed slot to it."""

from __future__ import annotations

import shiboken6
from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QDate, Qt
from scheduling_setup import make_practice

from ui.context import AppContext
from ui.frontdesk.appointment_dialog import AppointmentDialog
from ui.frontdesk.booking_dialog import BookingDialog
from ui.frontdesk.schedule_data import load_directory


def test_cancel_offers_the_slot_to_the_waitlist(qtbot, admin, tasks):
    practice = make_practice(admin)
    monday = practice.monday
    view = practice.book(practice.patient("Ines"), monday, "09:00")
    olga = practice.patient("Olga")
    ctx = AppContext(admin, tasks, admin.clinic.details())
    directory = load_directory(admin, admin.actor)

    booking = BookingDialog(ctx, directory, olga, practice.doctor_id)
    qtbot.addWidget(booking)
    booking.show()
    wait_idle(qtbot, tasks)
    booking.first_day.setDate(QDate(monday.year, monday.month, monday.day))
    wait_idle(qtbot, tasks)
    qtbot.mouseClick(booking.waitlist_button, Qt.MouseButton.LeftButton)
    assert booking.waitlist_row.isVisible()
    booking.waitlist_until.setDate(QDate(monday.year, monday.month, monday.day).addDays(4))
    qtbot.mouseClick(booking.waitlist_confirm, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert booking.held_label.text().startswith("Olga Berg is on the waitlist")
    booking.reject()
    wait_idle(qtbot, tasks)

    dialog = AppointmentDialog(ctx, directory, view, admin.appointments.moves(admin.actor, view.id))
    qtbot.addWidget(dialog)
    dialog.show()
    wait_idle(qtbot, tasks)
    sentences: list[str] = []
    dialog.changed.connect(sentences.append)
    qtbot.mouseClick(dialog.buttons["cancelled"], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.reason_dialog.reason, "Patient unwell")
    qtbot.keyClick(dialog.reason_dialog.reason, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert sentences and sentences[0].startswith("Cancelled Ines Berg's appointment")
    assert dialog.isVisible()
    (button,) = dialog.waitlist_buttons.values()
    assert button.text() == "Book Olga Berg here"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    assert sentences[-1].startswith("Booked Olga Berg from the waitlist")
    day = admin.appointments.day(admin.actor, monday, [practice.doctor_id])
    booked = [a for a in day if a.status not in ("cancelled", "rejected")]
    assert [(a.patient_name, a.starts_at) for a in booked] == [
        ("Olga Berg", practice.at(monday, "09:00"))
    ]
    assert (
        admin.appointments.waitlist_matches(
            admin.actor, practice.doctor_id, practice.consultation_id, practice.at(monday, "09:00")
        )
        == []
    )


def test_no_match_closes_after_cancel(qtbot, admin, tasks):
    practice = make_practice(admin)
    view = practice.book(practice.patient("Pia"), practice.monday, "10:00")
    ctx = AppContext(admin, tasks, admin.clinic.details())
    allowed = admin.appointments.moves(admin.actor, view.id)
    dialog = AppointmentDialog(ctx, load_directory(admin, admin.actor), view, allowed)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_idle(qtbot, tasks)
    qtbot.mouseClick(dialog.buttons["cancelled"], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.reason_dialog.reason, "Moved away")
    qtbot.keyClick(dialog.reason_dialog.reason, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()

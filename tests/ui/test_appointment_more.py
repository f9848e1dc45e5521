"""The appointment dialog: a follow-up after a missed visit, and the .ics export."""

from __future__ import annotations

import shiboken6
from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from scheduling_setup import make_practice

from ui.context import AppContext
from ui.frontdesk.appointment_dialog import AppointmentDialog
from ui.frontdesk.schedule_data import load_directory


def _dialog(qtbot, admin, tasks, view) -> AppointmentDialog:
    ctx = AppContext(admin, tasks, admin.clinic.details())
    allowed = admin.appointments.moves(admin.actor, view.id)
    dialog = AppointmentDialog(ctx, load_directory(admin, admin.actor), view, allowed)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_idle(qtbot, tasks)
    return dialog


def test_follow_up_after_a_no_show(qtbot, admin, tasks):
    practice = make_practice(admin)
    view = practice.book(practice.patient("Ines"), practice.monday, "09:00")
    practice.freeze(practice.monday, "10:00")  # the morning passed without her
    missed = admin.appointments.set_status(admin.actor, view.id, "no_show")
    dialog = _dialog(qtbot, admin, tasks, missed)
    sentences: list[str] = []
    dialog.changed.connect(sentences.append)
    dialog.follow_up_days.setValue(7)
    qtbot.mouseClick(dialog.buttons["follow_up"], Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    (sentence,) = sentences
    assert sentence.startswith("Follow-up for Ines Berg booked:")
    nxt = practice.monday.fromordinal(practice.monday.toordinal() + 7)
    booked = admin.appointments.day(admin.actor, nxt, [practice.doctor_id])
    assert [a.patient_name for a in booked] == ["Ines Berg"]


def test_no_follow_up_for_a_booking_to_come_and_ics_export(qtbot, admin, tasks, tmp_path):
    practice = make_practice(admin)
    view = practice.book(practice.patient("Olga"), practice.monday, "10:00")
    dialog = _dialog(qtbot, admin, tasks, view)
    assert "follow_up" not in dialog.buttons
    target = tmp_path / "olga.ics"
    dialog.export_to(target)
    wait_idle(qtbot, tasks)
    text = target.read_text()
    assert text.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in text
    assert dialog.message.text() == f"Calendar file written: {target}"

    dialog.export_to(tmp_path / "no such folder" / "x.ics")
    wait_idle(qtbot, tasks)
    assert dialog.message.text().endswith("does not exist (is the drive connected?).")


def test_enter_on_a_future_appointment_closes_and_offers_no_check_in(qtbot, admin, tasks):
    practice = make_practice(admin)
    view = practice.book(practice.patient("Chloé", "Moreau"), practice.monday, "11:10")
    dialog = _dialog(qtbot, admin, tasks, view)
    assert "checked_in" not in dialog.buttons and "no_show" not in dialog.buttons
    assert {"reschedule", "cancelled"} <= dialog.buttons.keys()
    assert dialog.close_button.isDefault()
    qtbot.keyClick(QApplication.focusWidget() or dialog, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert gone(dialog)
    (still,) = admin.appointments.day(admin.actor, practice.monday, [practice.doctor_id])
    assert still.status == "confirmed"


def test_on_the_day_check_in_is_what_enter_does(qtbot, admin, tasks):
    practice = make_practice(admin)
    view = practice.book(practice.patient("Chloé", "Moreau"), practice.monday, "11:10")
    practice.freeze(practice.monday, "10:55")
    dialog = _dialog(qtbot, admin, tasks, view)
    assert dialog.buttons["checked_in"].isDefault()
    assert "no_show" in dialog.buttons

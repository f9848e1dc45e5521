"""Admin schedule: an emergency absence from now, and the clinic's booking rules."""

from __future__ import annotations

from datetime import timedelta

from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from scheduling_setup import make_practice

from clinicdesk.permissions import Role
from ui.admin.schedule_dialogs import AbsenceDialog


def _screen(qtbot, make_main, admin, tasks):
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    screen = workspace.schedule
    workspace.tabs.setCurrentWidget(screen)
    wait_idle(qtbot, tasks)
    return screen


def test_emergency_absence_and_booking_rules(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    screen = _screen(qtbot, make_main, admin, tasks)
    assert screen.selected_doctor().name == "Dr Maya Hale"
    qtbot.mouseClick(screen.absence_button, Qt.MouseButton.LeftButton)
    absence = screen.findChild(AbsenceDialog)
    absence.hours.setValue(3)
    qtbot.keyClicks(absence.reason, "Called to the hospital")
    qtbot.mouseClick(absence.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(absence), timeout=5000)
    wait_idle(qtbot, tasks)
    assert screen.message.text() == (
        "Dr Maya Hale is unavailable for the next 3 hours; no booked appointments are affected."
    )

    assert not screen.save_button.isEnabled()
    screen.needs_approval.setChecked(True)
    screen.no_show_after.setValue(20)
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert screen.message.text() == (
        "Saved: new bookings wait for approval and a patient 20 minutes late is a no-show."
    )
    view = practice.book(practice.patient("Ines"), practice.monday, "09:00")
    assert view.status == "pending"
    again = _screen(qtbot, make_main, admin, tasks)  # a fresh screen shows the saved rules
    assert again.needs_approval.isChecked() and again.no_show_after.value() == 20


def test_cancellation_policy_is_saved_shown_and_applied(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    screen = _screen(qtbot, make_main, admin, tasks)
    screen.full_refund_hours.setValue(48)
    screen.late_refund.setValue(25)
    qtbot.keyClicks(screen.no_show_fee, "20,00x")
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    assert screen.rules_form.error_text("no_show_fee") == (
        "No-show fee must be an amount such as 20.00"
    )
    screen.no_show_fee.clear()
    qtbot.keyClicks(screen.no_show_fee, "20.00")
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert screen.message.text() == (
        "Saved: a full refund 48 hours or more ahead, 25% later, a no-show pays 20.00."
    )
    view = practice.book(practice.patient("Ines"), practice.monday, "09:00")
    # cancelled 24 hours ahead: less notice than 48 hours, so a quarter of the 45.00 fee
    refund = admin.appointments.cancel(
        admin.actor, view.id, "Away", now=view.starts_at - timedelta(hours=24)
    )
    assert refund == 1125
    again = _screen(qtbot, make_main, admin, tasks)
    assert (again.full_refund_hours.value(), again.late_refund.value()) == (48, 25)
    assert again.no_show_fee.text() == "20.00"


def test_one_save_for_hours_and_rules_and_another_doctor_asks_first(
    qtbot, make_main, admin, tasks, monkeypatch
):
    practice = make_practice(admin)
    other = admin.users.create(
        admin.actor,
        "dr.lee",
        "Dr Ann Lee",
        {Role.DOCTOR},
        "doctor password 2",
        must_change_password=False,
    )
    admin.schedule.make_doctor(
        admin.actor, other.id, practice.specialization_id, "GMC 2", {practice.consultation_id}
    )
    screen = _screen(qtbot, make_main, admin, tasks)
    names = [d.name for d in screen.doctors_model.rows]
    assert screen.selected_doctor().name == "Dr Ann Lee"  # the first, by name
    screen.doctors_table.selectRow(names.index("Dr Maya Hale"))  # nothing unsaved: no question
    hale = screen.selected_doctor()
    qtbot.waitUntil(lambda: len(screen.hours.rows) == 10, timeout=5000)
    qtbot.mouseClick(screen.hours.rows[0].remove_button, Qt.MouseButton.LeftButton)
    screen.no_show_after.setValue(30)
    assert screen.save_button.isEnabled()

    asked: list[str] = []
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save])

    def answer(_parent, _title, text, *_args):
        asked.append(text)
        return next(answers)

    monkeypatch.setattr(QMessageBox, "question", answer)
    lee_row = names.index("Dr Ann Lee")
    screen.doctors_table.selectRow(lee_row)  # Cancel: stay with Dr Hale's unsaved week
    assert "Dr Maya Hale have changes that are not saved" in asked[0]
    assert screen.selected_doctor() == hale and len(screen.hours.rows) == 9

    screen.doctors_table.selectRow(lee_row)  # Save: both changes at once, then Dr Lee
    wait_idle(qtbot, tasks)
    assert screen.message.text().startswith("Saved: the hours of Dr Maya Hale (")
    assert "a patient 30 minutes late is a no-show" in screen.message.text()
    assert len(admin.schedule.hours(admin.actor, hale.id)) == 9
    assert admin.schedule.booking_rules(admin.actor) == (False, 30)
    assert screen.selected_doctor().name == "Dr Ann Lee"
    assert screen.hours.rows == [] and not screen.save_button.isEnabled()

    screen.no_show_after.setValue(45)
    qtbot.mouseClick(screen.discard_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert screen.no_show_after.value() == 30 and not screen.save_button.isEnabled()

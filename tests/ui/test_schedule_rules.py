"""Admin schedule: an emergency absence from now, and the clinic's booking rules."""

from __future__ import annotations

from datetime import timedelta

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from scheduling_setup import make_practice


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
    screen.absence_hours.setValue(3)
    qtbot.keyClicks(screen.absence_reason, "Called to the hospital")
    qtbot.mouseClick(screen.absence_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert screen.message.text() == (
        "Dr Maya Hale is unavailable for the next 3 hours; no booked appointments are affected."
    )
    assert screen.absence_reason.text() == ""

    screen.needs_approval.setChecked(True)
    screen.no_show_after.setValue(20)
    qtbot.mouseClick(screen.rules_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert screen.message.text() == (
        "New bookings now wait for approval; a patient 20 minutes late is a no-show."
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
    qtbot.mouseClick(screen.policy_button, Qt.MouseButton.LeftButton)
    assert screen.policy_form.error_text("no_show_fee") == (
        "No-show fee must be an amount such as 20.00"
    )
    screen.no_show_fee.clear()
    qtbot.keyClicks(screen.no_show_fee, "20.00")
    qtbot.mouseClick(screen.policy_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert screen.message.text().startswith("Cancellation policy saved: a full refund 48 hours")
    view = practice.book(practice.patient("Ines"), practice.monday, "09:00")
    # cancelled 24 hours ahead: less notice than 48 hours, so a quarter of the 45.00 fee
    refund = admin.appointments.cancel(
        admin.actor, view.id, "Away", now=view.starts_at - timedelta(hours=24)
    )
    assert refund == 1125
    again = _screen(qtbot, make_main, admin, tasks)
    assert (again.full_refund_hours.value(), again.late_refund.value()) == (48, 25)
    assert again.no_show_fee.text() == "20.00"

"""The admin schedule screen: services, a doctor profile, weekly hours, days off."""

from __future__ import annotations

from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea
from scheduling_setup import make_practice

from clinicdesk.money import parse_amount
from clinicdesk.permissions import Role
from clinicdesk.services.schedule_setup import HoursInput
from ui.admin.hours_editor import parse_clock
from ui.admin.schedule_dialogs import (
    AddServiceDialog,
    DoctorProfileDialog,
    HolidayDialog,
    LeaveDialog,
)


def _screen(qtbot, make_main, admin, tasks):
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    screen = workspace.schedule
    workspace.tabs.setCurrentWidget(screen)
    wait_idle(qtbot, tasks)
    return screen


def test_add_service_make_doctor_and_set_hours(qtbot, make_main, admin, tasks):
    admin.users.create(
        admin.actor,
        "dr.okafor",
        "Dr Ada Okafor",
        {Role.DOCTOR},
        "doctor password 1",
        must_change_password=False,
    )
    screen = _screen(qtbot, make_main, admin, tasks)
    assert screen.findChildren(QScrollArea) == []  # the window's page is the one that scrolls
    assert screen.services_model.rows == []

    qtbot.mouseClick(screen.add_service_button, Qt.MouseButton.LeftButton)
    dialog = screen.findChild(AddServiceDialog)
    qtbot.keyClicks(dialog.name, "Consultation")
    qtbot.keyClicks(dialog.fee, "45,5")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    (service,) = screen.services_model.rows
    assert screen.services_model.cells(service)[:3] == ("Consultation", "20 min", "5 min")
    assert service.fee_minor == 4550

    qtbot.mouseClick(screen.make_doctor_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    dialog = screen.findChild(DoctorProfileDialog)
    assert dialog.account.currentText() == "Dr Ada Okafor"
    qtbot.keyClicks(dialog.doctor.new_specialization, "Paediatrics")
    qtbot.keyClicks(dialog.doctor.licence, "GMC 1234567")
    qtbot.keyClicks(dialog.doctor.room, "Room 4")
    qtbot.keyClicks(dialog.doctor.languages, "English, Igbo")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.error_text("services") != "", timeout=5000)
    assert dialog.form.error_text("services") == "Choose at least one service"
    assert admin.schedule.specializations(admin.actor) == []  # a refusal changes nothing
    dialog.doctor.service_boxes[service.id].setChecked(True)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    (doctor,) = screen.doctors_model.rows
    assert screen.doctors_model.cells(doctor) == (
        "Dr Ada Okafor",
        "Paediatrics",
        "GMC 1234567",
        "Room 4",
        "Consultation",
    )
    assert doctor.languages == ("English", "Igbo")
    assert screen.selected_doctor() == doctor

    qtbot.mouseClick(screen.hours.add_button, Qt.MouseButton.LeftButton)
    row = screen.hours.rows[0]
    row.weekday.setCurrentIndex(1)
    qtbot.keyClicks(row.start, "09:00")
    qtbot.keyClicks(row.end, "1230")
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert screen.message.text() == (
        "Saved: the hours of Dr Ada Okafor (no booked appointments are affected)."
    )
    assert not screen.save_button.isEnabled()  # nothing left unsaved
    free = admin.appointments.next_free(admin.actor, service.id, doctor_id=doctor.id)
    assert free is not None


def test_overlapping_hours_are_refused(qtbot, make_main, admin, tasks):
    make_practice(admin)
    screen = _screen(qtbot, make_main, admin, tasks)
    # the editor shows the doctor's current week: weekdays 09:00-12:30 and 14:00-17:00
    qtbot.waitUntil(lambda: len(screen.hours.rows) == 10, timeout=5000)
    assert screen.hours.windows()[:2] == [HoursInput(0, 540, 750), HoursInput(0, 840, 1020)]
    while screen.hours.rows:
        qtbot.mouseClick(screen.hours.rows[0].remove_button, Qt.MouseButton.LeftButton)
    for start, end in (("09:00", "12:00"), ("11:30", "13:00")):
        qtbot.mouseClick(screen.hours.add_button, Qt.MouseButton.LeftButton)
        row = screen.hours.rows[-1]
        qtbot.keyClicks(row.start, start)
        qtbot.keyClicks(row.end, end)
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    QApplication.processEvents()
    assert screen.hours.error.isVisible()
    assert screen.hours.error.text() == "Monday 09:00–12:00 and 11:30–13:00 overlap"
    assert not screen.message.isVisible()

    screen.hours.rows[1].end.clear()
    qtbot.keyClicks(screen.hours.rows[1].end, "25:00")
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    assert screen.hours.error.text().startswith("Hours 2: type the times as hh:mm")


def test_leave_that_hits_a_booking_says_so(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    practice.book(practice.patient("Ines"), practice.monday, "09:00")
    screen = _screen(qtbot, make_main, admin, tasks)
    qtbot.mouseClick(screen.leave_button, Qt.MouseButton.LeftButton)
    leave = screen.findChild(LeaveDialog)
    qtbot.keyClicks(leave.first, f"{practice.monday:%d/%m/%Y}")
    qtbot.keyClicks(leave.last, f"{practice.monday:%d/%m/%Y}")
    qtbot.mouseClick(leave.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(leave), timeout=5000)
    wait_idle(qtbot, tasks)
    assert "1 booked appointment no longer fit" in screen.message.text()
    assert "Needs attention" in screen.message.text()
    assert len(admin.appointments.needing_attention(admin.actor)) == 1

    qtbot.mouseClick(screen.holiday_button, Qt.MouseButton.LeftButton)
    holiday = screen.findChild(HolidayDialog)
    qtbot.mouseClick(holiday.save, Qt.MouseButton.LeftButton)
    assert holiday.form.error_text("day") == "Holiday date must be a date (dd/mm/yyyy)"
    holiday.reject()


def test_parsers():
    assert parse_clock("9:05") == 545 and parse_clock("24:00") == 1440
    assert parse_clock("24:30") is None and parse_clock("nine") is None
    assert parse_amount("45") == 4500 and parse_amount("45.5") == 4550
    assert parse_amount("-3") is None


def test_hours_can_be_limited_to_some_services(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    dressing = admin.schedule.add_service(admin.actor, "Dressing", 15, 0, 2000)
    screen = _screen(qtbot, make_main, admin, tasks)
    doctor = screen.selected_doctor()
    assert doctor.service_ids == {practice.consultation_id}
    qtbot.waitUntil(lambda: len(screen.hours.rows) == 10, timeout=5000)
    first = screen.hours.rows[0]
    assert first.services.text() == "All services"
    first.service_actions[practice.consultation_id].trigger()  # as a click in its menu
    assert first.services.text() == "Consultation"
    assert dressing.id not in first.service_actions  # only what the doctor offers
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    saved = admin.schedule.hours(admin.actor, practice.doctor_id)
    assert saved[0].service_ids == {practice.consultation_id}
    assert all(not w.service_ids for w in saved[1:])

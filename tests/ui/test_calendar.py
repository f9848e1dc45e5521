"""Booking and moving appointments through the calendar and the booking dialog, as reception."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication
from scheduling_setup import LONDON, Practice, make_practice

from clinicdesk.services.appointments import AppointmentView
from ui.frontdesk.calendar_paint import CalendarGrid
from ui.frontdesk.schedule_data import CalendarData, Column

ENTER = Qt.Key.Key_Return


@pytest.fixture
def practice(admin) -> Practice:
    return make_practice(admin)


@pytest.fixture
def desk(make_main, practice, tasks, qtbot):
    main = make_main(practice.session)
    desk = main.pages["frontdesk"]
    wait_idle(qtbot, tasks)
    return main, desk


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed wherever the keyboard focus is, as a person would."""
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    qtbot.keyClick(widget, key, modifier)


def opened(qtbot, dialog):
    """Wait, as a person would, until the dialog is up and has the keyboard."""
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    return dialog


def appointment_opened(qtbot, desk):
    """Enter on a booking: its dialog, once up with what the appointment may become."""
    qtbot.waitUntil(
        lambda: desk.appointment_dialog is not None and not gone(desk.appointment_dialog),
        timeout=3000,
    )
    return opened(qtbot, desk.appointment_dialog)


def show_calendar_on(qtbot, tasks, main, desk, day) -> CalendarGrid:
    qtbot.keyClick(main, Qt.Key.Key_F3)
    calendar = desk.calendar
    calendar.date_edit.setDate(QDate(day.year, day.month, day.day))  # the date picker
    wait_idle(qtbot, tasks)
    assert calendar.day == day
    return calendar.grid


def booked(practice: Practice, day) -> list[AppointmentView]:
    views = practice.session.appointments.day(practice.session.actor, day)
    return [v for v in views if v.status != "cancelled"]


def test_enter_on_free_time_books_it_by_keyboard(qtbot, desk, tasks, practice):
    main, desk = desk
    practice.patient("Bea")
    grid = show_calendar_on(qtbot, tasks, main, desk, practice.monday)
    assert grid.cursor_text() == "09:00"  # the cursor starts on the first free slot
    assert QApplication.focusWidget() is grid
    press(qtbot, Qt.Key.Key_Down)  # 09:15: a quarter-hour stop
    press(qtbot, Qt.Key.Key_Down)  # 09:25: the next free slot of the consultation
    assert grid.cursor_text() == "09:25"
    press(qtbot, ENTER)
    dialog = opened(qtbot, desk.booking_dialog)
    wait_idle(qtbot, tasks)
    assert dialog.slots.slot(0).starts_at == practice.at(practice.monday, "09:25")
    qtbot.keyClicks(dialog.picker.box, "berg")
    press(qtbot, ENTER)  # takes the first match as soon as it is in
    wait_idle(qtbot, tasks)
    assert dialog.picker.patient.given_name == "Bea"
    assert QApplication.focusWidget() is dialog.slots
    press(qtbot, ENTER)  # hold
    wait_idle(qtbot, tasks)
    assert dialog.hold is not None and dialog.held_label.isVisible()
    press(qtbot, ENTER)  # book
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    [view] = booked(practice, practice.monday)
    assert (view.patient_name, view.starts_at) == (
        "Bea Berg",
        practice.at(practice.monday, "09:25"),
    )
    assert [b.appointment.id for b in grid.blocks] == [view.id]


def test_known_patient_into_the_next_free_slot_in_three_keys(qtbot, desk, tasks, practice):
    main, desk = desk
    practice.patient("Cleo", "Marsh")
    expected = practice.session.appointments.next_free(
        practice.session.actor, practice.consultation_id
    )
    # the whole path is these keystrokes; how long it takes is measured by no test (see bench)
    qtbot.keyClick(main, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(desk.search.box, "marsh")
    press(qtbot, ENTER)  # opens the first match when it is in
    qtbot.waitUntil(lambda: desk.detail.patient is not None, timeout=3000)
    press(qtbot, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desk.booking_dialog is not None, timeout=3000)
    dialog = opened(qtbot, desk.booking_dialog)
    qtbot.waitUntil(lambda: dialog.slots.count() > 0, timeout=5000)
    assert QApplication.focusWidget() is dialog.slots
    press(qtbot, ENTER)
    qtbot.waitUntil(lambda: dialog.hold is not None, timeout=3000)
    press(qtbot, ENTER)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    day = expected.starts_at.astimezone(LONDON).date()
    [view] = booked(practice, day)
    assert (view.patient_name, view.starts_at) == ("Cleo Marsh", expected.starts_at)


def test_a_slot_taken_meanwhile_is_refused_in_the_dialog(qtbot, desk, tasks, practice):
    main, desk = desk
    mine, other = practice.patient("Dana"), practice.patient("Otto")
    grid = show_calendar_on(qtbot, tasks, main, desk, practice.monday)
    press(qtbot, ENTER)  # 09:00
    dialog = opened(qtbot, desk.booking_dialog)
    wait_idle(qtbot, tasks)
    dialog.picker.set_patient(mine)
    practice.book(other, practice.monday, "09:00")  # another desk was quicker
    dialog.slots.setFocus()
    press(qtbot, ENTER)
    wait_idle(qtbot, tasks)
    assert dialog.isVisible() and dialog.hold is None
    assert dialog.message.isVisible() and dialog.message.text()
    assert [v.patient_name for v in booked(practice, practice.monday)] == ["Otto Berg"]
    assert dialog.slots.slot(0).starts_at > practice.at(practice.monday, "09:00")
    dialog.reject()
    assert grid.isVisible()


def drag(qtbot, grid: CalendarGrid, start, end) -> None:
    qtbot.mousePress(grid, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 5):
        qtbot.mouseMove(grid, start + (end - start) * step / 4)
    qtbot.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=end)


def test_drag_reschedules_and_a_refusal_snaps_back(qtbot, desk, tasks, practice):
    main, desk = desk
    moving = practice.book(practice.patient("Mo"), practice.monday, "09:00")
    practice.book(practice.patient("Tess"), practice.monday, "11:00")
    grid = show_calendar_on(qtbot, tasks, main, desk, practice.monday)
    main.resize(1300, 2200)  # the whole morning in view
    wait_idle(qtbot, tasks)

    drag(qtbot, grid, grid.slot_point(0, 9 * 60), grid.slot_point(0, 10 * 60))
    wait_idle(qtbot, tasks)
    moved = practice.session.appointments.day(practice.session.actor, practice.monday)
    assert {v.patient_name: v.starts_at for v in moved}["Mo Berg"] == practice.at(
        practice.monday, "10:00"
    )

    drag(qtbot, grid, grid.slot_point(0, 10 * 60), grid.slot_point(0, 11 * 60))  # Tess's time
    wait_idle(qtbot, tasks)
    assert desk.calendar.message.isVisible()
    assert "Mo Berg was not moved" in desk.calendar.message.text()
    after = practice.session.appointments.day(practice.session.actor, practice.monday)
    assert {v.id: v.starts_at for v in after}[moving.id] == practice.at(practice.monday, "10:00")
    assert not grid._pending  # snapped back


def test_appointment_actions_reschedule_then_cancel(qtbot, desk, tasks, practice):
    main, desk = desk
    view = practice.book(practice.patient("Ravi"), practice.monday, "09:00")
    grid = show_calendar_on(qtbot, tasks, main, desk, practice.monday)
    grid.put_cursor(0, 9 * 60)
    press(qtbot, ENTER)
    dialog = appointment_opened(qtbot, desk)
    qtbot.waitUntil(lambda: dialog.history.rowCount() == 1, timeout=3000)
    qtbot.mouseClick(dialog.buttons["reschedule"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.slots.count() > 0, timeout=3000)
    first = dialog.slots.slot(0).starts_at
    dialog.slots.setFocus()
    press(qtbot, ENTER)
    qtbot.waitUntil(lambda: gone(dialog), timeout=3000)
    wait_idle(qtbot, tasks)
    [moved] = booked(practice, practice.monday)
    assert moved.starts_at == first != view.starts_at

    grid.put_cursor(0, grid.blocks[0].start)
    press(qtbot, ENTER)
    dialog = appointment_opened(qtbot, desk)
    qtbot.mouseClick(dialog.buttons["cancelled"], Qt.MouseButton.LeftButton)
    asked = dialog.reason_dialog
    qtbot.waitUntil(asked.reason.hasFocus, timeout=3000)
    press(qtbot, ENTER)  # no reason yet: refused here, nothing sent
    assert asked.form.error_text("reason") == "Type why first: the reason is kept."
    assert len(booked(practice, practice.monday)) == 1
    qtbot.keyClicks(asked.reason, "Patient is travelling")
    press(qtbot, ENTER)
    qtbot.waitUntil(lambda: gone(dialog), timeout=3000)
    wait_idle(qtbot, tasks)
    assert booked(practice, practice.monday) == []
    history = practice.session.appointments.history(practice.session.actor, view.id)
    assert history[-1].to_status == "cancelled"
    assert history[-1].detail["reason"] == "Patient is travelling"


def test_week_view_shows_one_doctor_monday_to_sunday(qtbot, desk, tasks, practice):
    main, desk = desk
    practice.book(practice.patient("Wes"), practice.monday + timedelta(days=2), "14:00")
    grid = show_calendar_on(qtbot, tasks, main, desk, practice.monday + timedelta(days=3))
    qtbot.mouseClick(desk.calendar.week_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert [c.day for c in grid.data.columns] == [
        practice.monday + timedelta(days=n) for n in range(7)
    ]
    [block] = grid.blocks
    assert block.column == 2 and block.start == 14 * 60
    assert grid.data.free.get(5) == []  # no hours on Saturday


def test_day_view_of_ten_doctors_draws_all_forty_appointments_each(qtbot, practice):
    """Layout and paint of a full day (the time it takes: tests/bench/bench_day_view.py)."""
    day = practice.monday
    columns = [Column(f"d{i}", f"Dr {i}", day, f"Dr {i}", "Room") for i in range(10)]
    appointments = [
        AppointmentView(
            f"a{i}-{n}",
            "p",
            f"Patient Number {n}",
            f"d{i}",
            f"Dr {i}",
            "s",
            "Consultation",
            practice.at(day, "07:00") + timedelta(minutes=15 * n),
            practice.at(day, "07:00") + timedelta(minutes=15 * n + 15),
            "confirmed",
            1,
        )
        for i in range(10)
        for n in range(40)
    ]
    data = CalendarData(columns, appointments)
    grid = CalendarGrid(LONDON)
    qtbot.addWidget(grid)
    grid.resize(1400, 900)
    grid.set_data(data)
    grid.resize(grid.minimumSize().expandedTo(grid.size()))
    assert not grid.grab().isNull()
    assert len(grid.blocks) == 400
    assert {b.column for b in grid.blocks} == set(range(10))

"""The walk-in queue through the real widgets: register and queue, check in, call next."""

from __future__ import annotations

import pytest
from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from scheduling_setup import Practice, make_practice

ENTER = Qt.Key.Key_Return


@pytest.fixture
def practice(admin) -> Practice:
    return make_practice(admin)


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    qtbot.keyClick(widget, key, modifier)


def opened(qtbot, dialog):
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    return dialog


def board(practice: Practice):
    return practice.session.queue.board(practice.session.actor)


def test_new_walk_in_registered_and_queued_by_keyboard(qtbot, make_main, practice, tasks):
    main = make_main(practice.session)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_F4)
    assert desk.stack.currentWidget() is desk.queue
    qtbot.keyClick(main, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desk.walk_in_dialog is not None, timeout=3000)
    walk_in = opened(qtbot, desk.walk_in_dialog)
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    register = opened(qtbot, walk_in.register_dialog)
    for field, text in (
        ("given_name", "Nia"),
        ("family_name", "Osei"),
        ("date_of_birth", "03/04/1992"),
        ("phone", "0161 496 0777"),
    ):
        qtbot.keyClicks(getattr(register, field), text)
    register.sex.setCurrentIndex(register.sex.findData("female"))
    qtbot.keyClick(register.phone, ENTER)
    qtbot.waitUntil(lambda: gone(register), timeout=5000)
    assert walk_in.picker.patient.full_name == "Nia Osei"
    qtbot.waitUntil(walk_in.isActiveWindow, timeout=3000)
    press(qtbot, Qt.Key.Key_Down)  # priority: urgent
    press(qtbot, ENTER)
    qtbot.waitUntil(lambda: gone(walk_in), timeout=5000)
    wait_idle(qtbot, tasks)
    [entry] = board(practice)
    assert (entry.patient_name, entry.priority_label, entry.token) == ("Nia Osei", "Urgent", 1)
    qtbot.waitUntil(lambda: desk.queue.waiting_model.rowCount() == 1, timeout=3000)
    assert desk.queue.waiting_model.cells(desk.queue.waiting_model.row(0))[:3] == (
        "1",
        "Nia Osei",
        "Urgent",
    )


def test_walk_in_refused_twice_the_same_day(qtbot, make_main, practice, tasks):
    patient = practice.patient("Ola")
    practice.session.queue.add_walk_in(practice.session.actor, patient.id)
    main = make_main(practice.session)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_F4)
    qtbot.keyClick(main, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desk.walk_in_dialog is not None, timeout=3000)
    walk_in = opened(qtbot, desk.walk_in_dialog)
    qtbot.keyClicks(walk_in.picker.box, "ola berg")
    press(qtbot, ENTER)  # takes the match
    wait_idle(qtbot, tasks)
    press(qtbot, ENTER)  # queue
    wait_idle(qtbot, tasks)
    assert walk_in.isVisible()
    assert "already waiting with token 1" in walk_in.message.text()
    assert len(board(practice)) == 1


def test_call_next_and_finish_and_the_waiting_room_sees_the_token(
    qtbot, make_main, practice, tasks
):
    actor = practice.session.actor
    first = practice.session.queue.add_walk_in(actor, practice.patient("Ann").id)
    practice.session.queue.add_walk_in(actor, practice.patient("Ben").id)
    main = make_main(practice.session)
    desk = main.pages["frontdesk"]
    queue = desk.queue
    qtbot.keyClick(main, Qt.Key.Key_F4)
    wait_idle(qtbot, tasks)
    assert queue.waiting_model.rowCount() == 2
    qtbot.mouseClick(queue.call_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    qtbot.waitUntil(lambda: queue.called_model.rowCount() == 1, timeout=3000)
    called = queue.called_model.row(0)
    assert (called.token, called.room, called.patient_name) == (first.token, "Room 2", "Ann Berg")
    assert queue.waiting_model.rowCount() == 1

    main.schedule_actions["open_waiting_room"].trigger()
    display = desk.waiting_room
    qtbot.waitUntil(lambda: display.calls != [], timeout=3000)
    assert display.calls == [(first.token, "Room 2", "Dr Maya Hale")]
    display.grab()  # paints without a patient's name to paint

    queue.called.selectRow(0)
    qtbot.mouseClick(queue.finish_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    qtbot.waitUntil(lambda: queue.finished_model.rowCount() == 1, timeout=3000)
    assert [e.status for e in board(practice)] == ["waiting", "done"]


def test_booked_patient_checked_in_from_the_calendar_joins_the_queue(
    qtbot, make_main, practice, tasks
):
    view = practice.book(practice.patient("Cora"), practice.monday, "09:00")
    practice.freeze(practice.monday, "08:50")  # it is that Monday morning now
    main = make_main(practice.session)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_F3)
    desk.calendar.show_day(practice.monday)
    wait_idle(qtbot, tasks)
    grid = desk.calendar.grid
    grid.put_cursor(0, 9 * 60)
    press(qtbot, ENTER)
    qtbot.waitUntil(lambda: desk.appointment_dialog is not None, timeout=3000)
    dialog = opened(qtbot, desk.appointment_dialog)
    assert QApplication.focusWidget() is dialog.buttons["checked_in"]
    press(qtbot, ENTER)  # Check in is the first action
    qtbot.waitUntil(lambda: gone(dialog), timeout=3000)
    wait_idle(qtbot, tasks)
    [entry] = board(practice)
    assert (entry.patient_name, entry.appointment_id) == ("Cora Berg", view.id)
    qtbot.keyClick(main, Qt.Key.Key_F4)
    wait_idle(qtbot, tasks)
    assert desk.queue.waiting_model.row(0).patient_name == "Cora Berg"
    assert "(booked)" in desk.queue.waiting_model.cells(desk.queue.waiting_model.row(0))[4]

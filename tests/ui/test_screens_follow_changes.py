"""The day's screens follow the data with no polling timer: a walk-in or a call made at this
desk, or at another desk (another OS process on the same data folder), shows at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import CTRL  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.clinical.clinic_setup import register
from tests.desk_process import DeskProcess

CHILD = Path(__file__).with_name("queue_desk_child.py")


def doctor_day(qtbot, main):
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_2, CTRL)
    day = main.pages["doctor"].day
    qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 2, timeout=5000)
    return day


def test_a_walk_in_added_here_shows_in_the_doctors_day(qtbot, doctor, make_main):
    day = doctor_day(qtbot, make_main(doctor))
    doctor.queue.add_walk_in(doctor.actor, register(doctor, "Lena", "Fischer"))
    qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 3, timeout=5000)
    assert day.waiting_model.cells(day.waiting_model.rows[-1])[1] == "Lena Fischer"


def test_another_desks_walk_in_and_call_reach_the_day_and_the_waiting_room(
    qtbot, doctor, make_main, shared, tmp_path
):
    doctor.watch_other_desks()  # as the app does at sign-in; stopped when the session closes
    main = make_main(doctor)
    day = doctor_day(qtbot, main)
    desk = DeskProcess(
        CHILD,
        doctor.folder,
        "reception",
        tmp_path,
        answer_timeout=60,
        env={"CLINICDESK_TEST_PASSWORD": shared.ADMIN_PASSWORD},
    )
    try:
        assert desk.answer().get("ready"), desk.log.read_text()
        desk.send_json({"op": "walk_in", "given": "Lena", "family": "Fischer"})
        assert "token" in desk.answer(), desk.log.read_text()
        qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 3, timeout=5000)
        main.schedule_actions["open_waiting_room"].trigger()  # shows the front desk too
        display = main.pages["frontdesk"].waiting_room
        qtbot.waitExposed(display)
        doctor_id = doctor.visits.my_doctor_id(doctor.actor)
        desk.send_json({"op": "call_next", "doctor": doctor_id})
        called = desk.answer()
        qtbot.waitUntil(lambda: len(display.calls) == 1, timeout=5000)
        assert display.calls[0][0] == called["token"]
        display.close()
    finally:
        desk.stop()


def test_minutes_waited_move_on_with_the_clock_while_the_day_is_shown(
    qtbot, doctor, make_main, monkeypatch
):
    import ui.doctor.day

    day = doctor_day(qtbot, make_main(doctor))
    waited = lambda: day.waiting_model.cells(day.waiting_model.rows[0])[3]  # noqa: E731
    assert waited() in {"0 min", "1 min"}
    assert day.follow.minute.isActive()
    later = ui.doctor.day.utcnow() + timedelta(minutes=12)
    monkeypatch.setattr(ui.doctor.day, "utcnow", lambda: later)
    day.follow.minute.timeout.emit()  # the minute tick, without waiting a minute
    qtbot.waitUntil(lambda: waited() in {"12 min", "13 min"}, timeout=5000)

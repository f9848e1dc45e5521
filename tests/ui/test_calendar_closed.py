"""Days nobody is seen look closed in the calendar and say why, instead of an empty grid."""

from __future__ import annotations

from datetime import timedelta

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QDate, Qt
from scheduling_setup import make_practice


def show(qtbot, tasks, main, desk, day):
    qtbot.keyClick(main, Qt.Key.Key_F3)
    desk.calendar.date_edit.setDate(QDate(day.year, day.month, day.day))
    wait_idle(qtbot, tasks)
    return desk.calendar


def test_weekend_holiday_and_leave_say_why(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    monday = practice.monday
    ross = practice.add_doctor("dr.ross", "Dr Ian Ross", "Room 4")
    admin.schedule.add_holiday(admin.actor, monday + timedelta(days=1), "Founders' Day")
    admin.schedule.add_leave(
        admin.actor, ross, monday + timedelta(days=2), monday + timedelta(days=2)
    )
    main = make_main(admin)
    desk = main.pages["frontdesk"]

    calendar = show(qtbot, tasks, main, desk, monday + timedelta(days=5))
    assert calendar.status.text() == "Closed: Saturday"
    assert set(calendar.grid.data.closed.values()) == {"Closed: Saturday"}
    assert not calendar.grid.grab().isNull()  # the hatched columns paint

    calendar = show(qtbot, tasks, main, desk, monday + timedelta(days=1))
    assert calendar.status.text() == "Clinic holiday: Founders' Day"

    calendar = show(qtbot, tasks, main, desk, monday + timedelta(days=2))
    names = [c.doctor_name for c in calendar.grid.data.columns]
    assert calendar.grid.data.closed == {names.index("Dr Ian Ross"): "Dr Ian Ross on leave"}
    assert "free slots" in calendar.status.text()  # Dr Hale works that day

    calendar = show(qtbot, tasks, main, desk, monday)
    assert calendar.grid.data.closed == {}

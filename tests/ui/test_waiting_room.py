"""The waiting-room display: which screen, how to leave full screen, and its whole height."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.waiting_room import FULL_SCREEN_HINT, WINDOW_HINT, display_screen


def test_full_screen_goes_to_a_screen_other_than_the_desks():
    desk, tv = object(), object()
    assert display_screen([desk, tv], desk) is tv
    assert display_screen([tv, desk], desk) is tv
    assert display_screen([desk], desk) is None  # one screen: a window beside the work


def test_on_one_screen_a_window_that_says_how_to_go_full_screen(qtbot, make_main, admin):
    main = make_main(admin)
    main.schedule_actions["open_waiting_room"].trigger()
    display = main.pages["frontdesk"].waiting_room
    qtbot.waitUntil(display.isVisible, timeout=3000)
    assert not display.isFullScreen()
    assert display.hint == WINDOW_HINT
    qtbot.keyClick(display, Qt.Key.Key_F11)
    qtbot.waitUntil(display.isFullScreen, timeout=3000)
    assert display.hint == FULL_SCREEN_HINT
    qtbot.keyClick(display, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not display.isFullScreen(), timeout=3000)
    display.hint_timer.timeout.emit()
    display.hint_timer.stop()
    assert display.hint == ""  # it fades after a few seconds

    display.resize(1366, 768)
    assert display.earlier_columns() == 7
    display.resize(1024, 768)
    assert display.earlier_columns() == 5
    assert not display.grab().isNull()
    display.close()

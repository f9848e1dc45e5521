"""Idle lock and unlock: nothing typed underneath is lost."""

from __future__ import annotations

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt

from clinicdesk.store.signin_guard import FREE_ATTEMPTS


def unlock(qtbot, main, password: str) -> None:
    screen = main.lock_screen
    qtbot.keyClicks(screen.password, password)
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)


def test_lock_then_unlock_keeps_search_text(qtbot, make_main, admin, tasks, shared):
    main = make_main(admin)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(desk.search.box, "half-typed name")
    wait_idle(qtbot, tasks)

    qtbot.keyClick(main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert main.locked
    assert not main.centralWidget().isEnabled()
    qtbot.keyClick(main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert desk.dialog is None  # shortcuts do nothing while locked

    unlock(qtbot, main, "wrong password")
    qtbot.waitUntil(lambda: main.lock_screen.message.isVisible(), timeout=5000)
    assert "not correct" in main.lock_screen.message.text()
    assert main.locked

    unlock(qtbot, main, shared.ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: not main.locked, timeout=5000)
    assert desk.search.box.text() == "half-typed name"
    assert main.centralWidget().isEnabled()
    assert main.focusWidget() is desk.search.box


def test_idle_lock_hides_and_restores_open_register_dialog(qtbot, make_main, admin, tasks, shared):
    main = make_main(admin, idle_ms=60_000)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = desk.dialog
    qtbot.keyClicks(dialog.given_name, "Ingrid")
    qtbot.keyClicks(dialog.phone, "0161 496 0000")

    main.idle.set_timeout_ms(150)
    qtbot.waitUntil(lambda: main.locked, timeout=3000)
    assert not dialog.isVisible()  # no patient data shows over the lock screen
    assert "without use" in main.lock_screen.reason.text()

    unlock(qtbot, main, shared.ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: not main.locked, timeout=5000)
    main.idle.set_timeout_ms(60_000)
    assert dialog.isVisible()
    assert (dialog.given_name.text(), dialog.phone.text()) == ("Ingrid", "0161 496 0000")
    dialog.done(0)


def test_typing_keeps_the_session_awake(qtbot, make_main, admin):
    main = make_main(admin, idle_ms=400)
    box = main.pages["frontdesk"].search.box
    for _ in range(8):
        qtbot.keyClick(box, Qt.Key.Key_A)
        qtbot.wait(100)
    assert not main.locked
    qtbot.waitUntil(lambda: main.locked, timeout=3000)


def test_a_locked_desk_pauses_after_wrong_passwords_even_for_the_right_one(
    qtbot, make_main, admin, tasks, shared
):
    """Guessing at a locked desk meets the same pause as guessing at the sign-in window."""
    main = make_main(admin)
    qtbot.keyClick(main, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    message = main.lock_screen.message

    for _ in range(FREE_ATTEMPTS):
        message.hide()
        unlock(qtbot, main, "a wrong guess")
        qtbot.waitUntil(message.isVisible, timeout=5000)
    assert "paused for 30 seconds" in message.text()

    message.hide()
    unlock(qtbot, main, shared.ADMIN_PASSWORD)
    qtbot.waitUntil(message.isVisible, timeout=5000)
    assert message.text().startswith("Too many wrong passwords. Sign-in for this account is paused")
    assert main.locked
    assert not main.centralWidget().isEnabled()

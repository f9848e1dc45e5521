"""The recovery key's Copy puts it on the clipboard for a minute only: then, if the clipboard
still holds the key, it is cleared, even once the set-up window is gone. Something else copied
meanwhile is left alone. (The minute is shortened here.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from ui.setup_wizard import RecoveryPage

KEY = "7KQ2-M9XD-4RTA-PL3W-ZC8N-B5HV-QY6E-J2FU"


@pytest.fixture
def page(qtbot, monkeypatch) -> Iterator[RecoveryPage]:
    monkeypatch.setattr("ui.widgets.secret_clipboard.CLEAR_AFTER_MS", 300)
    QGuiApplication.clipboard().setText("before")
    page = RecoveryPage()
    page.set_key(KEY)
    page.show()
    yield page
    if shiboken6.isValid(page):
        page.close()
        shiboken6.delete(page)


def copy_by_keyboard(qtbot, page: RecoveryPage) -> None:
    page.copy.setFocus()
    qtbot.keyClick(page.copy, Qt.Key.Key_Space)
    assert QGuiApplication.clipboard().text() == KEY
    assert page.copy.text() == "Copied for a minute"


def test_the_copied_key_leaves_the_clipboard_after_the_minute(qtbot, page):
    copy_by_keyboard(qtbot, page)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=5000)


def test_it_is_cleared_even_once_the_window_is_gone(qtbot, page):
    copy_by_keyboard(qtbot, page)
    page.close()
    shiboken6.delete(page)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=5000)


def test_something_else_copied_meanwhile_is_left_alone(qtbot, page):
    copy_by_keyboard(qtbot, page)
    QGuiApplication.clipboard().setText("a patient's phone number")
    qtbot.wait(600)
    assert QGuiApplication.clipboard().text() == "a patient's phone number"

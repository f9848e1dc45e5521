"""A secret (the recovery key) on the clipboard for a minute only.

After the minute, or when ClinicDesk quits, the clipboard is cleared if it still holds the
secret, so the key does not wait there for the next paste or for any program reading the
clipboard; something copied since is left alone. Clipboard managers that honour KDE's password
hint do not keep it in their history."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QTimer
from PySide6.QtGui import QGuiApplication

CLEAR_AFTER_MS = 60_000
SECRET_HINT = "x-kde-passwordManagerHint"


def copy_secret(text: str) -> None:
    clipboard = QGuiApplication.clipboard()
    data = QMimeData()
    data.setText(text)
    data.setData(SECRET_HINT, b"secret")
    clipboard.setMimeData(data)

    def clear() -> None:
        if clipboard.text() == text:
            clipboard.clear()

    app = QGuiApplication.instance()
    QTimer.singleShot(CLEAR_AFTER_MS, app, clear)  # the app, not a window: it outlives them
    app.aboutToQuit.connect(clear)

"""A background job that fails is said in the status bar, in words, and listed on request;
nothing is dropped."""

from __future__ import annotations

import threading
from datetime import timedelta

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from clinicdesk.errors import StoreError
from clinicdesk.jobs import Job, JobRunner


def test_a_failed_job_shows_in_the_status_bar_and_lists_its_reason(qtbot, make_main, admin):
    def broken(_s, _actor, _now):
        raise StoreError("The clinic's data folder cannot be written to.")

    admin._jobs = JobRunner(
        admin.store, (Job("reminders", "Sending reminders", timedelta(minutes=5), broken),)
    )
    main = make_main(admin)
    button = main.job_failures
    assert not button.isVisible()
    worker = threading.Thread(target=admin._jobs.run, args=["reminders"])  # the jobs' own thread
    worker.start()
    worker.join(timeout=30)
    qtbot.waitUntil(button.isVisible, timeout=5000)
    assert button.text() == "1 background task failed"
    assert "Sending reminders did not run (The clinic's data folder cannot be written to)" in (
        button.toolTip()
    )
    shown: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        shown.append(box.text())
        box.accept()

    button.setFocus()
    qtbot.waitUntil(button.hasFocus, timeout=2000)
    QTimer.singleShot(0, read_and_close)
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert "it will try again in 5 minutes" in shown[0]

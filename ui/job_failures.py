"""The status bar's word on background jobs that failed (the no-show check, later reminders and
backups): hidden while all is well, "1 background task failed" once one has, and a click or
Enter lists them with their times."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QToolButton, QWidget

from ui.context import AppContext
from ui.frontdesk.schedule_data import zone_of


class JobFailuresButton(QToolButton):
    failed = Signal()  # emitted on the jobs' thread, delivered on the UI thread

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session = ctx.session
        self.time_zone = zone_of(ctx.details.time_zone)
        self.setAccessibleName("Background task failures")
        self.hide()
        self.failed.connect(self.refresh)
        self.clicked.connect(self.show_list)
        session.on_job_failure(lambda _failure: self.failed.emit())

    def refresh(self) -> None:
        count = len(self.session.job_failures())
        self.setText(
            "1 background task failed" if count == 1 else f"{count} background tasks failed"
        )
        self.setToolTip(self.lines()[0] if count else "")
        self.setVisible(count > 0)

    def lines(self) -> list[str]:
        return [
            f"{f.at.astimezone(self.time_zone):%d/%m %H:%M}  {f.message}"
            for f in self.session.job_failures()
        ]

    def show_list(self) -> None:
        QMessageBox.warning(self, "Background tasks", "\n".join(self.lines()))

"""The status bar's word on sync: synced, how many changes wait to be sent, offline since when,
what went wrong, and how many changes from elsewhere wait for review. Hidden on a desk that
works alone."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QWidget

from clinicdesk.sync.runner import SyncStatus
from ui.context import AppContext
from ui.frontdesk.schedule_data import zone_of


class SyncStatusLabel(QLabel):
    changed = Signal(object)  # SyncStatus, emitted on a sync thread, shown on the UI thread

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = zone_of(ctx.details.time_zone)
        self.setAccessibleName("Sync")
        self.changed.connect(self.show_status)
        self.stop = ctx.session.on_sync_status(self.changed.emit)
        self.destroyed.connect(lambda _=None, stop=self.stop: stop())
        self.show_status(ctx.session.sync.status(ctx.actor))

    def show_status(self, status: SyncStatus) -> None:
        self.setText(status.text(lambda moment: f"{moment.astimezone(self.zone):%H:%M}"))
        self.setToolTip(status.problem)
        self.setVisible(status.enabled)

"""Dispensing history with filters and CSV export."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.context import AppContext


class HistoryView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def refresh(self) -> None:
        """Reload from the services (called when the view is shown)."""

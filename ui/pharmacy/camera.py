"""Scanning a prescription with the webcam (Qt Multimedia); frames decoded on a worker."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QWidget

from ui.context import AppContext


class CameraScanDialog(QDialog):
    """Shows the camera; emits ``codeFound`` with the first prescription code seen, then closes."""

    codeFound = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

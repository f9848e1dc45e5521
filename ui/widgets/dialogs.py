"""The common frame of ClinicDesk's dialogs: margins, spacing and a title."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QLabel, QVBoxLayout, QWidget

from ui.theme import set_kind


def titled_layout(dialog: QWidget, title: str, spacing: int = 10) -> tuple[QVBoxLayout, QLabel]:
    """A vertical layout for ``dialog`` that starts with its title; returns both."""
    layout = QVBoxLayout(dialog)
    layout.setContentsMargins(24, 20, 24, 18)
    layout.setSpacing(spacing)
    heading = QLabel(title)
    set_kind(heading, "title")
    layout.addWidget(heading)
    return layout, heading


def ask_reason(
    parent: QWidget, title: str, question: str, then: Callable[[str], None]
) -> QInputDialog:
    """A small non-blocking question asking why; ``then(reason)`` on OK (the service refuses an
    empty reason in words)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(question)
    dialog.textValueSelected.connect(then)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog

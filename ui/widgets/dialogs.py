"""The common frame of ClinicDesk's dialogs: margins, spacing and a title."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

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

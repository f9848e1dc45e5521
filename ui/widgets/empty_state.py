"""What a view shows while it has nothing to show yet: a quiet picture and a few words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.theme import pixmap, set_kind

ART_COLOUR = "#9fb3bf"


class EmptyState(QWidget):
    """``text`` is the label (a view may change it, to say why it is empty); ``add`` puts a
    button or another widget under it."""

    def __init__(self, icon_name: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QVBoxLayout(self)
        self.box.addStretch(1)
        art = QLabel()
        art.setPixmap(pixmap(icon_name, 56, ART_COLOUR))
        art.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.box.addWidget(art)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_kind(self.text, "muted")
        self.box.addWidget(self.text)
        self.box.addStretch(2)

    def add(self, widget: QWidget) -> None:
        self.box.insertWidget(self.box.count() - 1, widget, 0, Qt.AlignmentFlag.AlignHCenter)

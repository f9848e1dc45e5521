"""A stacked widget that asks for the room of the page it shows."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QStackedWidget


class CurrentPageStack(QStackedWidget):
    """A stack as large as the page shown, not as its largest page: the Calendar's or the
    chart's width never carries over to the other workspaces."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()

    def heightForWidth(self, width: int) -> int:
        """Only the height the page needs: a scroll area holding the stack would otherwise
        give wrapped labels their preferred height and scroll a page that fits."""
        return self.minimumSizeHint().height()

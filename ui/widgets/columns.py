"""Two columns side by side where the page has room for both, one under the other where not."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QBoxLayout, QWidget

SIDE_BY_SIDE = QBoxLayout.Direction.LeftToRight
UNDER = QBoxLayout.Direction.TopToBottom


def narrowest(widget: QWidget) -> int:
    return max(widget.minimumSizeHint().width(), widget.minimumWidth())


class Columns(QWidget):
    """``first`` beside ``second`` (widths shared by ``stretch``) when both fit at their
    minimum width, ``second`` under ``first`` when they do not (a 1024 px screen): the page
    then grows taller, and never asks for the width of both, so it never scrolls sideways."""

    def __init__(
        self,
        first: QWidget,
        second: QWidget,
        stretch: tuple[int, int] = (1, 1),
        spacing: int = 20,
        align: Qt.AlignmentFlag | None = None,
    ) -> None:
        """``align`` (Qt.AlignLeft for a pair of buttons) keeps each at its own width."""
        super().__init__()
        self.first, self.second = first, second
        self.box = QBoxLayout(SIDE_BY_SIDE, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(spacing)
        for widget, share in zip((first, second), stretch, strict=True):
            if align is None:
                self.box.addWidget(widget, share)
            else:
                self.box.addWidget(widget, share, align)

    @property
    def side_by_side(self) -> bool:
        return self.box.direction() == SIDE_BY_SIDE

    def room_needed(self) -> int:
        """The width both take side by side."""
        return narrowest(self.first) + self.box.spacing() + narrowest(self.second)

    def _reflow(self) -> None:
        if not self.isVisible():  # a hidden page's size is a stale default: wait for the shown one
            return
        direction = SIDE_BY_SIDE if self.width() >= self.room_needed() else UNDER
        if direction != self.box.direction():
            self.box.setDirection(direction)
            self.box.activate()  # the columns move now, and the new height goes up to the page

    def minimumSizeHint(self) -> QSize:
        """The height of the current arrangement; the width of the wider column alone."""
        narrow = max(narrowest(self.first), narrowest(self.second))
        return QSize(narrow, super().minimumSizeHint().height())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._reflow()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # a column asks for more (or less) room
            self._reflow()
        return super().event(event)

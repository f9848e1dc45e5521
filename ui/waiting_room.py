"""The waiting-room display: a window for a second screen, readable from across the room.

It shows the clinic's name, the time, and the latest tokens called with their rooms, in type
sized from the window's height; never a patient's name. The earlier calls fill the rest of the
height, and as many as the width has room for are shown. It reloads when the queue changes (on
a worker thread) and keeps showing the last answer if one fails.

It opens full screen on a second screen where there is one, and otherwise as a window on the
desk's own screen (reception keeps its work in view; F11 or a double-click makes it full
screen). How to leave or enter full screen is said small at the bottom for a few seconds after
each change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QKeyEvent, QPainter, QPaintEvent, QScreen
from PySide6.QtWidgets import QApplication, QWidget

from ui.changes import DAY_LISTS, FollowTables
from ui.context import AppContext
from ui.tasks import Task

SHOWN = 13  # the call being made and up to twelve earlier ones, as the width allows
EARLIER_WIDTH = 22  # height units a box of an earlier call needs at least
HINT_MS = 8000
FULL_SCREEN_HINT = "Esc or F11 to leave full screen"
WINDOW_HINT = "F11 or double-click for full screen"
GROUND = QColor("#0a2630")
PANEL = QColor("#123a45")
TEXT = QColor("#ffffff")
SOFT = QColor("#9fc3cc")
ACCENT = QColor("#ffd166")

Screen = TypeVar("Screen")


def display_screen(screens: Sequence[Screen], desk: Screen | None) -> Screen | None:
    """The screen the display goes full screen on: one that is not the desk's, if any."""
    return next((s for s in screens if s != desk), None)


class WaitingRoomDisplay(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.ctx = ctx
        try:
            self.zone = ZoneInfo(ctx.details.time_zone)
        except (KeyError, ValueError):
            self.zone = ZoneInfo("UTC")
        self.calls: list[tuple[int, str, str]] = []
        self._task: Task | None = None
        self.setWindowTitle(f"{ctx.details.name} – waiting room")
        self.setAccessibleName("Waiting-room display")
        self.resize(1280, 720)
        self.setMinimumSize(640, 360)
        self.follow = FollowTables(self, ctx, DAY_LISTS, self.refresh)
        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(1000)
        self.clock_timer.timeout.connect(self.update)
        self.hint_timer = QTimer(self)
        self.hint_timer.setSingleShot(True)
        self.hint_timer.setInterval(HINT_MS)
        self.hint_timer.timeout.connect(self.update)

    def open_on(self, desk: QScreen | None) -> None:
        """Full screen on another screen than the desk's, else a window on the desk's."""
        screen = display_screen(QApplication.screens(), desk)
        if screen is None:
            self.showNormal()
        else:
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
            self.showFullScreen()
        self.show_hint()

    def show_hint(self) -> None:
        self.hint_timer.start()
        self.update()

    @property
    def hint(self) -> str:
        """What the bottom line says now ("" once it has faded)."""
        if not self.hint_timer.isActive():
            return ""
        return FULL_SCREEN_HINT if self.isFullScreen() else WINDOW_HINT

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.clock_timer.start()

    def hideEvent(self, event) -> None:
        self.clock_timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        if self._task is not None:
            return
        self._task = self.ctx.tasks.submit(
            self.ctx.session.queue.called,
            SHOWN,
            on_result=self._show,
            on_error=self._keep,
            owner=self,
        )

    def _show(self, calls: list[tuple[int, str, str]]) -> None:
        self._task = None
        self.calls = calls
        self.update()

    def _keep(self, _error: BaseException) -> None:
        self._task = None  # the last answer stays up; the next change tries again

    # ---- full screen ----

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()
        self.show_hint()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        leaving = event.key() == Qt.Key.Key_Escape and self.isFullScreen()
        if event.key() == Qt.Key.Key_F11 or leaving:
            self.toggle_full_screen()
        else:
            super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        self.toggle_full_screen()

    # ---- painting ----

    def _font(self, px: float, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(max(10, int(px)))
        font.setBold(bold)
        return font

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), GROUND)
        unit = h / 100  # everything is sized from the height
        margin = 4 * unit
        left, right = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight
        middle = Qt.AlignmentFlag.AlignVCenter

        top = QRectF(margin, margin, w - 2 * margin, 9 * unit)
        p.setPen(TEXT)
        p.setFont(self._font(6 * unit, True))
        p.drawText(top, left | middle, self.ctx.details.name)
        now = datetime.now(UTC).astimezone(self.zone)
        p.drawText(top, right | middle, now.strftime("%H:%M"))
        if hint := self.hint:
            p.setPen(SOFT)
            p.setFont(self._font(2.6 * unit))
            p.drawText(QRectF(margin, h - 4 * unit, w - 2 * margin, 4 * unit), right | middle, hint)

        if not self.calls:
            p.setPen(SOFT)
            p.setFont(self._font(7 * unit, True))
            p.drawText(
                QRectF(0, 20 * unit, w, 60 * unit),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "Please take a seat.\nYour token number will appear here.",
            )
            p.end()
            return

        token, room, doctor = self.calls[0]
        card = QRectF(margin, 17 * unit, w - 2 * margin, 38 * unit)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(PANEL)
        p.drawRoundedRect(card, 2 * unit, 2 * unit)
        inner = card.adjusted(4 * unit, 2 * unit, -4 * unit, -2 * unit)
        p.setPen(SOFT)
        p.setFont(self._font(4.5 * unit, True))
        p.drawText(inner, left | Qt.AlignmentFlag.AlignTop, "NOW CALLING")
        p.setPen(ACCENT)
        p.setFont(self._font(26 * unit, True))
        p.drawText(inner.adjusted(0, 3 * unit, 0, 0), left | middle, str(token))
        p.setPen(TEXT)
        p.setFont(self._font(12 * unit, True))
        p.drawText(inner.adjusted(0, -2 * unit, 0, 0), right | middle, f"→ {room or 'Reception'}")
        if doctor:
            p.setPen(SOFT)
            p.setFont(self._font(4.5 * unit))
            p.drawText(inner, right | Qt.AlignmentFlag.AlignBottom, doctor)

        earlier = self.calls[1:]
        if not earlier:
            p.end()
            return
        p.setPen(SOFT)
        p.setFont(self._font(4 * unit, True))
        p.drawText(QRectF(margin, 58 * unit, w, 6 * unit), left | middle, "CALLED EARLIER")
        shown = self.earlier_columns()
        gap = 2 * unit
        width = (w - 2 * margin + gap) / shown
        box_top, box_bottom = 65 * unit, h - 5 * unit  # down to the hint line
        for i, (token, room, _doctor) in enumerate(earlier[:shown]):
            box = QRectF(margin + i * width, box_top, width - gap, box_bottom - box_top)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(PANEL)
            p.drawRoundedRect(box, 1.5 * unit, 1.5 * unit)
            lower = box.adjusted(unit, box.height() * 0.6, -unit, -unit)
            p.setPen(TEXT)
            p.setFont(self._fitting(str(token), 12 * unit, lower.width()))
            p.drawText(
                box.adjusted(0, unit, 0, -lower.height()), Qt.AlignmentFlag.AlignCenter, str(token)
            )
            p.setPen(SOFT)
            p.setFont(self._fitting(room or "Reception", 5 * unit, lower.width()))
            p.drawText(lower, Qt.AlignmentFlag.AlignCenter, room or "Reception")
        p.end()

    def earlier_columns(self) -> int:
        """How many earlier calls the width has room for, at the height's size of type."""
        unit = self.height() / 100
        return max(1, min(SHOWN - 1, int((self.width() - 6 * unit) / (EARLIER_WIDTH * unit))))

    def _fitting(self, text: str, px: float, width: float) -> QFont:
        """The bold font of ``px`` pixels, smaller if needed for ``text`` to fit ``width``."""
        font = self._font(px, True)
        wide = QFontMetricsF(font).horizontalAdvance(text)
        return font if wide <= width else self._font(px * width / wide, True)

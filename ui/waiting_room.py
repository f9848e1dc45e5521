"""The waiting-room display: a window for a second screen, readable from across the room.

It shows the clinic's name, the time, and the latest tokens called with their rooms, in type
sized from the window's height; never a patient's name. It asks the queue every few seconds
(on a worker thread) and keeps showing the last answer if one fails. F11 or a double-click
toggles full screen; Esc leaves it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from ui.changes import DAY_LISTS, FollowTables
from ui.context import AppContext
from ui.tasks import Task

SHOWN = 6
GROUND = QColor("#0a2630")
PANEL = QColor("#123a45")
TEXT = QColor("#ffffff")
SOFT = QColor("#9fc3cc")
ACCENT = QColor("#ffd166")


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

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_F11:
            self.toggle_full_screen()
        elif event.key() == Qt.Key.Key_Escape and self.isFullScreen():
            self.showNormal()
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
        width = (w - 2 * margin) / 5
        for i, (token, room, _doctor) in enumerate(earlier[:5]):
            box = QRectF(margin + i * width, 65 * unit, width - 2 * unit, 26 * unit)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(PANEL)
            p.drawRoundedRect(box, 1.5 * unit, 1.5 * unit)
            p.setPen(TEXT)
            p.setFont(self._font(12 * unit, True))
            p.drawText(
                box.adjusted(0, 1 * unit, 0, -9 * unit), Qt.AlignmentFlag.AlignCenter, str(token)
            )
            p.setPen(SOFT)
            p.setFont(self._font(5 * unit, True))
            p.drawText(box.adjusted(0, 16 * unit, 0, -1 * unit), Qt.AlignmentFlag.AlignCenter, room)
        p.end()

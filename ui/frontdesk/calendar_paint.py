"""The calendar's time grid: one painted widget, no widget per cell or appointment.

Rows are 5 minutes; hour and quarter lines are drawn. Time a doctor can still be booked (the
free starts of their shortest service) is white, the rest grey, so the hours show without a
separate query. A column whose doctor sees nobody that day (a weekday without hours, a clinic
holiday, leave) is hatched and says why. Appointments are blocks coloured by status. A
keyboard cursor sits on a column and a minute: Up/Down step through the column's stops
(quarter hours, free slots, appointment starts), Left/Right change column, PageUp/PageDown
move an hour, Enter activates. Dragging a block that can still move asks for a reschedule;
the block waits, dashed, at the new place until the answer comes (``settle``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from clinicdesk.scheduling.status import AppointmentStatus as S
from clinicdesk.services.appointments import AppointmentView
from ui.frontdesk.schedule_data import CalendarData, at_minute, clock_text, local_now, minute_of

ROW_MINUTES = 5
ROW_PX = 11  # so a 15-minute visit has room for two lines
GUTTER = 58
MIN_COLUMN = 130
DAY_START, DAY_END = 8 * 60, 18 * 60  # shown at least; widened to fit hours and bookings

# status -> (accent, fill)
STATUS_COLOURS: dict[S, tuple[str, str]] = {
    S.PENDING: ("#b7791f", "#fdf1d6"),
    S.AWAITING_PAYMENT: ("#8a5a00", "#fbe7c0"),
    S.CONFIRMED: ("#2b6fd6", "#dfeafc"),
    S.CHECKED_IN: ("#0e7c7b", "#d3eeec"),
    S.IN_CONSULTATION: ("#6d4bc4", "#e9e2fa"),
    S.COMPLETED: ("#3b7d4f", "#e2f1e6"),
    S.NO_SHOW: ("#b3261e", "#fbe3e1"),
    S.CANCELLED: ("#8d9aa5", "#f1f4f6"),
    S.REJECTED: ("#8d9aa5", "#f1f4f6"),
}
CLOSED = QColor("#eef2f5")
OPEN = QColor("#ffffff")
HATCH = QColor("#d5dde4")
CLOSED_TEXT = QColor("#42525f")
CENTRED_WRAPPED = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
CLOSED_LABEL_EVERY = 4 * 60  # the reason is repeated down a closed column, so it is always seen
LINE_HOUR = QColor("#cfd8e0")
LINE_QUARTER = QColor("#e8edf1")
CURSOR = QColor("#2b6fd6")
NOW = QColor("#d93025")


@dataclass
class Block:
    appointment: AppointmentView
    column: int
    start: int  # local minutes
    end: int


class CalendarGrid(QWidget):
    slot_activated = Signal(int, object)  # column, starts_at (UTC)
    appointment_activated = Signal(object)  # AppointmentView
    move_requested = Signal(object, int, object)  # AppointmentView, column, new starts_at
    cursor_moved = Signal()

    def __init__(self, zone: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = zone
        self.data = CalendarData([], [])
        self.show_cancelled = False
        self.first, self.last = DAY_START, DAY_END
        self.blocks: list[Block] = []
        self.stops: list[list[int]] = []
        self.open_rows: list[set[int]] = []
        self.cursor_column, self.cursor_minute = 0, DAY_START
        self._press: tuple[Block, int, QPoint] | None = None
        self._drag: tuple[Block, int, int] | None = None  # block, column, start minute
        self._pending: dict[str, tuple[int, int]] = {}  # appointment id -> column, minute
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setAccessibleName("Appointment calendar")
        self._small = QFont(self.font())
        self._small.setPointSizeF(8.5)
        self._bold = QFont(self.font())
        self._bold.setPointSizeF(9)
        self._bold.setBold(True)

    # ---- data ----

    def set_data(self, data: CalendarData) -> None:
        """Lay out the blocks and the stops once, so painting only draws."""
        self.data = data
        self._pending.clear()
        self._drag = self._press = None
        shown = [a for a in data.appointments if self.show_cancelled or not a.status.frees_time]
        column_of = {(c.doctor_id, c.day): i for i, c in enumerate(data.columns)}
        self.blocks = []
        minutes = [DAY_START, DAY_END]
        for a in shown:
            column = column_of.get((a.doctor_id, a.starts_at.astimezone(self.zone).date()))
            if column is None:
                continue
            start = minute_of(a.starts_at, self.zone)
            end = max(start + ROW_MINUTES, minute_of(a.ends_at, self.zone) or 24 * 60)
            self.blocks.append(Block(a, column, start, end))
            minutes += [start, end]
        # cancelled ones first, so the live booking in the same place is drawn over them
        self.blocks.sort(key=lambda b: not b.appointment.status.frees_time)
        self.open_rows = []
        for index in range(len(data.columns)):
            length = data.slot_minutes.get(index, 15)
            rows: set[int] = set()
            for start in (minute_of(t, self.zone) for t in data.free.get(index, [])):
                rows.update(range(start // ROW_MINUTES, (start + length) // ROW_MINUTES))
                minutes += [start, start + length]
            self.open_rows.append(rows)
        self.first = min(minutes) // 60 * 60
        self.last = min(24 * 60, -(-max(minutes) // 60) * 60)
        self.stops = [self._stops_of(index) for index in range(len(data.columns))]
        self.cursor_column = min(self.cursor_column, max(len(data.columns) - 1, 0))
        self.cursor_minute = min(max(self.cursor_minute, self.first), self.last - 15)
        self.setMinimumSize(GUTTER + MIN_COLUMN * max(len(data.columns), 1), self._y(self.last))
        self.update()

    def _stops_of(self, column: int) -> list[int]:
        stops = set(range(self.first, self.last, 15))
        stops.update(minute_of(t, self.zone) for t in self.data.free.get(column, []))
        stops.update(b.start for b in self.blocks if b.column == column)
        return sorted(stops)

    def set_show_cancelled(self, show: bool) -> None:
        self.show_cancelled = show
        self.set_data(self.data)

    # ---- geometry ----

    def _y(self, minute: int) -> int:
        return (minute - self.first) // ROW_MINUTES * ROW_PX

    def _minute_at(self, y: int) -> int:
        return self.first + max(0, y) // ROW_PX * ROW_MINUTES

    def column_width(self) -> float:
        return (self.width() - GUTTER) / max(len(self.data.columns), 1)

    def column_x(self, column: int) -> float:
        return GUTTER + column * self.column_width()

    def _column_at(self, x: int) -> int:
        count = len(self.data.columns)
        return min(max(int((x - GUTTER) // self.column_width()), 0), max(count - 1, 0))

    def block_rect(self, block: Block, column: int | None = None, start: int | None = None):
        column = block.column if column is None else column
        start = block.start if start is None else start
        x = self.column_x(column)
        top = self._y(start)
        height = max(self._y(start + block.end - block.start) - top, ROW_PX * 2)
        return QRectF(x + 3, top + 1, self.column_width() - 7, height - 2)

    def slot_point(self, column: int, minute: int) -> QPoint:
        """Where a mouse would point at that column and minute (for drags and tests)."""
        return QPoint(int(self.column_x(column) + self.column_width() / 2), self._y(minute) + 2)

    def block_at(self, pos: QPoint) -> Block | None:
        column, minute = self._column_at(pos.x()), self._minute_at(pos.y())
        return self._block_covering(column, minute) if pos.x() >= GUTTER else None

    def _block_covering(self, column: int, minute: int) -> Block | None:
        for block in reversed(self.blocks):  # the live one is drawn last
            if block.column == column and block.start <= minute < block.end:
                return block
        return None

    # ---- painting ----

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        clip = event.rect()
        painter.fillRect(clip, CLOSED)
        self._paint_open_time(painter, clip)
        self._paint_lines(painter, clip)
        self._paint_closed(painter)
        for block in self.blocks:
            if block.appointment.id in self._pending:
                continue
            rect = self.block_rect(block)
            if rect.intersects(QRectF(clip)):
                self._paint_block(painter, block, rect)
        for block in self.blocks:
            if block.appointment.id in self._pending:
                column, start = self._pending[block.appointment.id]
                self._paint_block(painter, block, self.block_rect(block, column, start), True)
        if self._drag is not None:
            block, column, start = self._drag
            self._paint_block(painter, block, self.block_rect(block, column, start), True)
        self._paint_now(painter)
        if self.hasFocus() and self.data.columns:
            self._paint_cursor(painter)
        painter.end()

    def _paint_open_time(self, painter: QPainter, clip: QRect) -> None:
        width = self.column_width()
        first_row, last_row = self.first // ROW_MINUTES, self.last // ROW_MINUTES
        for column, rows in enumerate(self.open_rows):
            x = self.column_x(column)
            run_start = None
            for row in range(first_row, last_row + 1):
                inside = row in rows
                if inside and run_start is None:
                    run_start = row
                elif not inside and run_start is not None:
                    top = self._y(run_start * ROW_MINUTES)
                    bottom = self._y(row * ROW_MINUTES)
                    painter.fillRect(QRectF(x, top, width, bottom - top), OPEN)
                    run_start = None

    def _paint_closed(self, painter: QPainter) -> None:
        width = self.column_width()
        top, bottom = self._y(self.first), self._y(self.last)
        painter.setFont(self._small)
        painter.setPen(CLOSED_TEXT)
        for column, why in self.data.closed.items():
            x = self.column_x(column)
            painter.fillRect(
                QRectF(x, top, width, bottom - top), QBrush(HATCH, Qt.BrushStyle.BDiagPattern)
            )
            for minute in range(self.first, self.last, CLOSED_LABEL_EVERY):
                label = QRectF(x + 4, self._y(minute) + 4, width - 8, 3 * ROW_PX)
                painter.fillRect(label, CLOSED)
                painter.drawText(
                    label, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, why
                )

    def _paint_lines(self, painter: QPainter, clip: QRect) -> None:
        painter.setFont(self._small)
        right = self.width()
        for minute in range(self.first, self.last + 1, 15):
            y = self._y(minute)
            if y < clip.top() - 20 or y > clip.bottom() + 20:
                continue
            on_hour = minute % 60 == 0
            painter.setPen(LINE_HOUR if on_hour else LINE_QUARTER)
            painter.drawLine(GUTTER - (6 if on_hour else 0), y, right, y)
            if on_hour and minute < self.last:
                painter.setPen(QColor("#5b6b79"))
                painter.drawText(
                    QRect(0, y + 2, GUTTER - 10, 16),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                    f"{minute // 60:02d}:00",
                )
        painter.setPen(LINE_HOUR)
        for column in range(len(self.data.columns) + 1):
            x = int(self.column_x(column))
            painter.drawLine(x, 0, x, self.height())

    def _paint_block(self, painter: QPainter, block: Block, rect: QRectF, ghost=False) -> None:
        a = block.appointment
        accent, fill = STATUS_COLOURS[a.status]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if ghost:
            painter.setPen(QPen(QColor(accent), 1.5, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(fill))
        else:
            painter.setPen(QPen(QColor(accent).lighter(150), 1))
            painter.setBrush(QColor(fill))
        painter.drawRoundedRect(rect, 4, 4)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.fillRect(QRectF(rect.left(), rect.top(), 4, rect.height()), QColor(accent))
        cancelled = a.status.frees_time
        text = rect.adjusted(9, 1, -4, -1).toRect()
        bold = QFont(self._bold)
        bold.setStrikeOut(cancelled)
        metrics, small = QFontMetrics(bold), QFontMetrics(self._small)
        first = f"{clock_text(a.starts_at, self.zone)}  {a.patient_name}"
        second = f"{a.service_name} · {a.status_label}"
        two_lines = text.height() >= metrics.height() + small.height()
        if not two_lines:  # a short visit: one line, centred, with the service after the name
            first = f"{first}  ·  {a.service_name}"
        painter.setFont(bold)
        painter.setPen(QColor("#6b7883") if cancelled else QColor("#12303a"))
        flags = Qt.AlignmentFlag.AlignLeft | (
            Qt.AlignmentFlag.AlignTop if two_lines else Qt.AlignmentFlag.AlignVCenter
        )
        elide = Qt.TextElideMode.ElideRight
        painter.drawText(text, flags, metrics.elidedText(first, elide, text.width()))
        if two_lines:
            painter.setFont(self._small)
            painter.setPen(QColor("#42525f"))
            below = text.adjusted(0, metrics.height(), 0, 0)
            painter.drawText(below, flags, small.elidedText(second, elide, text.width()))

    def _paint_now(self, painter: QPainter) -> None:
        now = local_now(self.zone)
        minute = now.hour * 60 + now.minute
        if not self.first <= minute < self.last:
            return
        painter.setPen(QPen(NOW, 2))
        y = self._y(minute) + (minute % ROW_MINUTES) * ROW_PX // ROW_MINUTES
        for column, c in enumerate(self.data.columns):
            if c.day == now.date():
                x = self.column_x(column)
                painter.drawLine(int(x), y, int(x + self.column_width()), y)

    def cursor_rect(self) -> QRectF:
        block = self.cursor_block()
        if block is not None:
            return self.block_rect(block)
        length = self.data.slot_minutes.get(self.cursor_column, 15)
        top = self._y(self.cursor_minute)
        x = self.column_x(self.cursor_column)
        return QRectF(
            x + 2, top, self.column_width() - 5, self._y(self.cursor_minute + length) - top
        )

    def _paint_cursor(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(CURSOR, 2.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = self.cursor_rect().adjusted(-1, -1, 1, 1)
        painter.drawRoundedRect(rect, 4, 4)
        if self.cursor_block() is None:
            painter.setFont(self._small)
            painter.drawText(
                rect.adjusted(8, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, self.cursor_text()
            )

    # ---- the keyboard cursor ----

    def cursor_block(self) -> Block | None:
        return self._block_covering(self.cursor_column, self.cursor_minute)

    def cursor_moment(self) -> datetime:
        column = self.data.columns[self.cursor_column]
        return at_minute(column.day, self.cursor_minute, self.zone)

    def cursor_text(self) -> str:
        return f"{self.cursor_minute // 60:02d}:{self.cursor_minute % 60:02d}"

    def put_cursor(self, column: int, minute: int) -> None:
        self.cursor_column = min(max(column, 0), max(len(self.data.columns) - 1, 0))
        self.cursor_minute = min(max(minute, self.first), self.last - ROW_MINUTES)
        self.update()
        self.cursor_moved.emit()

    def cursor_to_first_open(self) -> None:
        """Start on the earliest free slot of the first column that has one."""
        for column, free in sorted(self.data.free.items()):
            if free:
                self.put_cursor(column, minute_of(free[0], self.zone))
                return

    def _step(self, down: bool) -> int:
        stops = self.stops[self.cursor_column] if self.stops else []
        block = self.cursor_block()
        if down:
            after = block.end if block else self.cursor_minute + 1
            i = bisect.bisect_left(stops, after)
            return stops[i] if i < len(stops) else self.cursor_minute
        i = bisect.bisect_left(stops, self.cursor_minute if not block else block.start) - 1
        if i < 0:
            return self.cursor_minute
        above = self._block_covering(self.cursor_column, stops[i])
        return above.start if above else stops[i]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if not self.data.columns:
            super().keyPressEvent(event)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self.put_cursor(self.cursor_column, self._step(key == Qt.Key.Key_Down))
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = 1 if key == Qt.Key.Key_Right else -1
            self.put_cursor(self.cursor_column + step, self.cursor_minute)
        elif key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            step = 60 if key == Qt.Key.Key_PageDown else -60
            self.put_cursor(self.cursor_column, self.cursor_minute + step)
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            stops = self.stops[self.cursor_column]
            self.put_cursor(self.cursor_column, stops[0 if key == Qt.Key.Key_Home else -1])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activate_cursor()
        else:
            super().keyPressEvent(event)

    def activate_cursor(self) -> None:
        block = self.cursor_block()
        if block is not None:
            self.appointment_activated.emit(block.appointment)
        elif self.data.columns:
            self.slot_activated.emit(self.cursor_column, self.cursor_moment())

    # ---- mouse: click, double-click, drag to reschedule ----

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.data.columns:
            return
        pos = event.position().toPoint()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        block = self.block_at(pos)
        column, minute = self._column_at(pos.x()), self._minute_at(pos.y())
        self.put_cursor(column, block.start if block else minute)
        if block is not None and block.appointment.status.movable:
            self._press = (block, minute - block.start, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        block, offset, origin = self._press
        pos = event.position().toPoint()
        if self._drag is None:
            if (pos - origin).manhattanLength() < QApplication.startDragDistance():
                return
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        start = self._minute_at(pos.y()) - offset
        length = block.end - block.start
        start = min(max(start, self.first), self.last - length)
        self._drag = (block, self._column_at(pos.x()), start)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag, self._press = self._drag, None, None
        self.unsetCursor()
        if drag is None:
            return
        block, column, start = drag
        if (column, start) != (block.column, block.start):
            self._pending[block.appointment.id] = (column, start)
            self.put_cursor(column, start)
            moment = at_minute(self.data.columns[column].day, start, self.zone)
            self.move_requested.emit(block.appointment, column, moment)
        self.update()

    def settle(self, appointment_id: str) -> None:
        """The move was refused: the block snaps back to where it was."""
        block = next((b for b in self.blocks if b.appointment.id == appointment_id), None)
        self._pending.pop(appointment_id, None)
        if block is not None:
            self.put_cursor(block.column, block.start)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.activate_cursor()

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip and isinstance(event, QHelpEvent):
            block = self.block_at(event.pos())
            if block is not None:
                a = block.appointment
                QToolTip.showText(
                    event.globalPos(),
                    f"<b>{a.patient_name}</b><br>{a.service_name} with {a.doctor_name}<br>"
                    f"{clock_text(a.starts_at, self.zone)}–{clock_text(a.ends_at, self.zone)}"
                    f" · {a.status_label}",
                    self,
                )
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

"""The calendar: a day with one column per doctor, or one doctor's week.

Alt+Left / Alt+Right go back and forward a day (a week in the week view), Alt+Home to today.
In the grid, arrows move the cursor, Enter on free time books it, Enter on an appointment opens
its actions; dragging an appointment reschedules it (a refusal snaps it back with the reason).
Everything is loaded on a worker thread; an answer for a date no longer shown is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from PySide6.QtCore import QDate, QRect, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.scheduling.status import AppointmentStatus as S
from clinicdesk.services.appointments import AppointmentView
from ui.changes import CALENDAR, FollowTables
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.calendar_paint import ROW_PX, STATUS_COLOURS, CalendarGrid
from ui.frontdesk.schedule_data import (
    CalendarData,
    Directory,
    load_day,
    load_week,
    local_now,
    slot_text,
    zone_of,
)
from ui.theme import set_kind
from ui.widgets.keys import view_shortcuts

LEGEND = (
    S.PENDING,
    S.CONFIRMED,
    S.CHECKED_IN,
    S.IN_CONSULTATION,
    S.COMPLETED,
    S.NO_SHOW,
    S.CANCELLED,
)


class ColumnHeader(QWidget):
    """Doctor (or day) names above the grid's columns, painted in the grid's geometry."""

    def __init__(self, grid: CalendarGrid) -> None:
        super().__init__()
        self.grid = grid
        self.setFixedHeight(46)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        bold = self.font()
        bold.setBold(True)
        today = local_now(self.grid.zone).date()
        for i, column in enumerate(self.grid.data.columns):
            x = int(self.grid.column_x(i))
            width = int(self.grid.column_width())
            box = QRect(x + 8, 4, width - 12, 20)
            painter.setFont(bold)
            painter.setPen(Qt.GlobalColor.darkCyan if column.day == today else Qt.GlobalColor.black)
            metrics = painter.fontMetrics()
            painter.drawText(
                box, 0, metrics.elidedText(column.title, Qt.TextElideMode.ElideRight, box.width())
            )
            painter.setFont(self.font())
            painter.setPen(Qt.GlobalColor.darkGray)
            sub = QRect(x + 8, 23, width - 12, 18)
            painter.drawText(
                sub,
                0,
                painter.fontMetrics().elidedText(
                    column.subtitle, Qt.TextElideMode.ElideRight, sub.width()
                ),
            )
            painter.setPen(Qt.GlobalColor.lightGray)
            painter.drawLine(x, 0, x, self.height())
        painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        painter.end()


class CalendarView(QWidget):
    book_requested = Signal(str, object)  # doctor id, starts_at (UTC)
    appointment_requested = Signal(object)  # AppointmentView
    directory_needed = Signal()

    def __init__(self, ctx: AppContext, directory: Callable[[], Directory | None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.directory = directory
        self.zone = zone_of(ctx.details.time_zone)
        self.day = local_now(self.zone).date()
        self.week = False
        self._seq = 0
        self._loaded_key: tuple | None = None

        self.day_button = QPushButton("Day")
        self.week_button = QPushButton("Week")
        modes = QButtonGroup(self)
        for button in (self.day_button, self.week_button):
            button.setCheckable(True)
            set_kind(button, "segment")
            modes.addButton(button)
        self.day_button.setChecked(True)
        self.day_button.setToolTip("All doctors on one day")
        self.week_button.setToolTip("One doctor's week")
        self.day_button.clicked.connect(lambda: self.set_week(False))
        self.week_button.clicked.connect(lambda: self.set_week(True))
        self.doctor = QComboBox()
        self.doctor.setAccessibleName("Doctor for the week view")
        self.doctor.setMinimumWidth(200)
        self.doctor.hide()
        self.doctor.currentIndexChanged.connect(lambda _i: self.reload())
        # a booking, move or cancellation here or at another desk shows without a refresh
        self.follow = FollowTables(self, ctx, CALENDAR, self.reload)
        self.previous = QPushButton("‹")
        self.previous.setToolTip("Previous day (Alt+Left)")
        self.previous.clicked.connect(lambda: self.move(-1))
        self.today_button = QPushButton("Today")
        self.today_button.setToolTip("Back to today (Alt+Home)")
        self.today_button.clicked.connect(self.go_today)
        self.next = QPushButton("›")
        self.next.setToolTip("Next day (Alt+Right)")
        self.next.clicked.connect(lambda: self.move(1))
        for button in (self.previous, self.next):
            button.setFixedWidth(40)
        self.date_edit = QDateEdit(calendarPopup=True)
        self.date_edit.setDisplayFormat("ddd dd/MM/yyyy")
        self.date_edit.setAccessibleName("Date shown")
        self.date_edit.dateChanged.connect(self._picked)
        self.title = QLabel()
        self.title.setWordWrap(True)  # on a narrow screen the date takes two lines
        self.title.setMinimumWidth(60)
        set_kind(self.title, "subtitle")
        self.show_cancelled = QCheckBox("Show cancelled")
        self.show_cancelled.toggled.connect(lambda on: self.grid.set_show_cancelled(on))

        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(self.day_button)
        bar.addWidget(self.week_button)
        bar.addWidget(self.doctor)
        bar.addSpacing(12)
        bar.addWidget(self.previous)
        bar.addWidget(self.today_button)
        bar.addWidget(self.next)
        bar.addWidget(self.date_edit)
        bar.addSpacing(12)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.show_cancelled)

        self.grid = CalendarGrid(self.zone)
        self.grid.slot_activated.connect(self._slot_activated)
        self.grid.appointment_activated.connect(self.appointment_requested)
        self.grid.move_requested.connect(self._move_requested)
        self.grid.cursor_moved.connect(self._cursor_moved)
        self.header = ColumnHeader(self.grid)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("CalendarScroll")
        self.scroll.setWidget(self.grid)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFocusProxy(self.grid)

        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        set_kind(self.status, "muted")

        frame = QWidget(objectName="CalendarFrame")
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(1, 1, 1, 1)
        inner.setSpacing(0)
        inner.addWidget(self.header)
        inner.addWidget(self.scroll, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(frame, 1)
        layout.addWidget(self.status)  # the legend under it: side by side they need 1300 px
        layout.addWidget(self._legend())
        self.setFocusProxy(self.grid)

        view_shortcuts(
            self,
            (
                ("Alt+Left", lambda: self.move(-1)),
                ("Alt+Right", lambda: self.move(1)),
                ("Alt+Home", self.go_today),
            ),
        )
        self._show_date()

    def _legend(self) -> QLabel:
        chips = " &nbsp;".join(  # a line breaks between chips, never inside one
            f"<span style='color:{STATUS_COLOURS[s][0]}; font-size:13pt'>■</span>&nbsp;"
            f"{s.label.replace(' ', '&nbsp;').replace('-', '&#8209;')}"
            for s in LEGEND
        )
        legend = QLabel(chips)
        legend.setWordWrap(True)  # on a narrow screen the chips take two lines, not more width
        legend.setAccessibleName("Colour legend")
        set_kind(legend, "hint")
        return legend

    # ---- what is shown ----

    def set_directory(self, directory: Directory) -> None:
        self.doctor.blockSignals(True)
        current = self.doctor.currentData()
        self.doctor.clear()
        for d in directory.doctors:
            self.doctor.addItem(d.name, d.id)
        if current:
            self.doctor.setCurrentIndex(max(self.doctor.findData(current), 0))
        self.doctor.blockSignals(False)

    def set_week(self, week: bool, doctor_id: str | None = None) -> None:
        self.week = week
        (self.week_button if week else self.day_button).setChecked(True)
        self.doctor.setVisible(week)
        if doctor_id:
            self.doctor.setCurrentIndex(max(self.doctor.findData(doctor_id), 0))
        step = "week" if week else "day"
        self.previous.setToolTip(f"Previous {step} (Alt+Left)")
        self.next.setToolTip(f"Next {step} (Alt+Right)")
        self._show_date()
        self.reload()

    def move(self, steps: int) -> None:
        self.show_day(self.day + timedelta(days=steps * (7 if self.week else 1)))

    def go_today(self) -> None:
        self.show_day(local_now(self.zone).date())

    def show_day(self, day: date) -> None:
        self.day = day
        self._show_date()
        self.reload()

    def _picked(self, value: QDate) -> None:
        picked = date(value.year(), value.month(), value.day())
        if picked != self.day:
            self.show_day(picked)

    def _show_date(self) -> None:
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(self.day.year, self.day.month, self.day.day))
        self.date_edit.blockSignals(False)
        if self.week:
            monday = self.day - timedelta(days=self.day.weekday())
            sunday = monday + timedelta(days=6)
            self.title.setText(f"Week of {monday.day} {monday:%B} – {sunday.day} {sunday:%B %Y}")
        else:
            self.title.setText(f"{self.day:%A} {self.day.day} {self.day:%B %Y}")

    # ---- loading ----

    def reload(self) -> None:
        directory = self.directory()
        if directory is None:
            self.directory_needed.emit()
            return
        self._seq += 1
        seq, day = self._seq, self.day
        key = (self.week, self.doctor.currentData() if self.week else None, day)
        if self.week:
            doctor_id = self.doctor.currentData()
            if not doctor_id:
                return
            call = (load_week, self.ctx.session, self.ctx.actor, directory, doctor_id, day)
        else:
            call = (load_day, self.ctx.session, self.ctx.actor, directory, day)
        if key != self._loaded_key:  # a refresh of what is shown keeps its line until it is in
            self.status.setText("Loading…")
        self.ctx.tasks.submit(
            *call,
            on_result=lambda data: self._loaded(seq, key, data),
            on_error=lambda e: self.show_message(describe(e)),
            owner=self,
        )

    def _loaded(self, seq: int, key: tuple, data: CalendarData) -> None:
        if seq != self._seq:
            return
        fresh = key != self._loaded_key
        self._loaded_key = key
        self.grid.set_data(data)
        self.header.update()
        live = [a for a in data.appointments if not a.status.frees_time]
        free = sum(len(f) for f in data.free.values())
        if not data.columns:
            self.status.setText("No doctors yet: an administrator adds doctors and their hours.")
        elif len(data.closed) == len(data.columns) and not live:
            self.status.setText(" · ".join(dict.fromkeys(data.closed.values())))
        else:
            self.status.setText(
                f"{len(live)} appointment{'s' if len(live) != 1 else ''} · "
                f"{free} free slot{'s' if free != 1 else ''} · "
                "arrows move, Enter books or opens, drag to move"
            )
        if fresh:
            self.grid.cursor_to_first_open()
            self._scroll_to_cursor()

    # ---- acting ----

    def _slot_activated(self, column: int, starts_at) -> None:
        self.book_requested.emit(self.grid.data.columns[column].doctor_id, starts_at)

    def _move_requested(self, appointment: AppointmentView, column: int, starts_at) -> None:
        doctor_id = self.grid.data.columns[column].doctor_id
        self.message.hide()
        self.ctx.tasks.submit(
            self.ctx.session.appointments.reschedule,
            self.ctx.actor,
            appointment.id,
            starts_at,
            doctor_id,
            on_result=lambda v: self._moved(v),
            on_error=lambda e: self._move_refused(appointment, e),
            owner=self,
        )

    def _moved(self, view: AppointmentView) -> None:
        self.ctx.notify(
            f"Moved {view.patient_name} to {slot_text(view.starts_at, self.zone)} "
            f"with {view.doctor_name}."
        )
        self.reload()

    def _move_refused(self, appointment: AppointmentView, error: BaseException) -> None:
        self.grid.settle(appointment.id)
        self.show_message(f"{appointment.patient_name} was not moved. {describe(error)}")

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _cursor_moved(self) -> None:
        self.message.hide()
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        rect = self.grid.cursor_rect().toRect()
        self.scroll.ensureVisible(
            rect.center().x(), rect.center().y(), 0, rect.height() // 2 + ROW_PX * 6
        )

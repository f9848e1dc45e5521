"""The doctor's day: today's booked patients, who waits for this doctor, and who was seen.

Call next (Ctrl+Enter) calls the next patient in the queue and opens their visit; Enter on a
checked-in appointment or a queue row opens that visit. The lists reload on a worker when shown,
after every action, after every commit that changed the day's queue, appointments or visits
(here, at another desk on this database, or arrived by sync: ``ui/changes.py``), and once a
minute for the minutes waited.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.ids import utcnow
from clinicdesk.scheduling.status import ATTENDED, FREES_TIME, AppointmentStatus
from clinicdesk.services.booking import AppointmentView
from clinicdesk.services.queue import QueueView, StillInConsultation
from clinicdesk.services.visits import DoctorDay, VisitView
from ui.changes import DAY_LISTS, FollowTables
from ui.context import AppContext
from ui.doctor.chart_sections_view import entry_table
from ui.doctor.pages import CHART, VISIT
from ui.errors import describe
from ui.frontdesk.call_next_question import Answer, ask_still_in_consultation
from ui.frontdesk.queue_board import PRIORITY_COLOURS
from ui.frontdesk.schedule_data import clock_text, zone_of
from ui.tasks import Refresher
from ui.theme import icon, set_kind
from ui.widgets.table import RowsModel

CALL_NEXT_KEYS = ("Ctrl+Return", "Ctrl+Enter")  # the workspace binds them while Today shows
GONE = FREES_TIME | {AppointmentStatus.NO_SHOW}
GREYED = GONE | {AppointmentStatus.COMPLETED}
GREY = QColor("#8d9aa5")


class AppointmentsModel(RowsModel[AppointmentView]):
    HEADERS = ("Time", "Patient", "Service", "Status")

    def __init__(self, zone) -> None:
        super().__init__()
        self.zone = zone

    def cells(self, a: AppointmentView) -> tuple[str, ...]:
        return (clock_text(a.starts_at, self.zone), a.patient_name, a.service_name, a.status_label)

    def extra(self, a: AppointmentView, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ForegroundRole and a.status in GREYED:
            return GREY
        return None


def minutes_since(moment: datetime, now: datetime) -> int:
    return max(int((now - moment).total_seconds() // 60), 0)


class WaitingModel(RowsModel[QueueView]):
    HEADERS = ("Token", "Patient", "Priority", "Waiting", "Est. wait")

    def __init__(self, zone) -> None:
        super().__init__()
        self.zone = zone
        self.now = utcnow()

    def cells(self, q: QueueView) -> tuple[str, ...]:
        kind = "booked " if q.appointment_id else ""
        if q.due_at <= self.now:
            waited = f"{minutes_since(q.due_at, self.now)} min"
        else:
            waited = f"{kind}due {clock_text(q.due_at, self.zone)}"
        wait = q.estimated_wait_minutes
        estimate = "—" if wait is None else ("next" if wait == 0 else f"~{wait} min")
        return (str(q.token), q.patient_name, q.priority_label, waited, estimate)

    def extra(self, q: QueueView, column: int, role: int) -> object:
        if column == 2 and q.priority in PRIORITY_COLOURS:
            text, fill = PRIORITY_COLOURS[q.priority]
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor(text)
            if role == Qt.ItemDataRole.BackgroundRole:
                return QColor(fill)
        return None


class SeenModel(RowsModel[QueueView]):
    HEADERS = ("Token", "Patient", "Called", "Status")

    def __init__(self, zone) -> None:
        super().__init__()
        self.zone = zone

    def cells(self, q: QueueView) -> tuple[str, ...]:
        called = clock_text(q.called_at, self.zone) if q.called_at else ""
        status = "With you" if q.status == "called" else "Seen"
        return (str(q.token), q.patient_name, called, status)

    def extra(self, q: QueueView, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ForegroundRole and q.status != "called":
            return GREY
        return None


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    set_kind(label, "section")
    return label


class DayView(QWidget):
    visit_opened = Signal(object)  # VisitView

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.zone = zone_of(ctx.details.time_zone)
        self.day: DoctorDay | None = None
        self.loader = Refresher(
            ctx.tasks,
            lambda: ctx.session.visits.doctor_day(ctx.actor),
            self._loaded,
            self._load_failed,
            self,
        )
        self._busy = False
        self._load_error = False
        self.question: QMessageBox | None = None  # while "Call next" asks about the open visit

        title = QLabel("Today")
        set_kind(title, "title")
        self.date_label = QLabel()
        set_kind(self.date_label, "muted")
        self.summary = QLabel()
        set_kind(self.summary, "muted")
        self.summary.setWordWrap(True)  # wraps at 1024 px rather than pushing Call next away
        self.call_button = QPushButton(icon("user", "#ffffff"), "Call next  (Ctrl+Enter)")
        set_kind(self.call_button, "primary")
        self.call_button.setToolTip("Call the next patient waiting for you and open the visit")
        self.call_button.clicked.connect(self.call_next)
        self.refresh_button = QPushButton(icon("refresh"), "")
        self.refresh_button.setToolTip("Refresh now (the lists also refresh by themselves)")
        self.refresh_button.clicked.connect(self.reload)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.date_label, 0, Qt.AlignmentFlag.AlignBottom)
        head.addSpacing(12)
        head.addWidget(self.summary, 1, Qt.AlignmentFlag.AlignBottom)
        head.addWidget(self.call_button)
        head.addWidget(self.refresh_button)

        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()

        self.appointments_model = AppointmentsModel(self.zone)
        self.waiting_model = WaitingModel(self.zone)
        self.seen_model = SeenModel(self.zone)
        self.appointments = entry_table(self.appointments_model, "Today's appointments", 1)
        self.waiting = entry_table(self.waiting_model, "Waiting for you", 1)
        self.seen = entry_table(self.seen_model, "Called and seen", 1)
        self.appointments.open_requested.connect(self.open_appointment)
        self.waiting.open_requested.connect(lambda: self.open_entry(self.waiting))
        self.seen.open_requested.connect(lambda: self.open_entry(self.seen))
        self.appointments_heading = _heading("APPOINTMENTS")
        self.appointments_empty = QLabel()
        set_kind(self.appointments_empty, "muted")
        self.waiting_heading = _heading("WAITING FOR YOU")
        self.waiting_empty = QLabel()
        set_kind(self.waiting_empty, "muted")
        self.seen_heading = _heading("CALLED AND SEEN TODAY")

        left = QVBoxLayout()
        left.addWidget(self.appointments_heading)
        left.addWidget(self.appointments_empty)
        left.addWidget(self.appointments, 1)
        right = QVBoxLayout()
        right.addWidget(self.waiting_heading)
        right.addWidget(self.waiting_empty)
        right.addWidget(self.waiting, 3)
        right.addWidget(self.seen_heading)
        right.addWidget(self.seen, 2)
        body = QHBoxLayout()
        body.setSpacing(18)
        body.addLayout(left, 1)
        body.addLayout(right, 1)
        hint = QLabel(
            "Enter opens the highlighted patient's visit · Tab moves between the lists · "
            f"{CHART.key} the chart, {VISIT.key} the visit"
        )
        set_kind(hint, "hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)
        layout.addWidget(hint)

        self.follow = FollowTables(self, ctx, DAY_LISTS, self.reload, counts_minutes=True)

    def focus_view(self) -> None:
        target = self.waiting if self.waiting_model.rowCount() else self.appointments
        target.setFocus()

    # ---- loading ----

    def reload(self) -> None:
        self.loader.reload()

    def _load_failed(self, error: BaseException) -> None:
        self._load_error = True
        self.show_message(describe(error))
        self.call_button.setEnabled(False)

    def _loaded(self, day: DoctorDay) -> None:
        first = self.day is None
        self.day = day
        if self._load_error:  # an action's message stays until the next action
            self._load_error = False
            self.message.hide()
        self.call_button.setEnabled(True)
        self.waiting_model.now = utcnow()
        waiting = [q for q in day.queue if q.status == "waiting"]
        seen = [q for q in day.queue if q.status != "waiting"]
        for table, model, rows in (
            (self.appointments, self.appointments_model, day.appointments),
            (self.waiting, self.waiting_model, waiting),
            (self.seen, self.seen_model, seen),
        ):
            keep = model.row(table.currentIndex().row())
            model.set_rows(rows)
            ids = [r.id for r in rows]
            if keep is not None and keep.id in ids:
                table.selectRow(ids.index(keep.id))
            elif rows:
                table.selectRow(0)
        if first and self.appointments.hasFocus() and waiting:
            self.waiting.setFocus()  # shown before the lists were in: start at the queue
        self.date_label.setText(f"{day.day:%A %d %B %Y}")
        booked = [a for a in day.appointments if a.status not in GONE]
        done = sum(1 for a in booked if a.status == AppointmentStatus.COMPLETED)
        self.appointments_heading.setText(f"APPOINTMENTS · {len(booked)}")
        self.waiting_heading.setText(f"WAITING FOR YOU · {len(waiting)}")
        self.appointments_empty.setText("No appointments booked with you today.")
        self.appointments_empty.setVisible(not day.appointments)
        self.waiting_empty.setText("Nobody is waiting for you right now.")
        self.waiting_empty.setVisible(not waiting)
        with_you = sum(1 for q in seen if q.status == "called")
        self.summary.setText(
            f"{len(booked)} booked ({done} done) · {len(waiting)} waiting · "
            f"{with_you} with you · {len(seen) - with_you} seen from the queue"
        )

    # ---- actions ----

    def call_next(self, leave_open: bool = False) -> None:
        """Call the next patient; while one is still in consultation, ask first."""
        if self._busy or not self.call_button.isEnabled() or self.question is not None:
            return

        def called(visit: VisitView | None) -> None:
            if visit is None:
                self.ctx.notify("Nobody is waiting for you right now.")
            else:
                self.visit_opened.emit(visit)
            self.reload()

        self._run(
            self.ctx.session.visits.call_next, leave_open, on_result=called, on_refused=self._ask
        )

    def _ask(self, error: BaseException) -> bool:
        if not isinstance(error, StillInConsultation):
            return False
        self.question = ask_still_in_consultation(self, error, self._answered, can_open_visit=True)
        return True

    def _answered(self, answer: Answer, in_room: QueueView) -> None:
        self.question = None
        self.window().activateWindow()  # the keyboard comes back to the day
        if answer is Answer.FINISH_FIRST:
            self._run(
                self.ctx.session.visits.start_for_queue_entry, in_room.id, on_result=self._opened
            )
        elif answer is Answer.LEAVE_OPEN:
            self.call_next(leave_open=True)

    def open_appointment(self) -> None:
        appt = self.appointments_model.row(self.appointments.currentIndex().row())
        if appt is None:
            return
        if appt.status not in ATTENDED:
            self.show_message(
                f"{appt.patient_name} is {appt.status_label.lower()}: the visit opens once "
                "reception has checked them in."
            )
            return
        self._run(self.ctx.session.visits.start_for_appointment, appt.id, on_result=self._opened)

    def open_entry(self, table: QTableView) -> None:
        """Open the visit of the highlighted queue row (waiting: this calls them in)."""
        entry = table.model().row(table.currentIndex().row())
        if entry is not None:
            self._run(
                self.ctx.session.visits.start_for_queue_entry, entry.id, on_result=self._opened
            )

    def _opened(self, visit: VisitView) -> None:
        self.visit_opened.emit(visit)
        self.reload()

    def _run(self, fn, *args, on_result, on_refused=lambda _e: False) -> None:
        """``on_refused(error)`` may take over an error (True); otherwise it is shown."""
        self.message.hide()
        self._busy = True

        def done(value) -> None:
            self._busy = False
            on_result(value)

        def failed(error: BaseException) -> None:
            self._busy = False
            if not on_refused(error):
                self.show_message(describe(error))
            self.reload()

        self.ctx.tasks.submit(
            fn, self.ctx.actor, *args, on_result=done, on_error=failed, owner=self
        )

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

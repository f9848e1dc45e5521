"""Today's queue: who is waiting (in calling order), who is called to which room, who is done.

Reception adds walk-ins (Ctrl+W), calls the next patient for a doctor (Alt+C), marks a called
patient finished (Alt+F) or a waiting one as gone home (Alt+L). The board reloads itself every
few seconds while it is shown, on a worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.queue import QueueView, StillInConsultation
from ui.changes import DAY_LISTS, FollowTables
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.call_next_question import Answer, ask_still_in_consultation
from ui.frontdesk.schedule_data import Directory, clock_text, zone_of
from ui.tasks import Refresher
from ui.theme import icon, set_kind
from ui.widgets.table import RowsModel, read_only_rows

PRIORITY_COLOURS = {1: ("#8a5a00", "#fdf1d6"), 2: ("#b3261e", "#fdecea")}
_BOLD = QFont()
_BOLD.setBold(True)


class WaitingModel(RowsModel[QueueView]):
    HEADERS = ("Token", "Patient", "Priority", "Doctor", "Due", "Est. wait")

    def __init__(self, zone) -> None:
        super().__init__()
        self.zone = zone

    def cells(self, q: QueueView) -> tuple[str, ...]:
        kind = "booked" if q.appointment_id else "walk-in"
        wait = q.estimated_wait_minutes
        return (
            str(q.token),
            q.patient_name,
            q.priority_label,
            q.doctor_name or "Next free",
            f"{clock_text(q.due_at, self.zone)} ({kind})",
            "—" if wait is None else ("now" if wait == 0 else f"~{wait} min"),
        )

    def extra(self, q: QueueView, column: int, role: int) -> object:
        if column == 0 and role == Qt.ItemDataRole.FontRole:
            return _BOLD
        if column == 2 and q.priority in PRIORITY_COLOURS:
            text, fill = PRIORITY_COLOURS[q.priority]
            if role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.DecorationRole):
                return QColor(text)  # the swatch stays coloured on a selected row
            if role == Qt.ItemDataRole.BackgroundRole:
                return QColor(fill)
            if role == Qt.ItemDataRole.FontRole:
                return _BOLD
        return None


class CalledModel(RowsModel[QueueView]):
    HEADERS = ("Token", "Room", "Doctor", "Patient", "Called")

    def __init__(self, zone) -> None:
        super().__init__()
        self.zone = zone

    def cells(self, q: QueueView) -> tuple[str, ...]:
        called = clock_text(q.called_at, self.zone) if q.called_at else ""
        return (str(q.token), q.room or "—", q.called_by, q.patient_name, called)

    def extra(self, q: QueueView, column: int, role: int) -> object:
        return _BOLD if column in (0, 1) and role == Qt.ItemDataRole.FontRole else None


class FinishedModel(RowsModel[QueueView]):
    HEADERS = ("Token", "Patient", "Outcome")

    def cells(self, q: QueueView) -> tuple[str, ...]:
        outcome = "Seen" if q.status == "done" else "Left without being seen"
        return (str(q.token), q.patient_name, outcome)


def _table(model: RowsModel, name: str) -> QTableView:
    table = QTableView()
    table.setModel(model)
    read_only_rows(table)
    table.setAccessibleName(name)
    table.verticalHeader().setDefaultSectionSize(34)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    return table


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    set_kind(label, "section")
    return label


class QueueBoard(QWidget):
    walk_in_requested = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.zone = zone_of(ctx.details.time_zone)
        self.entries: list[QueueView] = []
        self.question: QMessageBox | None = None  # while "Call next" asks about the room
        self.loader = Refresher(
            ctx.tasks,
            lambda: ctx.session.queue.board(ctx.actor),
            self._loaded,
            self._load_failed,
            self,
        )

        self.add_button = QPushButton(icon("plus", "#ffffff"), "Add walk-in")
        set_kind(self.add_button, "primary")
        self.add_button.setToolTip("Add a walk-in to the queue (Ctrl+W)")
        self.add_button.clicked.connect(self.walk_in_requested)
        self.doctor = QComboBox()
        self.doctor.setAccessibleName("Doctor calling")
        self.doctor.setMinimumWidth(220)
        doctor_label = QLabel("&For")
        doctor_label.setBuddy(self.doctor)
        self.call_button = QPushButton("&Call next")
        self.call_button.setToolTip("Call the next patient for this doctor (Alt+C)")
        self.call_button.clicked.connect(self.call_next)
        self.refresh_button = QPushButton(icon("refresh"), "")
        self.refresh_button.setToolTip("Refresh now (the board also refreshes by itself)")
        self.refresh_button.clicked.connect(self.reload)
        self.summary = QLabel()
        set_kind(self.summary, "muted")
        bar = QHBoxLayout()
        bar.addWidget(self.add_button)
        bar.addSpacing(12)
        bar.addWidget(self.summary, 1)
        bar.addWidget(doctor_label)
        bar.addWidget(self.doctor)
        bar.addWidget(self.call_button)
        bar.addWidget(self.refresh_button)

        self.waiting_model = WaitingModel(self.zone)
        self.called_model = CalledModel(self.zone)
        self.finished_model = FinishedModel()
        self.waiting = _table(self.waiting_model, "Waiting")
        self.called = _table(self.called_model, "Called")
        self.finished = _table(self.finished_model, "Seen or left")
        self.left_button = QPushButton("Patient &left")
        self.left_button.setToolTip("The highlighted patient went home without being seen (Alt+L)")
        self.left_button.clicked.connect(self.mark_left)
        self.finish_button = QPushButton("&Finished")
        self.finish_button.setToolTip("The highlighted called patient has been seen (Alt+F)")
        self.finish_button.clicked.connect(self.finish)

        self.waiting_heading = _heading("WAITING")
        left = QVBoxLayout()
        left.addWidget(self.waiting_heading)
        left.addWidget(self.waiting, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.left_button)
        left.addLayout(row)
        right = QVBoxLayout()
        right.addWidget(_heading("CALLED TO A ROOM"))
        right.addWidget(self.called, 3)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.finish_button)
        right.addLayout(row)
        right.addWidget(_heading("SEEN OR LEFT"))
        right.addWidget(self.finished, 2)
        body = QHBoxLayout()
        body.setSpacing(18)
        body.addLayout(left, 3)
        body.addLayout(right, 2)

        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)

        self.follow = FollowTables(self, ctx, DAY_LISTS, self.reload, counts_minutes=True)

    def set_directory(self, directory: Directory) -> None:
        current = self.doctor.currentData()
        self.doctor.clear()
        for d in directory.doctors:
            self.doctor.addItem(f"{d.name} · {d.room}" if d.room else d.name, d.id)
        if current:
            self.doctor.setCurrentIndex(max(self.doctor.findData(current), 0))

    # ---- loading ----

    def reload(self) -> None:
        self.loader.reload()

    def _load_failed(self, error: BaseException) -> None:
        self.show_message(describe(error))

    def _loaded(self, entries: list[QueueView]) -> None:
        self.entries = entries
        waiting = [q for q in entries if q.status == "waiting"]
        called = [q for q in entries if q.status == "called"]
        finished = [q for q in entries if q.status in ("done", "left")]
        for table, model, rows in (
            (self.waiting, self.waiting_model, waiting),
            (self.called, self.called_model, called),
            (self.finished, self.finished_model, finished),
        ):
            keep = model.row(table.currentIndex().row())
            model.set_rows(rows)
            ids = [q.id for q in rows]
            if keep is not None and keep.id in ids:
                table.selectRow(ids.index(keep.id))
            elif rows:
                table.selectRow(0)
        self.waiting_heading.setText(f"WAITING · {len(waiting)}")
        urgent = sum(1 for q in waiting if q.priority)
        self.summary.setText(
            f"{len(waiting)} waiting"
            + (f" ({urgent} urgent or emergency)" if urgent else "")
            + f" · {len(called)} with a doctor · {len(finished)} seen or left today"
        )

    # ---- actions ----

    def call_next(self, leave_open: bool = False) -> None:
        """Call the next patient for the chosen doctor; while one is still with them, ask."""
        doctor_id = self.doctor.currentData()
        if not doctor_id or self.question is not None:
            return
        name = self.doctor.currentText().split(" · ")[0]

        def called(view: QueueView | None) -> None:
            if view is None:
                self.ctx.notify(f"Nobody is waiting for {name}.")
            else:
                self.ctx.notify(
                    f"Token {view.token}, {view.patient_name}: please go to {view.room}."
                )
            self.reload()

        self._run(
            self.ctx.session.queue.call_next,
            doctor_id,
            leave_open,
            on_result=called,
            on_refused=self._ask,
        )

    def _ask(self, error: BaseException) -> bool:
        if not isinstance(error, StillInConsultation):
            return False
        self.question = ask_still_in_consultation(self, error, self._answered, can_open_visit=False)
        return True

    def _answered(self, answer: Answer, in_room: QueueView) -> None:
        self.question = None
        self.window().activateWindow()
        ids = [q.id for q in self.called_model.rows]
        if in_room.id in ids:
            self.called.selectRow(ids.index(in_room.id))  # ready for Finished (Alt+F)
        if answer is Answer.LEAVE_OPEN:
            self.call_next(leave_open=True)

    def finish(self) -> None:
        entry = self.called_model.row(self.called.currentIndex().row())
        if entry is not None:
            self._run(self.ctx.session.queue.finish, entry.id, on_result=lambda _r: self.reload())

    def mark_left(self) -> None:
        entry = self.waiting_model.row(self.waiting.currentIndex().row())
        if entry is not None:
            self._run(self.ctx.session.queue.left, entry.id, on_result=lambda _r: self.reload())

    def _run(self, fn, *args, on_result, on_refused=lambda _e: False) -> None:
        """``on_refused(error)`` may take over an error (True); otherwise it is shown."""
        self.message.hide()
        self.ctx.tasks.submit(
            fn,
            self.ctx.actor,
            *args,
            on_result=on_result,
            on_error=lambda e: on_refused(e) or self.show_message(describe(e)),
            owner=self,
        )

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

"""Finding patients: a search box that searches as you type, and the results table.

Typing waits ~150 ms for a pause, then searches on a worker thread; an answer that arrives after
the text changed again is dropped. Down/Up move from the box into the results, Enter opens the
highlighted patient, Esc goes back to the box.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.patients import PatientRecord
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.models import PatientTableModel
from ui.tasks import Task
from ui.theme import icon, set_kind
from ui.widgets.table import read_only_rows

DEBOUNCE_MS = 150
MIN_CHARS = 2
_OPEN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ResultsTable(QTableView):
    open_requested = Signal(int)
    leave_up = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        row = self.currentIndex().row()
        if event.key() in _OPEN_KEYS and row >= 0:
            self.open_requested.emit(row)
        elif event.key() == Qt.Key.Key_Escape or (event.key() == Qt.Key.Key_Up and row <= 0):
            self.leave_up.emit()
        else:
            super().keyPressEvent(event)


class PatientSearch(QWidget):
    open_requested = Signal(object)  # PatientRecord

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._seq = 0
        self._task: Task | None = None
        self._open_first = False

        self.box = QLineEdit(objectName="SearchBox")
        self.box.setPlaceholderText("Search by name, phone, date of birth or MRN")
        self.box.setToolTip("Find a patient (Ctrl+F)")
        self.box.setAccessibleName("Patient search")
        self.box.setClearButtonEnabled(True)
        self.box.addAction(icon("search", "#5b6b79"), QLineEdit.ActionPosition.LeadingPosition)
        self.box.installEventFilter(self)
        self.status = QLabel()
        set_kind(self.status, "muted")

        self.model = PatientTableModel(ctx.clinic_today)
        self.table = ResultsTable()
        self.table.setModel(self.model)
        read_only_rows(self.table)
        self.table.verticalHeader().setDefaultSectionSize(34)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, mode in enumerate(
            (
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.Stretch,
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.ResizeToContents,
                QHeaderView.ResizeMode.ResizeToContents,
            )
        ):
            header.setSectionResizeMode(col, mode)
        header.setMinimumSectionSize(60)
        self.table.setMinimumWidth(440)  # a name beside MRN, birth date and phone at 1024 px
        self.table.setAccessibleName("Search results")
        self.table.open_requested.connect(self._open_row)
        self.table.doubleClicked.connect(lambda index: self._open_row(index.row()))
        self.table.leave_up.connect(self.focus_box)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.box)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.box.textChanged.connect(self._typed)
        self._show_hint()

    # ---- searching ----

    def _typed(self, _text: str) -> None:
        self._open_first = False
        self._seq += 1  # whatever is in flight is now stale
        self._timer.start()

    def search_now(self) -> None:
        self._timer.stop()
        self._seq += 1
        seq, query = self._seq, self.box.text().strip()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if len(query) < MIN_CHARS:
            self.model.set_rows([])
            self._show_hint()
            return
        self.status.setText("Searching…")
        self._task = self.ctx.tasks.submit(
            self.ctx.session.patients.search,
            self.ctx.actor,
            query,
            on_result=lambda rows: self._found(seq, query, rows),
            on_error=lambda error: self._failed(seq, error),
            owner=self,
        )

    def _found(self, seq: int, query: str, rows: list[PatientRecord]) -> None:
        if seq != self._seq:
            return
        self._task = None
        self.model.set_rows(rows)
        open_first, self._open_first = self._open_first, False
        if rows:
            self.table.selectRow(0)
            if open_first:
                self._open_row(0)
            n = len(rows)
            more = " (showing the first 50; type more to narrow)" if n >= 50 else ""
            self.status.setText(f"{n} patient{'s' if n != 1 else ''} found{more}")
        else:
            hint = " Press Ctrl+N to register a new patient." if self._can_register() else ""
            self.status.setText(f"No patient matches “{query}”.{hint}")

    def _failed(self, seq: int, error: BaseException) -> None:
        if seq == self._seq:
            self._task = None
            self.status.setText(describe(error))

    def _show_hint(self) -> None:
        self.status.setText("Type at least two letters or digits to search.")

    def _can_register(self) -> bool:
        from clinicdesk.permissions import P

        return self.ctx.actor.can(P.PATIENT_WRITE)

    def show_only(self, patient: PatientRecord) -> None:
        """After registering: list just that patient, highlighted."""
        self._seq += 1
        self._timer.stop()
        self.box.blockSignals(True)
        self.box.setText(patient.mrn)
        self.box.blockSignals(False)
        self.model.set_rows([patient])
        self.table.selectRow(0)
        self.status.setText("1 patient found")

    # ---- keyboard ----

    def focus_box(self) -> None:
        self.box.setFocus()
        self.box.selectAll()

    def current(self) -> PatientRecord | None:
        return self.model.patient(self.table.currentIndex().row())

    def _open_row(self, row: int) -> None:
        patient = self.model.patient(row)
        if patient is not None:
            self.open_requested.emit(patient)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.box and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown):
                if self._timer.isActive():
                    self.search_now()
                if self.model.rowCount():
                    self.table.selectRow(max(self.table.currentIndex().row(), 0))
                    self.table.setFocus()
                return True
            if key in _OPEN_KEYS:
                if self._timer.isActive() or self._task is not None:
                    self._open_first = True  # open it as soon as the answer is in
                    if self._timer.isActive():
                        self.search_now()
                elif self.model.rowCount():
                    self._open_row(max(self.table.currentIndex().row(), 0))
                return True
        return super().eventFilter(watched, event)

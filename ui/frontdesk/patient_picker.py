"""Choosing a patient inside a dialog: type, Down into the matches, Enter to take one.

Searches as you type (after a short pause) on a worker thread, like the front desk's search
box; Enter in the box takes the first match as soon as it is in.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from clinicdesk.services.patients import PatientRecord
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.fields import born_text, list_name
from ui.tasks import Task
from ui.theme import icon, set_kind

DEBOUNCE_MS = 150
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class PatientPicker(QWidget):
    chosen = Signal(object)  # PatientRecord

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient: PatientRecord | None = None
        self._seq = 0
        self._task: Task | None = None
        self._take_first = False

        self.box = QLineEdit()
        self.box.setPlaceholderText("Name, phone, date of birth or MRN")
        self.box.setAccessibleName("Find the patient")
        self.box.setClearButtonEnabled(True)
        self.box.addAction(icon("search", "#5b6b79"), QLineEdit.ActionPosition.LeadingPosition)
        self.box.installEventFilter(self)
        self.matches = QListWidget()
        self.matches.setAccessibleName("Matching patients")
        self.matches.setMaximumHeight(132)
        self.matches.installEventFilter(self)
        self.matches.itemActivated.connect(self._take_item)
        self.matches.hide()
        self.status = QLabel()
        set_kind(self.status, "hint")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.box)
        layout.addWidget(self.matches)
        layout.addWidget(self.status)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.box.textEdited.connect(self._typed)

    def setFocus(self, reason=Qt.FocusReason.OtherFocusReason) -> None:
        self.box.setFocus(reason)
        self.box.selectAll()

    def set_patient(self, patient: PatientRecord | None) -> None:
        self.patient = patient
        self.matches.hide()
        if patient is None:
            self.status.setText("")
            return
        self.box.setText(patient.full_name)
        self.status.setText(
            f"✓ {patient.mrn} · born {born_text(patient, self.ctx.clinic_today()) or 'unknown'}"
        )
        self.chosen.emit(patient)

    # ---- searching ----

    def _typed(self, _text: str) -> None:
        self.patient = None
        self._take_first = False
        self._seq += 1
        self._timer.start()

    def search_now(self) -> None:
        self._timer.stop()
        self._seq += 1
        seq, query = self._seq, self.box.text().strip()
        if self._task is not None:
            self._task.cancel()
        if len(query) < 2:
            self.matches.clear()
            self.matches.hide()
            self.status.setText("")
            return
        self.status.setText("Searching…")
        self._task = self.ctx.tasks.submit(
            self.ctx.session.patients.search,
            self.ctx.actor,
            query,
            10,
            on_result=lambda rows: self._found(seq, query, rows),
            on_error=lambda e: self.status.setText(describe(e)),
            owner=self,
        )

    def _found(self, seq: int, query: str, rows: list[PatientRecord]) -> None:
        if seq != self._seq:
            return
        self._task = None
        self.matches.clear()
        today = self.ctx.clinic_today()
        for p in rows:
            item = QListWidgetItem(f"{list_name(p)}   {p.mrn}   {born_text(p, today)}")
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.matches.addItem(item)
        self.matches.setVisible(bool(rows))
        if rows:
            self.matches.setCurrentRow(0)
            self.status.setText("Down to choose, Enter to take the highlighted patient.")
        else:
            self.status.setText(f"No patient matches “{query}”.")
        if self._take_first and rows:
            self._take_item(self.matches.item(0))
        self._take_first = False

    def _take_item(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.set_patient(item.data(Qt.ItemDataRole.UserRole))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        key = event.key()
        if watched is self.box:
            if key == Qt.Key.Key_Down and self.matches.count():
                self.matches.setFocus()
                return True
            if key in _ENTER and self.patient is None:
                if self._timer.isActive() or self._task is not None:
                    self._take_first = True
                    if self._timer.isActive():
                        self.search_now()
                elif self.matches.count():
                    self._take_item(self.matches.currentItem() or self.matches.item(0))
                return True
        elif watched is self.matches:
            if key in _ENTER:
                self._take_item(self.matches.currentItem())
                return True
            if key == Qt.Key.Key_Up and self.matches.currentRow() <= 0:
                self.box.setFocus()
                return True
        return super().eventFilter(watched, event)

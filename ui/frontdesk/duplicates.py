"""Shown before registering someone who may already be registered."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.patients import SEXES, DuplicateCandidate, PatientRecord
from ui.frontdesk.fields import born_text, list_name
from ui.theme import set_kind
from ui.widgets.table import read_only_rows


class DuplicatesDialog(QDialog):
    use_existing = Signal(object)  # PatientRecord
    register_anyway = Signal()

    def __init__(
        self, candidates: list[DuplicateCandidate], today: date, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.candidates = candidates
        self.setWindowTitle("Already registered?")
        self.resize(760, 360)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 18)
        title = QLabel("This person may already be registered")
        set_kind(title, "title")
        layout.addWidget(title)
        lead = QLabel(
            "Check with the patient. Open the existing record if it is them, so their history "
            "stays in one place."
        )
        lead.setWordWrap(True)
        set_kind(lead, "muted")
        layout.addWidget(lead)

        self.table = QTableWidget(len(candidates), 5)
        self.table.setHorizontalHeaderLabels(("MRN", "Name", "Date of birth", "Phone", "Why"))
        read_only_rows(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        for row, c in enumerate(candidates):
            p = c.patient
            sex = SEXES.get(p.sex, p.sex)
            cells = (
                p.mrn,
                f"{list_name(p)} ({sex})",
                born_text(p, today),
                p.phone,
                "; ".join(c.reasons),
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.selectRow(0)
        self.table.doubleClicked.connect(self._use)
        layout.addWidget(self.table, 1)

        buttons = QDialogButtonBox(self)
        self.use_button = buttons.addButton(
            "Use existing patient", QDialogButtonBox.ButtonRole.AcceptRole
        )
        set_kind(self.use_button, "primary")
        self.use_button.setDefault(True)
        self.new_button = buttons.addButton(
            "Register as a new person", QDialogButtonBox.ButtonRole.ActionRole
        )
        back = buttons.addButton("Back to the form", QDialogButtonBox.ButtonRole.RejectRole)
        self.use_button.clicked.connect(self._use)
        self.new_button.clicked.connect(self._new)
        back.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def selected(self) -> PatientRecord:
        row = max(self.table.currentRow(), 0)
        return self.candidates[row].patient

    def _use(self) -> None:
        self.accept()
        self.use_existing.emit(self.selected())

    def _new(self) -> None:
        self.accept()
        self.register_anyway.emit()

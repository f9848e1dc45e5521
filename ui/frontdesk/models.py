"""The Qt model behind the patient search results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt

from clinicdesk.services.patients import SEXES, PatientRecord
from ui.frontdesk.fields import born_text, list_name
from ui.widgets.table import RowsModel


class PatientTableModel(RowsModel[PatientRecord]):
    HEADERS = ("MRN", "Name", "Date of birth", "Sex", "Phone")

    def __init__(self, today: Callable[[], date]) -> None:
        super().__init__()
        self.today = today  # the clinic's date, for ages

    def cells(self, p: PatientRecord) -> tuple[str, ...]:
        born = born_text(p, self.today())
        return (p.mrn, list_name(p), born, SEXES.get(p.sex, p.sex), p.phone)

    def extra(self, p: PatientRecord, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return p.full_name
        return None

    def patient(self, row: int) -> PatientRecord | None:
        return self.row(row)

    def replace(self, record: PatientRecord) -> None:
        """Show a saved record in place of its older version, if it is listed."""
        for row, old in enumerate(self.rows):
            if old.id == record.id:
                self.rows[row] = record
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

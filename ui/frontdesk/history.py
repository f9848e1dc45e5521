"""A patient's record over time: who changed what, and when."""

from __future__ import annotations

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

from clinicdesk.services.patients import PatientChange, PatientRecord
from ui.frontdesk.fields import FIELD_LABELS, shown_value
from ui.theme import set_kind
from ui.widgets.dates import format_moment
from ui.widgets.table import read_only_rows


def describe_changes(change: PatientChange) -> str:
    return "\n".join(
        f"{FIELD_LABELS.get(name, name)}: {shown_value(name, old)} → {shown_value(name, new)}"
        for name, (old, new) in change.changes.items()
    )


class HistoryDialog(QDialog):
    def __init__(
        self,
        patient: PatientRecord,
        changes: list[PatientChange],
        time_zone: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History – {patient.full_name}")
        self.resize(760, 440)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 18)
        title = QLabel(f"{patient.full_name} · {patient.mrn}")
        set_kind(title, "title")
        layout.addWidget(title)
        rows = [
            (
                f"Version {c.version}",
                format_moment(c.changed_at, time_zone),
                c.changed_by,
                describe_changes(c),
            )
            for c in changes
        ]
        rows.append(("Version 1", format_moment(patient.created_at, time_zone), "—", "Registered"))
        table = QTableWidget(len(rows), 4)
        table.setHorizontalHeaderLabels(("Version", "When", "By", "What changed"))
        read_only_rows(table)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        for row, cells in enumerate(rows):
            for col, text in enumerate(cells):
                table.setItem(row, col, QTableWidgetItem(text))
        table.resizeRowsToContents()
        self.table = table
        layout.addWidget(table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

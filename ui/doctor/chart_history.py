"""Every change to a chart, newest first: when, who, which section, what went from what to what."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from clinicdesk.services.chart import ChartChangeView
from clinicdesk.services.chart_sections import SECTIONS
from ui.doctor.chart_entry_dialog import CHOICES
from ui.widgets.dates import format_moment
from ui.widgets.dialogs import titled_layout
from ui.widgets.table import read_only_rows

ACTIONS = {"added": "Added", "changed": "Changed", "removed": "Removed"}
EXTRA_LABELS = {
    "complaint": "Complaint",
    "findings": "Findings",
    "diagnosis": "Diagnosis",
    "plan": "Plan",
    "title": "Title",
    "file_name": "File",
    "reason": "Reason",
}


def _label(name: str) -> str:
    for section in SECTIONS.values():
        if name in section.labels:
            return section.labels[name]
    return EXTRA_LABELS.get(name, name.replace("_", " ").capitalize())


def _value(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if name in CHOICES:
        return CHOICES[name].get(value, str(value))
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def change_text(change: ChartChangeView) -> str:
    """'Severity: Mild → Severe', one line per field; a value written where there was none is
    shown on its own."""
    lines = []
    for name, (old, new) in change.changes.items():
        if old in (None, "") or change.action != "changed":  # written the first time
            if new not in (None, ""):
                lines.append(f"{_label(name)}: {_value(name, new)}")
        else:
            lines.append(f"{_label(name)}: {_value(name, old)} → {_value(name, new)}")
    return "\n".join(lines)


class ChartHistoryDialog(QDialog):
    def __init__(
        self,
        title: str,
        changes: list[ChartChangeView],
        time_zone: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Chart history – {title}")
        self.resize(860, 520)
        layout, _heading = titled_layout(self, f"Chart history · {title}")
        table = QTableWidget(len(changes), 5)
        table.setHorizontalHeaderLabels(("When", "By", "Section", "Action", "What changed"))
        read_only_rows(table)
        table.setWordWrap(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        for row, c in enumerate(changes):
            cells = (
                format_moment(c.at, time_zone),
                c.by,
                c.section,
                ACTIONS.get(c.action, c.action),
                change_text(c),
            )
            for col, text in enumerate(cells):
                table.setItem(row, col, QTableWidgetItem(text))
        header.sectionResized.connect(lambda *_: table.resizeRowsToContents())
        table.resizeRowsToContents()
        table.setAccessibleName("Changes")
        self.table = table
        layout.addWidget(table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, ...]]:
        """The table as text, row by row (what staff read)."""
        t = self.table
        return [
            tuple(t.item(r, c).text() for c in range(t.columnCount())) for r in range(t.rowCount())
        ]

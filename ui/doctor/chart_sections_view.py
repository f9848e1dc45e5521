"""One editable chart section as a list with Add, Edit and Remove; lifestyle as a short form.

Enter (or a double click) edits the highlighted entry, Delete removes it after asking why.
Every change goes through ChartEntryDialog and the chart service; the chart follows the
committed change (``ui.changes``) and reloads.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.chart import ChartEntry
from clinicdesk.services.chart_sections import SECTIONS
from ui.context import AppContext
from ui.doctor.allergy_banner import SERIOUS
from ui.doctor.chart_entry_dialog import MOMENT, ChartEntryDialog, shown
from ui.frontdesk.schedule_data import zone_of
from ui.theme import icon, set_kind
from ui.widgets.reason_dialog import Change, ReasonDialog, ask_reason
from ui.widgets.table import RowsModel, read_only_rows

_OPEN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
RESOLVED_GREY = QColor("#8d9aa5")
SERIOUS_RED = QColor("#b3261e")
_BOLD = QFont()
_BOLD.setBold(True)


class EntryTable(QTableView):
    """A list of records where Enter opens the highlighted one and Delete removes it."""

    open_requested = Signal()
    remove_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _OPEN_KEYS and self.currentIndex().isValid():
            self.open_requested.emit()
        elif event.key() == Qt.Key.Key_Delete and self.currentIndex().isValid():
            self.remove_requested.emit()
        else:
            super().keyPressEvent(event)


def entry_table(model: RowsModel, name: str, stretch: int = 0) -> EntryTable:
    table = EntryTable()
    table.setModel(model)
    read_only_rows(table)
    table.setAccessibleName(name)
    table.verticalHeader().setDefaultSectionSize(30)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if 0 <= stretch < model.columnCount():
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:  # every column as wide as its contents; the last one takes what is left
        header.setStretchLastSection(True)
    table.doubleClicked.connect(lambda _index: table.open_requested.emit())
    return table


def _header(label: str) -> str:
    """'Temperature (°C)' -> 'Temp.': narrow columns; the full label is the header's tool tip."""
    name = label.partition(" (")[0]
    return {"Temperature": "Temp.", "Systolic": "Sys.", "Diastolic": "Dia."}.get(name, name)


class EntriesModel(RowsModel[ChartEntry]):
    """The section's fields as columns (the note as a tool tip); resolved conditions greyed."""

    def __init__(self, section: str, zone) -> None:
        super().__init__()
        self.zone = zone
        labels = SECTIONS[section].labels
        self.columns = [name for name in labels if name != "note"]
        self.HEADERS = tuple(_header(labels[name]) for name in self.columns)
        self.header_tips = tuple(labels[name] for name in self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return self.header_tips[section]
        return super().headerData(section, orientation, role)

    def cells(self, entry: ChartEntry) -> tuple[str, ...]:
        return tuple(self.cell(name, entry.values.get(name)) for name in self.columns)

    def cell(self, name: str, value: object) -> str:
        text = shown(name, value, self.zone)
        return text[:10] if name == MOMENT else text  # the day; the time is in the tool tip

    def extra(self, entry: ChartEntry, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ToolTipRole:
            taken = entry.values.get(MOMENT)
            moment = f"Taken {shown(MOMENT, taken, self.zone)}" if taken else ""
            return "\n".join(x for x in (moment, entry.values.get("note") or "") if x) or None
        if role == Qt.ItemDataRole.ForegroundRole and entry.values.get("status") == "resolved":
            return RESOLVED_GREY
        if entry.values.get("severity") in SERIOUS:
            if role == Qt.ItemDataRole.ForegroundRole:
                return SERIOUS_RED
            if role == Qt.ItemDataRole.FontRole:
                return _BOLD
        return None


def ask_removal_reason(ctx: AppContext, parent: QWidget, what: str, change: Change) -> ReasonDialog:
    """Why is this entry removed? The removal runs once a reason is given (the screens follow
    the change)."""
    return ask_reason(
        ctx,
        parent,
        f"Remove {what}",
        f"Why is {what} removed?",
        "Remove",
        change,
        hint="For example: entered in error. The reason is kept with the record.",
    )


class SectionPanel(QWidget):
    def __init__(self, ctx: AppContext, section: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.key = section
        self.section = SECTIONS[section]
        self.patient_id: str | None = None
        self.dialog: ChartEntryDialog | None = None
        self.model = EntriesModel(section, zone_of(ctx.details.time_zone))
        stretch = -1 if section == "vitals" else 0  # vitals: many narrow numbers
        self.table = entry_table(self.model, self.section.title, stretch)
        self.table.open_requested.connect(self.edit_current)
        self.table.remove_requested.connect(self.remove_current)
        self.empty = QLabel(f"No {self.section.title.lower()} recorded.")
        self.empty.setWordWrap(True)
        set_kind(self.empty, "muted")
        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()

        text = "Record &vitals…" if section == "vitals" else "&Add…"  # both on screen at once
        self.add_button = QPushButton(icon("plus"), text)
        self.add_button.setToolTip(f"Add to {self.section.title.lower()}")
        self.add_button.clicked.connect(self.add)
        self.edit_button = QPushButton(icon("edit"), "Edit…")
        self.edit_button.setToolTip("Edit the highlighted entry (Enter)")
        self.edit_button.clicked.connect(self.edit_current)
        self.remove_button = QPushButton("Remove…")
        set_kind(self.remove_button, "danger")
        self.remove_button.setToolTip("Remove the highlighted entry, entered in error (Delete)")
        self.remove_button.clicked.connect(self.remove_current)
        bar = QHBoxLayout()
        bar.addWidget(self.empty, 1)
        bar.addWidget(self.add_button)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.remove_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)

    def set_entries(self, patient_id: str, entries: list[ChartEntry]) -> None:
        self.patient_id = patient_id
        self.message.hide()
        if self.key == "conditions":  # active first, then resolved, each oldest first
            entries = sorted(entries, key=lambda e: e.values.get("status") == "resolved")
        elif self.key == "allergies":  # the serious first, as on the banner
            entries = sorted(entries, key=lambda e: e.values.get("severity") not in SERIOUS)
        self.model.set_rows(entries)
        self.empty.setText(
            f"No {self.section.title.lower()} recorded."
            if not entries
            else f"{len(entries)} entr{'ies' if len(entries) != 1 else 'y'}"
        )
        self.edit_button.setEnabled(bool(entries))
        self.remove_button.setEnabled(bool(entries))
        if entries:
            self.table.selectRow(0)

    def current(self) -> ChartEntry | None:
        return self.model.row(self.table.currentIndex().row())

    def add(self) -> None:
        self._open(None)

    def edit_current(self) -> None:
        entry = self.current()
        if entry is not None:
            self._open(entry)

    def _open(self, entry: ChartEntry | None) -> None:
        if self.patient_id is None:
            return
        self.dialog = ChartEntryDialog(self.ctx, self.patient_id, self.key, entry, self)
        self.dialog.finished.connect(self.dialog.deleteLater)
        self.dialog.finished.connect(lambda _r: self.window().activateWindow())
        self.dialog.open()

    def remove_current(self) -> None:
        entry = self.current()
        if entry is None:
            return
        what = f"this {self.section.title.lower()} entry"
        chart, actor, key = self.ctx.session.chart, self.ctx.actor, self.key
        ask_removal_reason(
            self.ctx, self, what, lambda reason: partial(chart.remove, actor, key, entry.id, reason)
        )


class LifestylePanel(QWidget):
    """Lifestyle is one entry per patient: four lines and one Edit button."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.patient_id: str | None = None
        self.entry: ChartEntry | None = None
        self.dialog: ChartEntryDialog | None = None
        section = SECTIONS["lifestyle"]
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        self.values: dict[str, QLabel] = {}
        for name, label in section.labels.items():
            value = QLabel()
            value.setWordWrap(True)
            title = QLabel(label)
            set_kind(title, "muted")
            form.addRow(title, value)
            self.values[name] = value
        self.edit_button = QPushButton(icon("edit"), "Edit &lifestyle…")
        self.edit_button.clicked.connect(self.edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.edit_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

    def set_entries(self, patient_id: str, entries: list[ChartEntry]) -> None:
        self.patient_id = patient_id
        self.entry = entries[0] if entries else None
        for name, label in self.values.items():
            text = self.entry.values.get(name) if self.entry else ""
            label.setText(text or "Not recorded")

    def edit(self) -> None:
        if self.patient_id is None:
            return
        self.dialog = ChartEntryDialog(self.ctx, self.patient_id, "lifestyle", self.entry, self)
        self.dialog.finished.connect(self.dialog.deleteLater)
        self.dialog.finished.connect(lambda _r: self.window().activateWindow())
        self.dialog.open()

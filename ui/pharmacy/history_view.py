"""Dispensing history with filters and CSV export.

The filters are a date range in the clinic's time zone (both days included; the last 30 days to
start with), a piece of text found in the patient's name, the drug, the batch or the reference,
and the pharmacist. Typing pauses briefly before the history is asked again, on a worker; the
export writes what the same filters show.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.money import money_text
from clinicdesk.permissions import P
from clinicdesk.rx import reference
from clinicdesk.services.pharmacy import MAX_HISTORY_ROWS
from clinicdesk.services.pharmacy_views import HistoryFilter, HistoryRow
from clinicdesk.text import plural
from ui.context import AppContext
from ui.pharmacy.dispense_printing import LABELS, RECEIPT, print_dispense
from ui.pharmacy.stock_export import MessageLine, choose_csv_file, export_csv, records_table
from ui.pharmacy.stock_models import NEAR_COLOUR, RIGHT
from ui.tasks import Refresher
from ui.theme import set_kind
from ui.widgets.date_field import DateField
from ui.widgets.dates import format_day, format_moment
from ui.widgets.forms import FieldForm
from ui.widgets.keys import view_shortcuts
from ui.widgets.table import RowsModel

SUBSTITUTE_COLOUR = NEAR_COLOUR  # amber: not what the prescription said
PAUSE_MS = 300
DEFAULT_DAYS = 30
# how the columns share a 1366 px screen without scrolling sideways: short values as wide as
# they are, the patient and the pharmacist a set width, the medicine the rest (names elided,
# in full in a tip)
FITTED = (0, 1, 4, 5, 6, 7)
SET_WIDTHS = {2: 140, 8: 110}
MEDICINE = 3


class HistoryModel(RowsModel[HistoryRow]):
    HEADERS = (
        "Dispensed at",
        "Reference",
        "Patient",
        "Medicine",
        "Quantity",
        "Price",
        "Batch",
        "Expiry",
        "Pharmacist",
    )

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, r: HistoryRow) -> tuple[str, ...]:
        return (
            format_moment(r.at, self.time_zone),
            reference.grouped(r.reference),
            r.patient_name,
            medicine_text(r),
            f"{r.quantity} {r.unit}",
            money_text(r.price, r.currency),
            r.batch_number,
            format_day(r.expiry),
            r.by,
        )

    def extra(self, r: HistoryRow, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (4, 5):
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column in (2, MEDICINE, 8):
            return self.cells(r)[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == MEDICINE and r.substituted:
            return SUBSTITUTE_COLOUR
        return None


def medicine_text(r: HistoryRow) -> str:
    """What was handed over, and what was prescribed where that was something else."""
    if r.given == r.prescribed:
        return r.given
    if r.substituted:
        return f"{r.given} (substitute for {r.prescribed})"
    return f"{r.given} (prescribed: {r.prescribed})"


def summary(rows: list[HistoryRow]) -> str:
    """'3 lines from 2 dispenses · £12.40 in all'."""
    if not rows:
        return "Nothing was dispensed that matches."
    dispenses = len({r.dispense_id for r in rows})
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.currency] = totals.get(r.currency, 0) + r.price
    money = " + ".join(money_text(total, currency) for currency, total in totals.items())
    text = (
        f"{plural(len(rows), 'line', 'lines')} from "
        f"{plural(dispenses, 'dispense', 'dispenses')} · {money} in all"
    )
    if len(rows) >= MAX_HISTORY_ROWS:
        text += f" (the newest {MAX_HISTORY_ROWS:,} only: narrow the dates or the search)"
    return text


class HistoryView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        today = ctx.clinic_today()
        self.where = HistoryFilter(today - timedelta(days=DEFAULT_DAYS), today)
        self.since = DateField(self.where.since)
        self.until = DateField(self.where.until)
        self.text = QLineEdit(placeholderText="Patient, drug, batch or reference")
        self.text.setClearButtonEnabled(True)
        self.pharmacist = QLineEdit(placeholderText="Any pharmacist")
        self.pharmacist.setClearButtonEnabled(True)
        self.form = FieldForm(columns=4)
        self.form.add("since", "&From", self.since, 0, 0)
        self.form.add("until", "&To", self.until, 0, 1)
        self.form.add("text", "&Search", self.text, 0, 2)
        self.form.add("pharmacist", "P&harmacist", self.pharmacist, 0, 3)
        self.form.grid.setColumnStretch(2, 2)
        self.export_button = QPushButton("&Export CSV…")
        self.export_button.clicked.connect(self.choose_export_file)
        self.labels_button = QPushButton("Reprint labels  Ctrl+Shift+L")
        self.labels_button.clicked.connect(lambda: self.reprint(LABELS))
        self.receipt_button = QPushButton("Reprint receipt  Ctrl+Shift+R")
        self.receipt_button.clicked.connect(lambda: self.reprint(RECEIPT))
        self.may_print = ctx.actor.can(P.DISPENSE)
        top = QHBoxLayout()
        top.addWidget(self.form, 1)
        top.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignBottom)
        for button in (self.labels_button, self.receipt_button, self.export_button):
            button.setAutoDefault(False)
        self.labels_button.setVisible(self.may_print)
        self.receipt_button.setVisible(self.may_print)
        self.message = MessageLine()

        self.model = HistoryModel(ctx.details.time_zone)
        self.table = records_table(self.model, "Dispensed")
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for column in FITTED:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(MEDICINE, QHeaderView.ResizeMode.Stretch)
        for column, width in SET_WIDTHS.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.count = QLabel()
        set_kind(self.count, "hint")
        self.count.setAccessibleName("Count")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.labels_button)
        bottom.addWidget(self.receipt_button)
        layout.addLayout(bottom)

        self.pause = QTimer(self)
        self.pause.setSingleShot(True)
        self.pause.setInterval(PAUSE_MS)
        self.pause.timeout.connect(self.apply_filters)
        for field in (self.since, self.until, self.text, self.pharmacist):
            field.textChanged.connect(lambda _t: self.pause.start())
        self.loader = Refresher(ctx.tasks, self._load, self._loaded, self.message.failed, self)
        view_shortcuts(
            self,
            (
                ("Ctrl+Shift+L", lambda: self.reprint(LABELS)),
                ("Ctrl+Shift+R", lambda: self.reprint(RECEIPT)),
            ),
        )
        self._update_buttons()

    def refresh(self) -> None:
        """Reload from the services (called when the view is shown)."""
        self.apply_filters()

    def focus_view(self) -> None:
        self.text.setFocus()

    def read_filters(self) -> HistoryFilter | None:
        """The filters as typed; None (with the reason at the field) when a date is wrong."""
        problems = {}
        for name, field in (("since", self.since), ("until", self.until)):
            if problem := field.problem():
                problems[name] = problem
        since, until = self.since.value(), self.until.value()
        if not problems and since and until and until < since:
            problems["until"] = "is before the first day"
        self.form.show_errors(problems, focus=False)
        if problems:
            return None
        return HistoryFilter(since, until, self.text.text(), self.pharmacist.text())

    def apply_filters(self) -> None:
        self.pause.stop()
        where = self.read_filters()
        if where is not None:
            self.where = where
            self.loader.reload()

    def _load(self) -> list[HistoryRow]:
        return self.ctx.session.pharmacy.history(self.ctx.actor, self.where)

    def _loaded(self, rows: list[HistoryRow]) -> None:
        self.model.set_rows(rows)
        self.count.setText(summary(rows))
        self._update_buttons()

    def selected(self) -> HistoryRow | None:
        return self.model.row(self.table.currentIndex().row())

    def _update_buttons(self, *_args) -> None:
        chosen = self.selected() is not None
        self.labels_button.setEnabled(chosen)
        self.receipt_button.setEnabled(chosen)

    def reprint(self, what: str) -> None:
        """The labels or the receipt of the chosen line's dispense, as first printed."""
        row = self.selected()
        if not self.may_print:
            return
        if row is None:
            self.message.say("Choose a dispensed line first.", error=True)
            return
        print_dispense(self.ctx, self, row.dispense_id, what)

    def choose_export_file(self) -> None:
        where = self.read_filters()
        if where is None:
            return
        first = where.since or where.until
        suggested = f"dispensed-{first:%Y-%m-%d}.csv" if first else "dispensed.csv"
        path = choose_csv_file(self, "Export dispensing history", suggested)
        if path is not None:
            self.export_to(path)

    def export_to(self, path: Path) -> None:
        """The lines the filters show, written to ``path`` off the UI thread."""
        where = self.read_filters()
        if where is None:
            return
        pharmacy, actor = self.ctx.session.pharmacy, self.ctx.actor
        export_csv(self.ctx, self, path, lambda: pharmacy.history_csv(actor, where), self.message)

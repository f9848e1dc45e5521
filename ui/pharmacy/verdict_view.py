"""The verdict on a scanned prescription: one line in large type that says whether to dispense,
then who it is for, who wrote it, and what of each item remains."""

from __future__ import annotations

from html import escape
from typing import Any, ClassVar

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.rx.errors import CodeRefused
from clinicdesk.services.patients import age_text
from clinicdesk.services.pharmacy_views import (
    AlreadyDispensed,
    Fill,
    ItemBalance,
    PharmacyEventView,
    Verdict,
)
from ui.errors import describe
from ui.frontdesk.schedule_data import local_now, zone_of
from ui.theme import set_kind
from ui.widgets.dates import format_day, format_moment
from ui.widgets.empty_state import EmptyState
from ui.widgets.table import RowsModel, read_only_rows

GENUINE, REFUSED = "genuine", "refused"
_BANNER = {
    GENUINE: "color: #ffffff; background: #1e7d43; border-radius: 8px; padding: 12px 18px;",
    REFUSED: "color: #ffffff; background: #b3261e; border-radius: 8px; padding: 12px 18px;",
}
GREY = QColor("#8a97a3")


def _allergies_html(verdict: Verdict) -> str:
    """The patient's allergies as the chart has them now, the serious ones first and bold."""
    if not verdict.allergies:
        return escape(verdict.allergies_text)
    return ", ".join(
        f"<b>{escape(a.text)}</b>" if a.serious else escape(a.text) for a in verdict.allergies
    )


def fill_text(fill: Fill, zone: str) -> str:
    """'10 on 25/11/2026 10:02 by Priya Shah (IBU-SOON)'."""
    given = f"{fill.quantity} on {format_moment(fill.at, zone)} by {fill.by}"
    extra = (
        f"{fill.batch_number}, substitute {fill.given}" if fill.substituted else fill.batch_number
    )
    return f"{given} ({extra})"


class ItemsModel(RowsModel[ItemBalance]):
    HEADERS: ClassVar[tuple[str, ...]] = (
        "#",
        "Prescribed",
        "Directions",
        "Prescribed qty",
        "Dispensed",
        "Remaining",
    )

    def __init__(self, zone: str) -> None:
        super().__init__()
        self.zone = zone

    def cells(self, row: ItemBalance) -> tuple[str, ...]:
        item = row.item
        allowed = f"{row.allowed} {item.unit}"
        if item.refills:
            fills = item.refills + 1
            allowed += f" ({item.quantity} × {fills} fills)"
        if row.fills:
            day = row.fills[-1].at.astimezone(zone_of(self.zone))
            last = f" · last {day.day} {day:%b}"
        else:
            last = ""
        return (
            str(row.line),
            row.prescribed,
            row.directions,
            allowed,
            f"{row.dispensed}{last}",
            "none" if row.remaining == 0 else f"{row.remaining} {item.unit}",
        )

    def extra(self, row: ItemBalance, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and row.remaining == 0:
            return GREY
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4 and row.fills:
                return "\n".join(fill_text(f, self.zone) for f in row.fills)
            if column == 1 and not row.item.substitution:
                return "The prescriber did not allow substitution"
        return None


class HistoryModel(RowsModel[PharmacyEventView]):
    HEADERS: ClassVar[tuple[str, ...]] = ("When", "What", "Method", "By", "Detail")

    def __init__(self, zone: str) -> None:
        super().__init__()
        self.zone = zone

    def cells(self, row: PharmacyEventView) -> tuple[str, ...]:
        return (
            format_moment(row.at, self.zone),
            row.label,
            row.method_label,
            row.by,
            row.detail,
        )

    def extra(self, row: PharmacyEventView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == 4 and row.detail:
            return row.detail
        return None


class WrappedText(QStyledItemDelegate):
    """Row heights for wrapped text measured at the width the text really gets: the style sheet
    pads each cell (8 px a side), which Qt's own measure leaves out, cutting the last line."""

    PADDING = (16, 8)

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self.table = table

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        hint = super().sizeHint(option, index)
        width = max(1, self.table.columnWidth(index.column()) - self.PADDING[0])
        bounds = QRect(0, 0, width, 100_000)
        text = str(index.data() or "")
        needed = option.fontMetrics.boundingRect(bounds, Qt.TextFlag.TextWordWrap, text)
        return QSize(hint.width(), max(hint.height(), needed.height() + self.PADDING[1]))


def _table(model: RowsModel, wrapped: int) -> QTableView:
    """Columns as wide as their text, but column ``wrapped`` takes the room left and wraps."""
    table = QTableView()
    table.setModel(model)
    read_only_rows(table)
    table.setWordWrap(True)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(wrapped, QHeaderView.ResizeMode.Stretch)
    table.setItemDelegateForColumn(wrapped, WrappedText(table))
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.sectionResized.connect(lambda *_: table.resizeRowsToContents())  # wrap anew
    return table


class VerdictView(QWidget):
    """Empty until ``show_verdict`` or ``show_refusal``; ``clear`` readies it for the next one."""

    def __init__(self, time_zone: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = time_zone
        self.verdict: Verdict | None = None
        self.banner = QLabel(objectName="VerdictBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self.details = QFrame()
        grid = QGridLayout(self.details)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        self.fields: dict[str, QLabel] = {}
        places = (
            ("patient", "Patient", 0, 0),
            ("doctor", "Doctor", 1, 0),
            ("dates", "Issued", 2, 0),
            ("allergies", "Allergies", 3, 0),
            ("reference", "Reference", 0, 2),
            ("signed", "Signed by", 1, 2),
            ("scans", "Scans", 2, 2),
        )
        for name, title, row, column in places:
            caption = QLabel(title)
            set_kind(caption, "muted")
            wide = name == "allergies"  # the whole width, wrapped: a list can be long
            value = QLabel()
            value.setTextFormat(Qt.TextFormat.RichText)  # every value is escaped
            value.setWordWrap(wide)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(caption, row, column)
            grid.addWidget(value, row, column + 1, 1, 3 if wide else 1)
            self.fields[name] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.history_button = QPushButton("Show scan history")
        set_kind(self.history_button, "link")
        self.history_button.setCheckable(True)
        self.history_button.toggled.connect(self._history_toggled)
        scans = QHBoxLayout()
        scans.setContentsMargins(0, 0, 0, 0)
        scans.addWidget(self.fields["scans"])
        scans.addWidget(self.history_button)
        scans.addStretch(1)
        grid.addLayout(scans, 2, 3)

        self.items = ItemsModel(time_zone)
        self.items_table = _table(self.items, 2)
        self.items_table.setAccessibleName("Items")
        self.history = HistoryModel(time_zone)
        self.history_table = _table(self.history, 4)
        self.history_table.setAccessibleName("Scan history")
        self.history_table.hide()

        self.waiting = EmptyState(  # an idle counter: a scan needs no click first
            "pharmacy",
            "Ready for the next prescription.\n"
            "Scan its code with the hand scanner: there is no need to click anywhere first.\n"
            "Esc clears the counter after each patient.",
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.waiting, 1)
        layout.addWidget(self.banner)
        layout.addWidget(self.details)
        layout.addWidget(self.items_table, 3)
        layout.addWidget(self.history_table, 2)
        layout.addStretch(0)  # takes the room only while no table is shown
        self.clear()

    # ---- what is shown ----

    def clear(self) -> None:
        self.verdict = None
        self.waiting.show()
        self.banner.hide()
        self.details.hide()
        self.items_table.hide()
        self.history_button.setChecked(False)
        self.items.set_rows([])
        self.history.set_rows([])

    def show_verdict(self, verdict: Verdict) -> None:
        if verdict.fully_dispensed:  # just now, at this counter: a scan would be refused
            self._banner(GENUINE, "Dispensed in full", "Nothing remains on this prescription.")
        else:
            self._banner(
                GENUINE, "Genuine — may be dispensed", f"Signed by {verdict.signed_by_text}"
            )
        self._details(verdict)

    def show_refusal(self, error: BaseException) -> None:
        """A refused code (or a failed look-up) in words; an AlreadyDispensed shows its items."""
        self.clear()
        title = "Do not dispense" if isinstance(error, CodeRefused) else "No verdict"
        self._banner(REFUSED, title, describe(error))
        if isinstance(error, AlreadyDispensed):
            self._details(error.verdict)

    @property
    def genuine(self) -> bool:
        """A verdict with something left to dispense is on screen."""
        return self.verdict is not None and not self.verdict.fully_dispensed

    def banner_text(self) -> str:
        return self.banner.text()

    # ---- parts ----

    @staticmethod
    def _banner_html(title: str, detail: str) -> str:
        return (
            f"<div style='font-size:20pt; font-weight:600'>{escape(title)}</div>"
            f"<div style='font-size:11pt'>{escape(detail)}</div>"
        )

    def _banner(self, kind: str, title: str, detail: str) -> None:
        self.banner.setText(self._banner_html(title, detail))
        self.banner.setStyleSheet(f"QLabel#VerdictBanner {{ {_BANNER[kind]} }}")
        self.banner.setAccessibleName(f"{title}. {detail}")
        self.banner.setProperty("verdict", kind)
        self.waiting.hide()
        self.banner.show()

    def _details(self, verdict: Verdict) -> None:
        self.verdict = verdict
        content = verdict.content
        age = age_text(content.patient_born, local_now(zone_of(self.zone)).date())
        licence = f" · licence {content.doctor_licence}" if content.doctor_licence else ""
        times = "once" if verdict.scans == 1 else f"{verdict.scans} times"
        born = format_day(content.patient_born) + (f" ({age})" if age else "")
        values = {
            "patient": f"<b>{escape(content.patient_name)}</b>, born {born}",
            "doctor": escape(f"{content.doctor_name}{licence}"),
            "dates": f"{format_day(content.issued_on)} · valid until "
            f"{format_day(content.valid_until)}",
            "reference": f"<b>{verdict.reference_grouped}</b>",
            "signed": escape(verdict.signed_by_text),
            "allergies": _allergies_html(verdict),
            "scans": f"Scanned {times}",
        }
        for name, text in values.items():
            self.fields[name].setText(text)
        self.items.set_rows(list(verdict.items))
        self.history.set_rows(list(verdict.history))
        self.details.show()
        self.items_table.show()

    def _history_toggled(self, shown: bool) -> None:
        self.history_table.setVisible(shown)
        self.history_button.setText("Hide scan history" if shown else "Show scan history")

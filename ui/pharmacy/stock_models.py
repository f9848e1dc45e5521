"""How stock reads on screen: the drugs, a drug's batches, a batch's movements, the alerts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from clinicdesk.money import money_text
from clinicdesk.services.inventory import (
    NEAR_EXPIRY_DAYS,
    Alerts,
    BatchView,
    MovementView,
    StockLine,
)
from ui.widgets.dates import format_day, format_moment
from ui.widgets.table import RowsModel

EXPIRED_COLOUR = QColor("#b3261e")
NEAR_COLOUR = QColor("#9a5b00")
MUTED_COLOUR = QColor("#8d9aa5")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LOW, NEAR, EXPIRED = "low", "near", "expired"


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def alert_phrases(alerts: Alerts) -> dict[str, str]:
    """The alerts strip's words for each kind that has anything, in strip order."""
    phrases = {
        LOW: f"{len(alerts.low_stock)} low on stock",
        NEAR: plural(len(alerts.near_expiry), "batch expires", "batches expire")
        + f" within {NEAR_EXPIRY_DAYS} days",
        EXPIRED: plural(len(alerts.expired), "expired batch", "expired batches")
        + " still on the shelf",
    }
    counts = {LOW: alerts.low_stock, NEAR: alerts.near_expiry, EXPIRED: alerts.expired}
    return {kind: text for kind, text in phrases.items() if counts[kind]}


FILTER_NAMES = {LOW: "Low on stock", NEAR: "Near expiry", EXPIRED: "Expired on the shelf"}


def shown_text(shown: int, hidden: int, kind: str) -> str:
    """'0 drugs shown, 3 hidden by the filter “Low on stock”.': what a search under an alert
    filter does not show, so an empty list is never taken for a drug not stocked."""
    return (
        f"{plural(shown, 'drug', 'drugs')} shown, {hidden} hidden by the filter "
        f"“{FILTER_NAMES[kind]}”."
    )


def drugs_with(alerts: Alerts, kind: str) -> set[str]:
    """The drugs an alert is about."""
    if kind == LOW:
        return {line.drug_id for line in alerts.low_stock}
    return {b.drug_id for b in (alerts.near_expiry if kind == NEAR else alerts.expired)}


class StockModel(RowsModel[StockLine]):
    HEADERS = (
        "Drug",
        "On hand",
        "Batches",
        "Nearest expiry",
        "Value at cost",
        "Value at price",
        "Reorder at",
        "Status",
    )
    NUMBERS = (1, 2, 4, 5, 6)

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency
        self.near: set[str] = set()  # drugs with a batch near expiry

    def cells(self, s: StockLine) -> tuple[str, ...]:
        return (
            s.drug_name,
            str(s.on_hand),
            str(s.batches) if s.batches else "",
            format_day(s.nearest_expiry),
            money_text(s.value_at_cost, self.currency) if s.batches else "",
            money_text(s.value_at_price, self.currency) if s.batches else "",
            str(s.reorder_level) if s.reorder_level else "",
            status_text(s),
        )

    def extra(self, s: StockLine, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.NUMBERS:
            return RIGHT
        if column == 7 and role == Qt.ItemDataRole.ForegroundRole and (s.low or s.expired_units):
            return EXPIRED_COLOUR
        if column == 3 and role == Qt.ItemDataRole.ForegroundRole and s.drug_id in self.near:
            return NEAR_COLOUR
        if column == 7 and role == Qt.ItemDataRole.ToolTipRole and s.expired_units:
            return (
                f"{s.expired_units} expired units are still on the shelf. Take them off and "
                "record it with Adjust… (reason: expired)."
            )
        if column == 7 and role == Qt.ItemDataRole.FontRole and s.low:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and not s.batches:
            return MUTED_COLOUR
        return None


def status_text(s: StockLine) -> str:
    """'LOW · 20 expired' (short enough for the column; the tool tip says what to do)."""
    parts = ["LOW"] if s.low else []
    if s.expired_units:
        parts.append(f"{s.expired_units} expired")
    return " · ".join(parts)


class BatchModel(RowsModel[BatchView]):
    HEADERS = (
        "Batch",
        "Strength",
        "Form",
        "Expiry",
        "On hand",
        "Received",
        "Unit cost",
        "Unit price",
        "Supplier",
    )
    NUMBERS = (4, 5, 6, 7)

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def cells(self, b: BatchView) -> tuple[str, ...]:
        return (
            b.batch_number,
            b.strength,
            b.form,
            expiry_text(b),
            str(b.on_hand),
            str(b.received),
            money_text(b.unit_cost, self.currency),
            money_text(b.unit_price, self.currency),
            b.supplier,
        )

    def extra(self, b: BatchView, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.NUMBERS:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if b.expired:
                return EXPIRED_COLOUR
            if b.near_expiry and column == 3:
                return NEAR_COLOUR
            if not b.on_hand:
                return MUTED_COLOUR
        return None


def expiry_text(b: BatchView) -> str:
    """'30/01/2027 · expired' / '· expires soon': the colour is not the only sign."""
    day = format_day(b.expiry)
    if b.expired:
        return f"{day} · expired"
    return f"{day} · expires soon" if b.near_expiry else day


class MovementModel(RowsModel[MovementView]):
    HEADERS = ("When", "What", "Change", "Reason or supplier", "By")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, m: MovementView) -> tuple[str, ...]:
        return (
            format_moment(m.at, self.time_zone),
            m.kind_label,
            f"{m.change:+d}".replace("-", "−"),
            m.reason,
            m.by,
        )

    def extra(self, m: MovementView, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return RIGHT
        return None

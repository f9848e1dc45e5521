"""How stock reads on screen: the drugs, a drug's batches, a batch's movements, the alerts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from clinicdesk.money import money_text
from clinicdesk.rx.quantity import unit_for
from clinicdesk.services.inventory import (
    NEAR_EXPIRY_DAYS,
    Alerts,
    BatchView,
    MovementView,
    ProductStock,
    StockLine,
)
from clinicdesk.text import plural
from ui.widgets.dates import format_day, format_moment
from ui.widgets.table import RowsModel

EXPIRED_COLOUR = QColor("#b3261e")
NEAR_COLOUR = QColor("#9a5b00")
MUTED_COLOUR = QColor("#8d9aa5")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LOW, NEAR, EXPIRED = "low", "near", "expired"


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


def listing_text(rows: list[StockLine], unlisted: int) -> str:
    """'38 drugs listed: 37 in stock, 1 out of stock. Not listed: 36 never stocked.'"""
    in_stock = sum(1 for s in rows if s.on_hand)
    only_expired = sum(1 for s in rows if not s.on_hand and s.expired_units)
    parts = (
        (in_stock, "in stock"),
        (only_expired, "with only expired stock"),
        (len(rows) - in_stock - only_expired, "out of stock"),
    )
    kinds = [(count, words) for count, words in parts if count]
    listed = plural(len(rows), "drug", "drugs") + " listed"
    if not kinds:
        text = "No drug listed."
    elif len(kinds) == 1:
        text = f"{listed}, {'all ' if len(rows) > 1 else ''}{kinds[0][1]}."
    else:
        text = f"{listed}: {', '.join(f'{count} {words}' for count, words in kinds)}."
    return text + (f" Not listed: {unlisted} never stocked." if unlisted else "")


def product_name(drug_name: str, product: ProductStock) -> str:
    """'Amoxicillin 500 mg capsules': the form in the plural where it is counted in it."""
    form = product.form.strip()
    unit = unit_for(form)
    if unit is not None and unit == f"{form.lower()}s":
        form = unit
    return " ".join(p for p in (drug_name, product.strength, form) if p)


def product_text(drug_name: str, product: ProductStock) -> str:
    """'Amoxicillin 500 mg capsules: 120 in date, 20 expired (remove them)'."""
    parts = [f"{product.in_date or 'none'} in date"]
    if product.expired:
        parts.append(f"{product.expired} expired (remove them)")
    return f"{product_name(drug_name, product)}: {', '.join(parts)}"


def shelf_text(line: StockLine) -> str:
    """What the selected drug has on the shelf, product by product."""
    if not line.products:
        return f"{line.drug_name}: nothing on the shelf."
    return "; ".join(product_text(line.drug_name, p) for p in line.products) + "."


def drugs_with(alerts: Alerts, kind: str) -> set[str]:
    """The drugs an alert is about."""
    if kind == LOW:
        return {line.drug_id for line in alerts.low_stock}
    return {b.drug_id for b in (alerts.near_expiry if kind == NEAR else alerts.expired)}


class StockModel(RowsModel[StockLine]):
    HEADERS = (
        "Drug",
        "In date",
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
            in_date_text(s),
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
        if column == 1 and role == Qt.ItemDataRole.ToolTipRole and s.products:
            return shelf_text(s)
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


def in_date_text(s: StockLine) -> str:
    """Units in date: '120', or '629 · 18' for a drug kept in several strengths or forms, whose
    units do not add up (the tool tip and the line over the batches name each)."""
    if len(s.products) > 1:
        return " · ".join(str(p.in_date) for p in s.products)
    return str(s.on_hand)


def status_text(s: StockLine) -> str:
    """'LOW · 20 expired, remove them' (the tool tip says how)."""
    parts = ["LOW"] if s.low else []
    if s.expired_units:
        parts.append(f"{s.expired_units} expired, remove them")
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

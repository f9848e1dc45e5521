"""Dispensing from a genuine prescription: how much of each item, from which batch.

One row per item with something left: tick it (Space), set the quantity, choose the batch
(first-expiry-first-out; then, where the prescriber allowed it, other products with the same
active ingredients, strength and form, marked "substitute"). Enter dispenses. A refusal shows
next to the item it is about and nothing on the screen is cleared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QSpinBox, QWidget

from clinicdesk.errors import ClinicDeskError, ValidationError
from clinicdesk.money import money_text
from clinicdesk.services.inventory import BatchView
from clinicdesk.services.pharmacy_views import DispenseInput, DispenseView, ItemBalance, Verdict
from ui.context import AppContext
from ui.pharmacy.pages import STOCK
from ui.theme import set_invalid, set_kind
from ui.widgets.dates import format_day
from ui.widgets.form_dialog import FormDialog


def batch_text(batch: BatchView, currency: str, substitute: bool) -> str:
    """'IBU-SOON · expires 24/01/2027 · 10 on hand · £0.12 each'."""
    parts = [
        batch.batch_number,
        f"expires {format_day(batch.expiry)}",
        f"{batch.on_hand} on hand",
        f"{money_text(batch.unit_price, currency)} each",
    ]
    text = " · ".join(parts)
    return f"Substitute: {batch.description} — {text}" if substitute else text


def on_shelf(item: ItemBalance) -> bool:
    """A batch of the drug, or of a permitted substitute, can be given."""
    return bool(item.batches or item.substitutes)


@dataclass
class ItemRow:
    """The widgets of one item's row."""

    item: ItemBalance
    include: QCheckBox
    quantity: QSpinBox
    batch: QComboBox
    price: QLabel
    error: QLabel

    def chosen_batch(self) -> BatchView | None:
        return self.batch.currentData()

    def line_price(self) -> int:
        batch = self.chosen_batch()
        if not self.include.isChecked() or batch is None:
            return 0
        return batch.unit_price * self.quantity.value()


class DispenseDialog(FormDialog):
    """One row per item instead of form fields; ``submitted`` carries the DispenseView."""

    def __init__(
        self,
        ctx: AppContext,
        verdict: Verdict,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Dispense", "Dispense", parent, min_width=1120)
        self.heading.setText(f"Dispense to {verdict.content.patient_name}")
        self.form.hide()  # the items are rows of their own
        self.verdict = verdict
        self.currency = ctx.details.currency
        layout = self.layout_
        hint = QLabel(
            "Tick what you give (Space), set how much, choose the batch. Enter dispenses."
        )
        set_kind(hint, "muted")
        layout.addWidget(hint)

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        for column, title in enumerate(("Item", "Quantity", "Batch", "Price")):
            caption = QLabel(title)
            set_kind(caption, "section")
            grid.addWidget(caption, 0, column)
        self.rows: list[ItemRow] = []
        for item in (i for i in verdict.items if i.remaining > 0):
            self.rows.append(self._row(grid, item))
        grid.setColumnStretch(2, 1)
        layout.addLayout(grid)

        self.total = QLabel()
        set_kind(self.total, "subtitle")
        layout.addWidget(self.total)
        self.finish_layout()
        self._update_prices()
        first = next((r for r in self.rows if r.include.isChecked()), None)
        if first is not None:
            first.quantity.setFocus()
            first.quantity.selectAll()
        elif self.rows:
            self.rows[0].include.setFocus()

    def _row(self, grid: QGridLayout, item: ItemBalance) -> ItemRow:
        r = 1 + 2 * len(self.rows)
        include = QCheckBox(f"{item.line}. {item.prescribed}")
        include.setToolTip(f"{item.remaining} of {item.allowed} {item.item.unit} left to give")
        stocked = on_shelf(item)
        include.setChecked(stocked)  # nothing on the shelf: left out, not an error to untick
        quantity = QSpinBox()
        quantity.setRange(0, item.remaining)
        quantity.setValue(min(item.item.quantity, item.remaining))
        quantity.setSuffix(f" of {item.remaining} {item.item.unit}")
        quantity.setAccessibleName(f"Quantity of {item.prescribed}")
        batch = QComboBox()
        batch.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        batch.setAccessibleName(f"Batch of {item.prescribed}")
        for b in item.batches:
            batch.addItem(batch_text(b, self.currency, False), b)
        for b in item.substitutes:
            batch.addItem(batch_text(b, self.currency, True), b)
        if not batch.count():
            batch.addItem("None in stock", None)
        price = QLabel()
        error = QLabel()
        set_kind(error, "fieldError")
        error.setWordWrap(True)
        error.hide()
        grid.addWidget(include, r, 0)
        grid.addWidget(quantity, r, 1)
        grid.addWidget(batch, r, 2)
        grid.addWidget(price, r, 3)
        grid.addWidget(error, r + 1, 0, 1, 4)
        row = ItemRow(item, include, quantity, batch, price, error)
        quantity.setEnabled(stocked)
        batch.setEnabled(stocked)
        include.toggled.connect(lambda on: self._included(row, on))
        quantity.valueChanged.connect(self._update_prices)
        batch.currentIndexChanged.connect(self._update_prices)
        return row

    def _included(self, row: ItemRow, on: bool) -> None:
        row.quantity.setEnabled(on)
        row.batch.setEnabled(on)
        self._update_prices()

    def _update_prices(self) -> None:
        for row in self.rows:
            row.price.setText(money_text(row.line_price(), self.currency))
        total = sum(row.line_price() for row in self.rows)
        self.total.setText(f"Total {money_text(total, self.currency)}")

    # ---- submitting ----

    def call(self) -> Callable[[], DispenseView]:
        """What to give, as the dispense to record; a missing quantity or batch is said at its
        row. The dialog stays open while it is recorded: closed then, the counter would never
        hear that it was (no labels, the old quantities on screen)."""
        for row in self.rows:
            row.error.hide()
            set_invalid(row.quantity, False)
        chosen: list[DispenseInput] = []
        problems: dict[str, str] = {}
        for row in (r for r in self.rows if r.include.isChecked()):
            batch = row.chosen_batch()
            if row.quantity.value() == 0:
                problems[row_key(row)] = "give at least 1, or untick the item"
            elif batch is None:
                problems[row_key(row)] = "none of this drug is in stock; untick the item"
            else:
                chosen.append(DispenseInput(row.item.line, batch.id, row.quantity.value()))
        if problems:
            raise ValidationError(problems)
        if not chosen and not any(on_shelf(r.item) for r in self.rows):
            raise ClinicDeskError(
                "Nothing on this prescription is on the shelf. Receive stock first "
                f"({STOCK.title}, {STOCK.key}), or record why it is not dispensed."
            )
        if not chosen:
            raise ClinicDeskError("Tick at least one item to dispense.")
        pharmacy, actor, code = self.ctx.session.pharmacy, self.ctx.actor, self.verdict.code
        return partial(pharmacy.dispense, actor, code, chosen)

    def place_errors(self, fields: dict[str, str]) -> dict[str, str]:
        """An item's reason next to its row; the rest for the message line."""
        rows = {row_key(r): r for r in self.rows}
        for key in rows.keys() & fields.keys():
            row = rows[key]
            row.error.setText(f"{row.item.line}. {row.item.prescribed}: {fields[key]}")
            row.error.show()
            set_invalid(row.quantity, True)
        return {key: reason for key, reason in fields.items() if key not in rows}


def row_key(row: ItemRow) -> str:
    """How the dispensing service names an item in its reasons."""
    return f"item {row.item.line}"

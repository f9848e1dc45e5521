"""Dispensing from a genuine prescription: how much of each item, from which batch.

One row per item with something left: tick it (Space), set the quantity, choose the batch
(first-expiry-first-out; then, where the prescriber allowed it, other products with the same
active ingredients, strength and form, marked "substitute"). Enter dispenses. A refusal shows
next to the item it is about and nothing on the screen is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.money import money_text
from clinicdesk.services.inventory import BatchView
from clinicdesk.services.pharmacy_views import DispenseInput, DispenseView, ItemBalance, Verdict
from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_invalid, set_kind
from ui.widgets.dates import format_day
from ui.widgets.dialogs import titled_layout


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


class DispenseDialog(QDialog):
    dispensed = Signal(object)  # DispenseView

    def __init__(
        self,
        ctx: AppContext,
        verdict: Verdict,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.verdict = verdict
        self.currency = ctx.details.currency
        self.setWindowTitle("Dispense")
        self.setMinimumWidth(1120)
        layout, _title = titled_layout(self, f"Dispense to {verdict.content.patient_name}")
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
        self.problem = QLabel()
        set_kind(self.problem, "fieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.total)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(self)
        self.dispense_button = buttons.addButton("Dispense", QDialogButtonBox.ButtonRole.AcceptRole)
        set_kind(self.dispense_button, "primary")
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.sending = False
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.dispense_button.setDefault(True)
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

    def inputs(self) -> list[DispenseInput] | None:
        """What to give; None (with the reasons shown by the rows) when something is missing."""
        self._clear_problems()
        chosen: list[DispenseInput] = []
        for row in (r for r in self.rows if r.include.isChecked()):
            batch = row.chosen_batch()
            if row.quantity.value() == 0:
                self._row_problem(row, "give at least 1, or untick the item")
            elif batch is None:
                self._row_problem(row, "none of this drug is in stock; untick the item")
            else:
                chosen.append(DispenseInput(row.item.line, batch.id, row.quantity.value()))
        if any(r.error.isVisible() for r in self.rows):
            return None
        if not chosen and not any(on_shelf(r.item) for r in self.rows):
            self._problem(
                "Nothing on this prescription is on the shelf. Receive stock first (Stock, F3), "
                "or record why it is not dispensed."
            )
            return None
        if not chosen:
            self._problem("Tick at least one item to dispense.")
            return None
        return chosen

    def submit(self) -> None:
        lines = self.inputs()
        if lines is None:
            return
        pharmacy, actor, code = self.ctx.session.pharmacy, self.ctx.actor, self.verdict.code
        self._sending(True)
        self.ctx.tasks.submit(
            pharmacy.dispense,
            actor,
            code,
            lines,
            on_result=self._done,
            on_error=self._failed,
            owner=self,
        )

    def _sending(self, on: bool) -> None:
        """While the dispense is being recorded the dialog stays open: closed then, the counter
        would never hear that it was recorded (no labels, the old quantities on screen)."""
        self.sending = on
        self.dispense_button.setEnabled(not on)
        self.cancel_button.setEnabled(not on)

    def reject(self) -> None:
        if not self.sending:  # Esc, Cancel and the window's close button alike
            super().reject()

    def _done(self, view: DispenseView) -> None:
        self._sending(False)
        self.dispensed.emit(view)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._sending(False)
        if isinstance(error, ValidationError):
            rows = {f"item {r.item.line}": r for r in self.rows}
            for field, reason in error.fields.items():
                if field in rows:
                    self._row_problem(rows[field], reason)
                else:
                    self._problem(reason[0].upper() + reason[1:] + ".")
            return
        self._problem(describe(error))

    def _row_problem(self, row: ItemRow, reason: str) -> None:
        row.error.setText(f"{row.item.line}. {row.item.prescribed}: {reason}")
        row.error.show()
        set_invalid(row.quantity, True)

    def _problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def _clear_problems(self) -> None:
        for row in self.rows:
            row.error.hide()
            set_invalid(row.quantity, False)
        self.problem.hide()

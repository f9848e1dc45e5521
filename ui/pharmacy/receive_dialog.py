"""Receiving a delivery: the drug typed and taken from the formulary, the pack's batch number,
strength, form and expiry, how many units and what each costs and sells for."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.money import parse_amount
from clinicdesk.services.formulary import DrugView
from clinicdesk.services.inventory import BatchInput, BatchView
from ui.context import AppContext
from ui.doctor.drug_field import DrugField
from ui.widgets.date_field import DateField
from ui.widgets.dates import DATE_HINT
from ui.widgets.form_dialog import FormDialog

AMOUNT_HINT = "e.g. 0.45"


def whole_number(text: str) -> int | None:
    """'12', '+12', '-3' (or with a typographic minus) -> the number; None otherwise."""
    text = text.strip().replace("−", "-")
    digits = text.lstrip("+-")
    if not digits.isascii() or not digits.isdigit() or len(text) - len(digits) > 1:
        return None
    return int(text)


def _choices(values: tuple[str, ...]) -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)
    combo.addItems(values)
    return combo


class ReceiveDialog(FormDialog):
    """A new batch, or more units of a batch already on the shelf (same number and expiry)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Receive stock", "Receive", parent)
        self.setMinimumWidth(560)
        self.drug = DrugField(ctx)
        self.drug.setAccessibleName("Drug")
        self.drug.chosen.connect(self._drug_chosen)
        self.batch_number = QLineEdit(placeholderText="As printed on the pack")
        self.strength = _choices(())
        self.form_ = _choices(())
        self.expiry = DateField()
        self.quantity = QLineEdit(placeholderText="Units, e.g. 100")
        self.unit_cost = QLineEdit(placeholderText=AMOUNT_HINT)
        self.unit_price = QLineEdit(placeholderText=AMOUNT_HINT)
        self.supplier = QLineEdit(placeholderText="e.g. Alliance Healthcare")
        f = self.form
        f.add("drug_id", "&Drug *", self.drug, 0, 0, 2, hint="Type part of the name, then Enter.")
        f.add("batch_number", "&Batch number *", self.batch_number, 1, 0)
        f.add("expiry", "&Expiry date *", self.expiry, 1, 1, hint=DATE_HINT)
        f.add("strength", "&Strength", self.strength, 2, 0)
        f.add("form", "&Form", self.form_, 2, 1)
        f.add("quantity", "&Quantity *", self.quantity, 3, 0)
        f.add("supplier", "Su&pplier", self.supplier, 3, 1)
        f.add("unit_cost", "Unit &cost *", self.unit_cost, 4, 0, hint="What one unit cost us.")
        f.add("unit_price", "Unit p&rice *", self.unit_price, 4, 1, hint="What a patient pays.")
        self.finish_layout()
        self.drug.setFocus()

    def _drug_chosen(self, drug: DrugView) -> None:
        self.form.set_error("drug_id", None)
        for combo, values in ((self.strength, drug.strengths), (self.form_, drug.forms)):
            combo.clear()
            combo.addItems(values)

    def call(self) -> Callable[[], BatchView]:
        problems: dict[str, str] = {}
        drug = self.drug.drug
        if drug is None:
            problems["drug_id"] = "choose the drug from the formulary list as you type"
        expiry = self.expiry.value()
        if expiry is None:
            problems["expiry"] = f"is not a date yet ({DATE_HINT})"
        quantity = whole_number(self.quantity.text())
        if quantity is None:
            problems["quantity"] = "must be a whole number of units"
        amounts = {}
        for name, field in (("unit_cost", self.unit_cost), ("unit_price", self.unit_price)):
            amounts[name] = parse_amount(field.text())
            if amounts[name] is None:
                problems[name] = f"is not an amount ({AMOUNT_HINT})"
        if problems:
            raise ValidationError(problems)
        batch = BatchInput(
            drug.id,
            self.batch_number.text(),
            expiry,
            quantity,
            amounts["unit_cost"],
            amounts["unit_price"],
            self.strength.currentText(),
            self.form_.currentText(),
            self.supplier.text(),
        )
        return partial(self.ctx.session.inventory.receive, self.ctx.actor, batch)

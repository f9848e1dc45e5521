"""One prescription item as a form: the drug (searched in the formulary as it is typed), how
much, how often and for how long, with the directions in plain words shown live beneath."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.rx.directions import ROUTES, directions, frequency_problem
from clinicdesk.rx.payload import RxItem
from clinicdesk.services.formulary import DrugView
from clinicdesk.services.prescription_checks import MAX_REFILLS, ItemInput
from ui.context import AppContext
from ui.doctor.drug_field import DrugField
from ui.doctor.frequency_editor import FrequencyEditor
from ui.theme import set_kind
from ui.widgets.forms import FieldForm

UNITS = ("tablets", "capsules", "ml", "bottle", "inhaler", "tube", "drops", "sachets", "pens")
NO_DIRECTIONS = "Directions appear here once the dose, route, how often and days are filled in."


def whole_number(text: str) -> int | None:
    """'15' -> 15; '' -> None (the service then says the field is required)."""
    text = text.strip()
    return int(text) if text.isdigit() else None


def _digits(placeholder: str, length: int = 5) -> QLineEdit:
    edit = QLineEdit(placeholderText=placeholder)
    edit.setValidator(QRegularExpressionValidator(rf"\d{{0,{length}}}"))
    return edit


def _choices(values: tuple[str, ...] = ()) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    box.addItems(list(values))
    return box


def _offer(box: QComboBox, values: tuple[str, ...], noun: str) -> None:
    """Offer a drug's strengths or forms; take the only one, or leave the choice to the doctor."""
    box.clear()
    box.addItems(list(values))
    box.setCurrentIndex(0 if len(values) == 1 else -1)
    if len(values) != 1:
        box.setEditText("")
    box.lineEdit().setPlaceholderText(f"Choose a {noun}" if len(values) > 1 else "")


class ItemEditor(QWidget):
    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drug = DrugField(ctx)
        self.strength = _choices()
        self.form_ = _choices()
        self.dose = QLineEdit(placeholderText="e.g. 1 tablet, 5 ml, 2 puffs")
        self.route = _choices(ROUTES)
        self.frequency = FrequencyEditor()
        self.duration = _digits("e.g. 7", 3)
        self.quantity = _digits("e.g. 21")
        self.unit = _choices(UNITS)
        self.unit.setEditText("")
        self.unit.lineEdit().setPlaceholderText("tablets, ml…")
        self.refills = QSpinBox()
        self.refills.setRange(0, MAX_REFILLS)
        self.substitution = QCheckBox("Another brand may be given")
        self.substitution.setChecked(True)
        self.instructions = QLineEdit(placeholderText="e.g. Take with food.")

        self.form = FieldForm(columns=4)
        self.form.add("drug", "&Drug *", self.drug, 0, 0, 2)
        self.form.add("strength", "&Strength", self.strength, 0, 2)
        self.form.add("form", "F&orm", self.form_, 0, 3)
        self.form.add("dose", "Dos&e *", self.dose, 1, 0)
        self.form.add("route", "&Route *", self.route, 1, 1)
        self.form.add("frequency", "&How often *", self.frequency, 1, 2, 2)
        self.form.add("duration", "Da&ys *", self.duration, 2, 0)
        self.form.add("quantity", "&Quantity *", self.quantity, 2, 1)
        self.form.add("unit", "&Unit *", self.unit, 2, 2)
        self.form.add("refills", "Re&fills", self.refills, 2, 3)
        self.form.add("instructions", "&Instructions", self.instructions, 3, 0, 3)
        self.form.add("substitution", "Substitution", self.substitution, 3, 3)
        self.directions = QLabel(NO_DIRECTIONS)
        self.directions.setWordWrap(True)
        self.directions.setAccessibleName("Directions")
        set_kind(self.directions, "subtitle")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.form)
        layout.addWidget(self.directions)
        layout.addStretch(1)

        self.drug.chosen.connect(self._drug_chosen)
        for edit in (self.drug, self.dose, self.duration, self.quantity, self.instructions):
            edit.textChanged.connect(self._edited)
        for box in (self.strength, self.form_, self.route, self.unit):
            box.currentTextChanged.connect(self._edited)
        self.frequency.changed.connect(self._edited)
        self.refills.valueChanged.connect(self._edited)
        self.substitution.toggled.connect(self._edited)
        self.setFocusProxy(self.drug)

    def _drug_chosen(self, drug: DrugView) -> None:
        _offer(self.strength, drug.strengths, "strength")
        _offer(self.form_, drug.forms, "form")
        self.route.setEditText(drug.route)
        self.form.set_error("drug", None)
        self.strength.setFocus()

    def _edited(self, *_args) -> None:
        problem = frequency_problem(self.frequency.frequency())
        self.form.set_error("frequency", problem)
        self.directions.setText(self.directions_text(problem))
        self.changed.emit()

    def directions_text(self, frequency_problem_: str | None = None) -> str:
        item = self.item()
        if frequency_problem_ or not (item.dose and item.route and item.duration_days):
            return NO_DIRECTIONS
        rx = RxItem(
            item.drug,
            item.strength,
            item.form,
            item.dose,
            item.route,
            item.frequency,
            item.duration_days,
            item.quantity or 0,
            item.unit,
        )
        return f"Directions: {directions(rx)}"

    def item(self) -> ItemInput:
        drug = self.drug.drug
        return ItemInput(
            drug=self.drug.text().strip(),
            dose=self.dose.text().strip(),
            route=self.route.currentText().strip(),
            frequency=self.frequency.frequency(),
            duration_days=whole_number(self.duration.text()),
            quantity=whole_number(self.quantity.text()),
            unit=self.unit.currentText().strip(),
            strength=self.strength.currentText().strip(),
            form=self.form_.currentText().strip(),
            refills=self.refills.value(),
            substitution=self.substitution.isChecked(),
            instructions=self.instructions.text().strip(),
            drug_id=drug.id if drug is not None else None,
        )

    def summary(self) -> str:
        item = self.item()
        return " ".join(p for p in (item.drug, item.strength) if p) or "New item"

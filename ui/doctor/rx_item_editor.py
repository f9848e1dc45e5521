"""One prescription item as a form: the drug (searched in the formulary as it is typed), how
much, how often and for how long, with the directions in plain words shown live beneath.

What follows from what is typed is filled in: the unit from the form, the quantity from dose x
how often x days (until the doctor types one), a bare dose number takes the form's word. Enter
moves to the next field still empty; Tab goes through every field. Choosing another drug
clears what does not fit it and says so.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator
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
from clinicdesk.rx.quantity import course_quantity, dose_fits, unit_for, with_dose_word
from clinicdesk.services.formulary import DrugView
from clinicdesk.services.prescription_checks import MAX_REFILLS, ItemInput
from ui.context import AppContext
from ui.doctor.drug_field import DrugField
from ui.doctor.frequency_editor import FrequencyEditor
from ui.theme import set_kind
from ui.widgets.forms import FieldForm

UNITS = ("tablets", "capsules", "ml", "bottle", "inhaler", "tube", "drops", "sachets", "pens")
NO_DIRECTIONS = "Directions appear here once the dose, route, how often and days are filled in."
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_PLAIN = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)


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


def _offer(box: QComboBox, values: tuple[str, ...], noun: str) -> str | None:
    """Offer a drug's strengths or forms; keep the one written if the drug has it, take the
    only one, or leave the choice to the doctor. Returns the value cleared, if one was."""
    before = box.currentText().strip()
    box.clear()
    box.addItems(list(values))
    kept = next((i for i, v in enumerate(values) if v.lower() == before.lower()), None)
    box.setCurrentIndex(kept if kept is not None else 0 if len(values) == 1 else -1)
    if box.currentIndex() < 0:
        box.setEditText("")
    box.lineEdit().setPlaceholderText(f"Choose a {noun}" if len(values) > 1 else "")
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    box.setMinimumWidth(box.sizeHint().width())  # the longest value is read whole
    return before if before and kept is None else None


def _what_changed(drug: str, changes: dict[str, tuple[str, str]]) -> str:
    """'For Clarithromycin: form "capsule" is now "tablet"; dose "1 capsule" was cleared.'"""
    if not changes:
        return ""
    said = [
        f'{name} "{before}" ' + (f'is now "{after}"' if after else "was cleared")
        for name, (before, after) in changes.items()
    ]
    return f"For {drug}: {'; '.join(said)}."


class ItemEditor(QWidget):
    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drug = DrugField(ctx)
        self.strength = _choices()
        self.form_ = _choices()
        self.dose = QLineEdit(placeholderText="e.g. 2 tablets")
        self.dose.setMinimumWidth(self.dose.fontMetrics().horizontalAdvance("e.g. 2 tablets") + 40)
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
        self.form.add("instructions", "&Instructions", self.instructions, 3, 0, 2)
        self.form.add("substitution", "Substitution", self.substitution, 3, 2, 2)
        self.directions = QLabel(NO_DIRECTIONS)
        self.directions.setWordWrap(True)
        self.directions.setAccessibleName("Directions")
        set_kind(self.directions, "subtitle")
        self.cleared = QLabel()
        self.cleared.setWordWrap(True)
        self.cleared.setAccessibleName("What the new drug changed")
        set_kind(self.cleared, "hint")
        self.cleared.hide()
        self._own_quantity = False  # the doctor typed the quantity: it stays
        self._own_unit = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.form)
        layout.addWidget(self.directions)
        layout.addWidget(self.cleared)
        layout.addStretch(1)

        self.drug.chosen.connect(self._drug_chosen)
        for edit in (self.drug, self.dose, self.duration, self.instructions):
            edit.textChanged.connect(self._edited)
        self.quantity.textChanged.connect(self._described)  # emptied: computed on the next change
        for box in (self.strength, self.form_, self.route, self.unit):
            box.currentTextChanged.connect(self._edited)
        self.frequency.changed.connect(self._edited)
        self.refills.valueChanged.connect(self._edited)
        self.substitution.toggled.connect(self._edited)
        self.quantity.textEdited.connect(self._quantity_typed)
        self.unit.lineEdit().textEdited.connect(self._unit_typed)
        self.form_.currentTextChanged.connect(self._form_changed)
        self.dose.editingFinished.connect(self._dose_finished)
        for widget in self._fields():
            widget.installEventFilter(self)
        self.setFocusProxy(self.drug)

    # ---- what follows from what was typed ----

    def _quantity_typed(self, text: str) -> None:
        self._own_quantity = bool(text.strip())

    def _unit_typed(self, text: str) -> None:
        self._own_unit = bool(text.strip())

    def _form_changed(self, form: str) -> None:
        unit = unit_for(form)
        if unit is not None and not self._own_unit:
            self.unit.setEditText(unit)

    def _dose_finished(self) -> None:
        worded = with_dose_word(self.dose.text(), self.form_.currentText())
        if worded != self.dose.text():
            self.dose.setText(worded)

    def _computed_quantity(self) -> None:
        if self._own_quantity:
            return
        item = self.item()
        found = course_quantity(item.dose, item.frequency, item.duration_days, item.unit)
        text = "" if found is None else str(found)
        if self.quantity.text() != text:
            self.quantity.setText(text)

    # ---- Enter: the next field still empty ----

    def _fields(self) -> list[QWidget]:
        f = self.frequency
        return [
            self.drug, self.strength, self.form_, self.dose, self.route, f.kind, f.number,
            f.times, self.duration, self.quantity, self.unit, self.refills, self.instructions,
        ]  # fmt: skip

    def _needed(self) -> list[QWidget]:
        """The fields, in order, that still want something (a drug's lists only if it has them)."""
        empty = [
            (self.strength, self.strength.count() and not self.strength.currentText().strip()),
            (self.form_, self.form_.count() and not self.form_.currentText().strip()),
            (self.dose, not self.dose.text().strip()),
            (self.route, not self.route.currentText().strip()),
            (self._how_often(), True),  # always asked: three times a day is only a guess
            (self.duration, not self.duration.text().strip()),
            (self.quantity, not self.quantity.text().strip()),
            (self.unit, not self.unit.currentText().strip()),
        ]
        return [widget for widget, wanted in empty if wanted]

    def _how_often(self) -> QWidget:
        f = self.frequency
        return (
            f.number
            if f.number.isVisibleTo(self)
            else f.times
            if f.times.isVisibleTo(self)
            else f.kind
        )

    def next_empty(self, after: QWidget | None = None) -> None:
        """Focus the first field after ``after`` still empty, else the next field."""
        order = self._fields()
        start = order.index(after) if after in order else -1
        later = [w for w in self._needed() if order.index(w) > start]
        if later:
            later[0].setFocus(Qt.FocusReason.TabFocusReason)
        elif after is not None:
            after.nextInFocusChain().setFocus(Qt.FocusReason.TabFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in _ENTER
            and event.modifiers() in _PLAIN
            and not (watched is self.drug and self.drug.showing_matches())
            and isinstance(watched, QWidget)
        ):
            if watched is self.dose:
                self._dose_finished()
            self.next_empty(watched)
            return True
        return super().eventFilter(watched, event)

    def _drug_chosen(self, drug: DrugView) -> None:
        unit_before = self.unit.currentText().strip()
        cleared = {
            "strength": _offer(self.strength, drug.strengths, "strength"),
            "form": _offer(self.form_, drug.forms, "form"),  # the unit follows the form
        }
        forms = [self.form_.currentText()] if self.form_.currentText() else list(drug.forms)
        dose = self.dose.text().strip()
        if dose and not any(dose_fits(dose, form) for form in forms):
            cleared["dose"] = dose
            self.dose.clear()
        units = {unit_for(form) for form in forms}
        if unit_before and None not in units and unit_before not in units:
            self._own_unit = False
            self.unit.setEditText(unit_for(forms[0]) if len(units) == 1 else "")
        if unit_before and self.unit.currentText().strip() != unit_before:
            cleared["unit"] = unit_before
            if self._own_quantity:
                cleared["quantity"] = self.quantity.text()
                self._own_quantity = False
        self.route.setEditText(drug.route)
        self.form.set_error("drug", None)
        self._edited()
        now = {
            "strength": self.strength.currentText(),
            "form": self.form_.currentText(),
            "dose": self.dose.text(),
            "unit": self.unit.currentText(),
            "quantity": self.quantity.text(),
        }
        said = _what_changed(drug.name, {k: (v, now[k]) for k, v in cleared.items() if v})
        self.cleared.setText(said)
        self.cleared.setVisible(bool(said))
        self.next_empty(self.drug)

    def _edited(self, *_args) -> None:
        self._computed_quantity()
        self._described()

    def _described(self, *_args) -> None:
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

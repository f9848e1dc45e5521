"""A prescription written by keyboard alone, counting the keys; and what the form fills in or
clears by itself (the quantity, the unit, what no longer fits another drug)."""

from __future__ import annotations

import pytest
from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QStyle, QStyleOptionComboBox

from ui.context import AppContext
from ui.doctor.prescription_dialog import PrescriptionDialog
from ui.doctor.rx_item_editor import ItemEditor

pytestmark = pytest.mark.usefixtures("own_settings")


@pytest.fixture
def dialog(qtbot, consultation, tasks) -> PrescriptionDialog:
    session = consultation.doctor
    ctx = AppContext(session, tasks, session.clinic.details())
    window = PrescriptionDialog(ctx, consultation.visit)  # closed by the autouse fixture
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    return window


class Keyboard:
    """Key presses sent to whatever has the focus, as a doctor's keyboard would, counted."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.count = 0

    def type(self, text: str) -> None:
        for char in text:
            self.key(Qt.Key(ord(char.upper())) if char.isalnum() else char)

    def key(self, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        target = QApplication.focusWidget()
        assert target is not None, "nothing has the keyboard"
        if isinstance(key, str):
            self.qtbot.keyClicks(target, key)
        else:
            self.qtbot.keyClick(target, key, modifier)
        self.count += 1

    def enter(self) -> None:
        self.key(Qt.Key.Key_Return)

    def drug(self, editor: ItemEditor, typed: str, name: str) -> None:
        """Type the start of a name, wait for the matches, go down to ``name``, take it."""
        self.type(typed)
        field = editor.drug
        self.qtbot.waitUntil(field.showing_matches, timeout=5000)
        rows = [field.matches.item(r).text() for r in range(field.matches.count())]
        for _ in range(next(i for i, row in enumerate(rows) if row.startswith(name))):
            self.key(Qt.Key.Key_Down)
        self.enter()
        assert field.text() == name


def test_three_items_by_keyboard_alone(qtbot, dialog, consultation, tasks):
    keys = Keyboard(qtbot)
    first = dialog.editors.currentWidget()
    assert first.drug.hasFocus()
    keys.drug(first, "cla", "Clarithromycin")  # not amoxicillin: this patient has hives
    assert first.strength.hasFocus()  # two strengths: the doctor picks one
    keys.type("5")  # 500 mg; the only form, tablet, is taken and gives the unit
    keys.enter()
    assert first.unit.currentText() == "tablets"
    keys.type("1")  # 1 tablet
    keys.enter()
    assert first.dose.text() == "1 tablet"
    assert first.frequency.number.hasFocus()
    keys.type("2")  # twice a day
    keys.enter()
    keys.type("7")
    assert first.quantity.text() == "14"
    keys.key(Qt.Key.Key_N, CTRL)

    second = dialog.editors.currentWidget()
    assert second is not first and second.drug.hasFocus()
    keys.drug(second, "ome", "Omeprazole")
    keys.type("2")  # 20 mg; the only form, capsule, is taken
    keys.enter()
    assert second.dose.hasFocus()
    keys.type("1")
    keys.enter()
    keys.type("1")  # once a day
    keys.enter()
    keys.type("28")
    keys.key(Qt.Key.Key_N, CTRL)

    third = dialog.editors.currentWidget()
    keys.drug(third, "par", "Paracetamol")
    keys.type("5")  # 500 mg
    keys.enter()
    keys.type("t")  # tablet, of tablet and oral suspension
    keys.enter()
    keys.type("2")
    keys.enter()
    keys.type("4")  # four times a day
    keys.enter()
    keys.type("5")
    assert third.directions.text() == (
        "Directions: Take 2 tablets by mouth four times a day for 5 days."
    )
    keys.key(Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: bool(dialog.prescription or dialog.message.isVisible()))
    assert dialog.prescription is not None, dialog.message.text()
    wait_idle(qtbot, tasks)

    print(f"\nA three-item prescription took {keys.count} keys.")
    (stored,) = consultation.doctor.prescriptions.for_visit(
        consultation.doctor.actor, consultation.visit.id
    )
    assert [(i.drug, i.strength, i.form, i.dose, i.quantity, i.unit) for i in stored.items] == [
        ("Clarithromycin", "500 mg", "tablet", "1 tablet", 14, "tablets"),
        ("Omeprazole", "20 mg", "capsule", "1 capsule", 28, "capsules"),
        ("Paracetamol", "500 mg", "tablet", "2 tablets", 40, "tablets"),
    ]
    assert keys.count <= 40


def choose(qtbot, editor: ItemEditor, typed: str, name: str) -> None:
    editor.drug.setFocus()
    qtbot.keyClick(editor.drug, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(editor.drug, typed)
    qtbot.waitUntil(editor.drug.showing_matches, timeout=5000)
    rows = [editor.drug.matches.item(r).text() for r in range(editor.drug.matches.count())]
    for _ in range(next(i for i, row in enumerate(rows) if row.startswith(name))):
        qtbot.keyClick(editor.drug, Qt.Key.Key_Down)
    qtbot.keyClick(editor.drug, Qt.Key.Key_Return)


def retype(qtbot, widget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(widget, Qt.Key.Key_Backspace)
    qtbot.keyClicks(widget, text)


def test_a_typed_quantity_stays_and_an_emptied_one_is_computed_again(qtbot, dialog):
    editor = dialog.editors.currentWidget()
    choose(qtbot, editor, "omep", "Omeprazole")
    retype(qtbot, editor.dose, "1 capsule")
    retype(qtbot, editor.duration, "14")
    assert (editor.quantity.text(), editor.unit.currentText()) == ("42", "capsules")
    retype(qtbot, editor.quantity, "30")
    retype(qtbot, editor.duration, "28")
    retype(qtbot, editor.dose, "2 capsules")
    assert editor.quantity.text() == "30"  # the doctor's number, whatever changes after
    retype(qtbot, editor.quantity, "")
    assert editor.quantity.text() == ""  # room to type another
    retype(qtbot, editor.duration, "21")
    assert editor.quantity.text() == "126"  # computed again: 2 x 3 a day x 21 days


def test_a_liquid_is_counted_in_ml(qtbot, dialog):
    editor = dialog.editors.currentWidget()
    choose(qtbot, editor, "parac", "Paracetamol")
    retype(qtbot, editor.form_.lineEdit(), "oral suspension")
    retype(qtbot, editor.dose, "5 ml")
    retype(qtbot, editor.duration, "3")
    assert (editor.quantity.text(), editor.unit.currentText()) == ("45", "ml")


def test_another_drug_clears_what_no_longer_fits_and_says_so(qtbot, dialog):
    editor = dialog.editors.currentWidget()
    choose(qtbot, editor, "amox", "Amoxicillin")
    retype(qtbot, editor.strength.lineEdit(), "500 mg")
    retype(qtbot, editor.form_.lineEdit(), "capsule")
    retype(qtbot, editor.dose, "1 capsule")
    retype(qtbot, editor.duration, "7")
    assert editor.unit.currentText() == "capsules"
    assert not editor.cleared.isVisible()

    choose(qtbot, editor, "clari", "Clarithromycin")
    assert editor.strength.currentText() == "500 mg"  # Clarithromycin comes in 500 mg too
    assert editor.form_.currentText() == "tablet"
    assert editor.dose.text() == ""
    assert editor.unit.currentText() == "tablets"
    assert editor.quantity.text() == ""
    assert editor.cleared.isVisible()
    assert editor.cleared.text() == (
        'For Clarithromycin: form "capsule" is now "tablet"; dose "1 capsule" was cleared; '
        'unit "capsules" is now "tablets".'
    )
    retype(qtbot, editor.dose, "1")
    qtbot.keyClick(editor.dose, Qt.Key.Key_Return)
    assert (editor.dose.text(), editor.quantity.text()) == ("1 tablet", "21")


@pytest.mark.parametrize(
    ("typed", "name", "which"),
    [
        ("ibu", "Ibuprofen", "strength"),
        ("salb", "Salbutamol", "strength"),  # "100 micrograms per dose"
        ("ibu", "Ibuprofen", "how often"),
    ],
)
def test_lists_are_wide_enough_to_read(qtbot, dialog, typed, name, which):
    editor = dialog.editors.currentWidget()
    choose(qtbot, editor, typed, name)
    box: QComboBox = editor.strength if which == "strength" else editor.frequency.kind
    metrics = box.fontMetrics()
    option = QStyleOptionComboBox()
    box.initStyleOption(option)
    field = QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField
    room = box.style().subControlRect(*field, box).width()
    if box.isEditable():
        room = min(room, box.lineEdit().width())
    longest = max((box.itemText(i) for i in range(box.count())), key=metrics.horizontalAdvance)
    assert metrics.horizontalAdvance(longest) <= room, f"{longest!r} is cut off"

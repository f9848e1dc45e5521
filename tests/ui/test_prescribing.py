"""Writing a prescription through the real dialog: typed with the keyboard, checked, signed."""

from __future__ import annotations

import pytest
import shiboken6
from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintPreviewDialog
from PySide6.QtWidgets import QApplication

from clinicdesk.rx.payload import AS_NEEDED, EVERY_HOURS, PER_DAY, Frequency
from ui.context import AppContext
from ui.doctor.acknowledge_dialog import AcknowledgeDialog
from ui.doctor.prescription_dialog import PrescriptionDialog
from ui.doctor.print_prescription import PaperChoice
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


def pick_from_formulary(qtbot, editor: ItemEditor, typed: str, name: str) -> None:
    """Type part of the name, wait for the matches, go down to ``name`` and take it."""
    field = editor.drug
    field.setFocus()
    qtbot.keyClicks(field, typed)
    qtbot.waitUntil(field.showing_matches, timeout=5000)
    matches = field.matches
    names = [matches.item(r).data(Qt.ItemDataRole.UserRole).name for r in range(matches.count())]
    for _ in range(names.index(name)):
        qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.text() == name
    assert not field.showing_matches()


def replace_text(qtbot, widget, text: str) -> None:
    widget.setFocus()  # as Tab or a click would
    qtbot.keyClick(widget, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(widget, text)


def fill(qtbot, editor: ItemEditor, **fields: str) -> None:
    """Type into the item's fields by name (combo boxes through their line edit)."""
    for name, text in fields.items():
        widget = getattr(editor, "form_" if name == "form" else name)
        replace_text(qtbot, widget.lineEdit() if hasattr(widget, "lineEdit") else widget, text)


def choose_frequency(qtbot, editor: ItemEditor, kind_label: str, number: int) -> None:
    editor.frequency.kind.setFocus()
    qtbot.keyClicks(editor.frequency.kind, kind_label.split()[0])  # a space would open the list
    assert editor.frequency.kind.currentText() == kind_label
    replace_text(qtbot, editor.frequency.number, str(number))


def new_item(qtbot, dialog: PrescriptionDialog) -> ItemEditor:
    count = dialog.editors.count()
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_N, CTRL)
    assert dialog.editors.count() == count + 1
    editor = dialog.editors.currentWidget()
    assert editor.drug.hasFocus()
    return editor


def sign(qtbot, dialog: PrescriptionDialog) -> None:
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return, CTRL)


def test_three_items_typed_and_signed(qtbot, dialog, consultation, tasks):
    first = dialog.editors.currentWidget()
    assert first.drug.hasFocus()
    pick_from_formulary(qtbot, first, "ibu", "Ibuprofen")
    assert [first.strength.itemText(i) for i in range(first.strength.count())] == [
        "200 mg",
        "400 mg",
        "100 mg/5 ml",
    ]
    assert first.route.currentText() == "by mouth"
    fill(qtbot, first, strength="400 mg", form="tablet", dose="1 tablet", duration="5")
    fill(qtbot, first, quantity="15", unit="tablets", instructions="Take with or after food.")
    assert first.directions.text() == (
        "Directions: Take 1 tablet by mouth three times a day for 5 days."
    )

    second = new_item(qtbot, dialog)
    fill(qtbot, second, drug="Omeprazole", strength="20 mg", form="capsule", dose="1 capsule")
    choose_frequency(qtbot, second, "Times a day", 1)
    fill(qtbot, second, duration="28", quantity="28", unit="capsules")

    third = new_item(qtbot, dialog)
    fill(qtbot, third, drug="Salbutamol", dose="2 puffs", route="inhaled", duration="30")
    choose_frequency(qtbot, third, "As needed", 4)
    fill(qtbot, third, quantity="1", unit="inhaler")
    qtbot.keyClick(third.substitution, Qt.Key.Key_Space)
    assert third.directions.text() == (
        "Directions: Inhale 2 puffs when needed (at most four times a day) for 30 days."
    )
    assert [dialog.item_list.item(i).text() for i in range(3)] == [
        "1.  Ibuprofen 400 mg",
        "2.  Omeprazole 20 mg",
        "3.  Salbutamol",
    ]

    sign(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.prescription is not None, timeout=10_000)
    wait_idle(qtbot, tasks)
    assert dialog.pages.currentIndex() == 1
    assert dialog.reference.text() == dialog.prescription.reference_grouped
    (stored,) = consultation.doctor.prescriptions.for_visit(
        consultation.doctor.actor, consultation.visit.id
    )
    assert [(i.drug, i.strength, i.quantity, i.unit) for i in stored.items] == [
        ("Ibuprofen", "400 mg", 15, "tablets"),
        ("Omeprazole", "20 mg", 28, "capsules"),
        ("Salbutamol", "", 1, "inhaler"),
    ]
    assert [i.frequency for i in stored.items] == [
        Frequency(PER_DAY, 3),
        Frequency(PER_DAY, 1),
        Frequency(AS_NEEDED, 4),
    ]
    assert stored.items[2].substitution is False
    assert stored.items[0].instructions == "Take with or after food."
    assert stored.acknowledged == ()

    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_P, CTRL)
    choice = dialog.findChild(PaperChoice)
    assert choice.isVisible() and choice.paper() == "A5"
    qtbot.keyClick(choice.buttons["A5"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.findChild(QPrintPreviewDialog) is not None, timeout=10_000)
    preview = dialog.findChild(QPrintPreviewDialog)
    qtbot.waitUntil(preview.isVisible)
    preview.reject()
    # closed windows are deleted before the test ends: a child window still alive when the
    # fixture deletes the dialog can take the interpreter down with it
    qtbot.waitUntil(lambda: not shiboken6.isValid(preview) and not shiboken6.isValid(choice))


def test_zero_quantity_is_shown_at_its_field_and_nothing_is_written(
    qtbot, dialog, consultation, tasks
):
    first = dialog.editors.currentWidget()
    fill(qtbot, first, drug="Paracetamol", dose="2 tablets", duration="3", unit="tablets")
    fill(qtbot, first, quantity="24")
    second = new_item(qtbot, dialog)
    fill(qtbot, second, drug="Cetirizine", dose="1 tablet", duration="7", unit="tablets")
    fill(qtbot, second, quantity="0")

    sign(qtbot, dialog)
    qtbot.waitUntil(lambda: second.form.error_text("quantity") != "", timeout=5000)
    wait_idle(qtbot, tasks)
    assert second.form.error_text("quantity") == "Quantity must be at least 1"
    assert first.form.error_text("quantity") == ""
    assert dialog.editors.currentWidget() is second
    assert second.quantity.hasFocus()
    assert dialog.message.text() == "Check item 2."
    assert dialog.prescription is None
    doctor = consultation.doctor
    assert doctor.prescriptions.for_visit(doctor.actor, consultation.visit.id) == []


def test_enter_never_signs_only_ctrl_enter_does(qtbot, dialog, consultation, tasks):
    editor = dialog.editors.currentWidget()
    fill(qtbot, editor, drug="Paracetamol", dose="2 tablets", duration="3", unit="tablets")
    fill(qtbot, editor, quantity="24")
    for field in (dialog.valid_days, editor.quantity):
        field.setFocus()
        qtbot.keyClick(field, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    doctor = consultation.doctor
    assert dialog.prescription is None and not dialog.sending
    assert doctor.prescriptions.for_visit(doctor.actor, consultation.visit.id) == []

    sign(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.prescription is not None, timeout=10_000)
    assert dialog.pages.currentIndex() == 1 and dialog.print_button.hasFocus()


def test_allergy_needs_a_reason_which_is_stored(qtbot, dialog, consultation, tasks):
    editor = dialog.editors.currentWidget()
    pick_from_formulary(qtbot, editor, "amox", "Amoxicillin")
    qtbot.waitUntil(lambda: dialog.warning_texts() != [], timeout=5000)
    (warning,) = dialog.warning_texts()
    assert warning == (
        "Item 1, Amoxicillin, matches the recorded allergy to Penicillin (Hives, severe)."
    )
    fill(qtbot, editor, strength="500 mg", dose="1 capsule", duration="7", quantity="21")
    fill(qtbot, editor, unit="capsules")

    sign(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.findChild(AcknowledgeDialog) is not None, timeout=5000)
    ask = dialog.findChild(AcknowledgeDialog)
    qtbot.waitUntil(ask.isVisible)
    (key,) = ask.reasons
    qtbot.mouseClick(ask.save, Qt.MouseButton.LeftButton)
    assert ask.form.error_text(key) == "Say why you prescribe it anyway."
    assert ask.isVisible()
    doctor = consultation.doctor
    assert doctor.prescriptions.for_visit(doctor.actor, consultation.visit.id) == []

    qtbot.keyClicks(ask.reasons[key], "Took amoxicillin in 2023 with no reaction")
    qtbot.keyClick(ask.reasons[key], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.prescription is not None, timeout=10_000)
    wait_idle(qtbot, tasks)
    (stored,) = doctor.prescriptions.for_visit(doctor.actor, consultation.visit.id)
    assert stored.acknowledged == ((warning, "Took amoxicillin in 2023 with no reaction"),)


def test_every_zero_hours_is_refused_with_its_reason(qtbot, dialog, consultation, tasks):
    editor = dialog.editors.currentWidget()
    fill(qtbot, editor, drug="Paracetamol", dose="1 tablet", duration="3", quantity="12")
    fill(qtbot, editor, unit="tablets")
    choose_frequency(qtbot, editor, "Every N hours", 0)
    assert editor.frequency.frequency() == Frequency(EVERY_HOURS, 0)
    reason = "Every how many hours must be between 1 and 72"
    assert editor.form.error_text("frequency") == reason  # as it is typed
    assert "Directions:" not in editor.directions.text()

    sign(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=5000)
    wait_idle(qtbot, tasks)
    assert editor.form.error_text("frequency") == reason
    assert dialog.prescription is None
    doctor = consultation.doctor
    assert doctor.prescriptions.for_visit(doctor.actor, consultation.visit.id) == []

    replace_text(qtbot, editor.frequency.number, "6")
    assert editor.form.error_text("frequency") == ""
    assert editor.directions.text() == (
        "Directions: Take 1 tablet by mouth every 6 hours for 3 days."
    )


def test_warnings_follow_the_items_as_they_are_added_and_removed(qtbot, dialog, tasks):
    first = dialog.editors.currentWidget()
    qtbot.keyClick(first.drug, Qt.Key.Key_Insert)
    second = dialog.editors.currentWidget()
    pick_from_formulary(qtbot, second, "co-amox", "Co-amoxiclav")
    qtbot.waitUntil(lambda: len(dialog.warning_texts()) == 1, timeout=5000)
    assert dialog.warning_texts() == [
        "Item 2, Co-amoxiclav, matches the recorded allergy to Penicillin (Hives, severe)."
    ]  # item 1 has no drug yet: the numbers are still those on screen

    dialog.item_list.setCurrentRow(0)
    pick_from_formulary(qtbot, first, "amox", "Amoxicillin")
    qtbot.waitUntil(lambda: len(dialog.warning_texts()) == 3, timeout=5000)
    assert dialog.warning_texts()[2] == (
        "Items 1 and 2 (Amoxicillin and Co-amoxiclav) both contain amoxicillin."
    )

    dialog.item_list.setFocus()
    qtbot.keyClick(dialog.item_list, Qt.Key.Key_Delete)
    assert dialog.editors.count() == 1
    assert dialog.item_list.item(0).text() == "1.  Co-amoxiclav 500 mg/125 mg"  # its only strength
    qtbot.waitUntil(lambda: len(dialog.warning_texts()) == 1, timeout=5000)
    wait_idle(qtbot, tasks)
    assert dialog.warning_texts() == [
        "Item 1, Co-amoxiclav, matches the recorded allergy to Penicillin (Hives, severe)."
    ]
    qtbot.keyClick(dialog.item_list, Qt.Key.Key_Delete)
    assert dialog.editors.count() == 1  # the last item stays, to be typed over

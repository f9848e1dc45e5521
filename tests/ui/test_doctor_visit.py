"""The visit through the real widgets: the note typed field by field, saved, signed and locked,
then an addendum; an empty note cannot be signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import shiboken6
from conftest import CTRL, CTRL_SHIFT, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.clinical.clinic_setup import Consultation, three_items
from ui.doctor.prescription_dialog import PrescriptionDialog


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def open_visit(qtbot, make_main, consultation: Consultation):
    """Doctor workspace, the patient already called in: Enter on them under Today."""
    main = make_main(consultation.doctor)
    press(qtbot, Qt.Key.Key_2, CTRL)
    workspace = main.pages["doctor"]
    day = workspace.day
    qtbot.waitUntil(lambda: day.seen_model.rowCount() == 1, timeout=5000)
    day.seen.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    screen = workspace.visit
    qtbot.waitUntil(lambda: screen.visit is not None, timeout=5000)
    assert workspace.stack.currentWidget() is screen
    qtbot.waitUntil(screen.fields["complaint"].hasFocus, timeout=3000)
    return screen


def sign(qtbot, screen) -> None:
    press(qtbot, Qt.Key.Key_Return, CTRL_SHIFT)
    box = screen.confirm
    assert box is not None and "sign the note" in box.text()
    [yes] = [b for b in box.buttons() if b.text() == "Sign and finish"]
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)


def test_write_sign_then_only_an_addendum(qtbot, make_main, consultation, tasks):
    doctor, visit_id = consultation.doctor, consultation.visit.id
    screen = open_visit(qtbot, make_main, consultation)
    assert screen.banner.plain_text() == "⚠ ALLERGIES: PENICILLIN (Hives; Severe)"
    for text in (
        "Sore throat for three days",
        "Red tonsils, no exudate",
        "Acute pharyngitis",
        "Fluids, paracetamol; back if worse",
    ):
        qtbot.keyClicks(QApplication.focusWidget(), text)
        press(qtbot, Qt.Key.Key_Tab)  # the next field; leaving a changed field saves it
    assert not screen.fields["plan"].hasFocus()
    wait_idle(qtbot, tasks)
    saved = doctor.visits.get(doctor.actor, visit_id).note
    assert (saved.complaint, saved.plan) == (
        "Sore throat for three days",
        "Fluids, paracetamol; back if worse",
    )

    screen.fields["diagnosis"].setFocus()
    press(qtbot, Qt.Key.Key_End)
    qtbot.keyClicks(screen.fields["diagnosis"], ", viral")
    press(qtbot, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: screen.save_state.text().startswith("Saved at"), timeout=5000)
    assert doctor.visits.get(doctor.actor, visit_id).note.diagnosis == "Acute pharyngitis, viral"

    sign(qtbot, screen)
    qtbot.waitUntil(lambda: screen.visit.locked, timeout=5000)
    assert screen.signed.text().startswith("Signed by Dr Maya Hale at ")
    assert all(edit.isReadOnly() for edit in screen.fields.values())
    assert not screen.save_button.isVisible() and not screen.finish_button.isVisible()
    screen.fields["complaint"].setFocus()
    qtbot.keyClicks(screen.fields["complaint"], "changed")
    press(qtbot, Qt.Key.Key_S, CTRL)
    wait_idle(qtbot, tasks)
    stored = doctor.visits.get(doctor.actor, visit_id)
    assert stored.note.complaint == "Sore throat for three days"
    assert screen.fields["complaint"].toPlainText() == "Sore throat for three days"
    [entry] = doctor.queue.board(doctor.actor)
    assert entry.status == "done"

    qtbot.mouseClick(screen.addendum_button, Qt.MouseButton.LeftButton)
    dialog = screen.addendum_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.error_text("addendum") != "", timeout=5000)
    assert dialog.form.error_text("addendum") == "Addendum is empty"
    qtbot.keyClicks(dialog.text, "Throat swab sent")
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(screen.addenda.isVisible, timeout=5000)
    assert "Dr Maya Hale" in screen.addenda.text() and "Throat swab sent" in screen.addenda.text()
    [addendum] = doctor.visits.get(doctor.actor, visit_id).addenda
    assert (addendum.author, addendum.text) == ("Dr Maya Hale", "Throat swab sent")


def test_an_empty_note_is_not_signed(qtbot, make_main, consultation, tasks):
    doctor = consultation.doctor
    screen = open_visit(qtbot, make_main, consultation)
    sign(qtbot, screen)
    qtbot.waitUntil(lambda: screen.form.error_text("complaint") != "", timeout=5000)
    assert screen.form.error_text("complaint") == (
        "The note is empty; write at least the complaint or diagnosis"
    )
    assert not doctor.visits.get(doctor.actor, consultation.visit.id).locked
    assert screen.finish_button.isEnabled()


def test_new_prescription_opens_for_this_visit_and_the_list_follows(
    qtbot, make_main, consultation, tasks
):
    doctor = consultation.doctor
    screen = open_visit(qtbot, make_main, consultation)
    assert screen.prescriptions_empty.isVisible() and not screen.print_button.isEnabled()
    press(qtbot, Qt.Key.Key_R, CTRL)
    dialog = screen.prescription_dialog
    assert isinstance(dialog, PrescriptionDialog) and dialog.visit == screen.visit
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    view = doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items()[:1])
    dialog.submitted.emit(view)  # what the dialog says once it has signed and stored one
    qtbot.waitUntil(lambda: screen.prescriptions_model.rowCount() == 1, timeout=5000)
    assert screen.prescriptions_model.cells(screen.prescriptions_model.row(0))[:2] == (
        view.reference_grouped,
        "Ibuprofen 400 mg",
    )
    assert screen.print_button.isEnabled() and screen.pdf_button.isEnabled()
    dialog.reject()
    wait_idle(qtbot, tasks)


def test_the_visit_shows_active_conditions_and_the_last_vitals(qtbot, make_main, consultation):
    doctor, patient_id = consultation.doctor, consultation.patient_id
    add = doctor.chart.add
    add(doctor.actor, patient_id, "conditions", {"name": "Asthma", "status": "active"})
    add(doctor.actor, patient_id, "conditions", {"name": "Tonsillitis", "status": "resolved"})
    taken = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    add(doctor.actor, patient_id, "vitals", {"systolic": 150, "diastolic": 95, "taken_at": taken})
    later = taken + timedelta(days=30)
    vitals = {"systolic": 132, "diastolic": 84, "weight": "71.5", "taken_at": later}
    add(doctor.actor, patient_id, "vitals", vitals)
    screen = open_visit(qtbot, make_main, consultation)
    assert screen.clinical.text() == ("Active: Asthma · Last vitals 01/04/2026: BP 132/84, 71.5 kg")

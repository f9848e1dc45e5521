"""A walk-in seen from start to end through the doctor's real widgets: called in from Today, the
note written, a prescription typed (its allergy warning acknowledged) and signed, printed through
the print preview, the visit signed; the chart then shows both, and the printed page's code is
verified at the pharmacy as the same prescription."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shiboken6
from conftest import CTRL, CTRL_SHIFT, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QApplication, QLabel

from clinicdesk.permissions import Role
from clinicdesk.rx.errors import PrescriptionCancelled
from clinicdesk.rx.payload import PER_DAY, Frequency
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.prescription_checks import ItemInput
from tests.clinical.clinic_setup import DOCTOR_PASSWORD, add_gp, register
from tests.pdf_pages import codes_on_pages
from ui.doctor.acknowledge_dialog import AcknowledgeDialog
from ui.doctor.prescription_dialog import PrescriptionDialog
from ui.doctor.print_prescription import PaperChoice
from ui.widgets.reason_dialog import ReasonDialog

pytestmark = pytest.mark.usefixtures("own_settings")


@pytest.fixture
def doctor(admin, tasks) -> Iterator[ClinicSession]:
    """Reception has queued a walk-in who is allergic to penicillin."""
    add_gp(admin)
    patient_id = register(admin, "Ольга", "Смирнова")
    admin.chart.add(
        admin.actor,
        patient_id,
        "allergies",
        {"substance": "Penicillin", "reaction": "Anaphylaxis", "severity": "life-threatening"},
    )
    admin.queue.add_walk_in(admin.actor, patient_id)
    session = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)
    yield session
    tasks.wait()
    session.close()


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def type_into(qtbot, widget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(widget, text)


def test_a_walk_in_from_call_to_printed_prescription(
    qtbot, make_main, doctor, staff, tasks, tmp_path
):
    session = doctor
    main = make_main(session)
    press(qtbot, Qt.Key.Key_2, CTRL)
    workspace = main.pages["doctor"]
    day = workspace.day
    qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 1, timeout=5000)

    # Call the patient in: the visit opens with the allergy in view
    press(qtbot, Qt.Key.Key_Return, CTRL)
    screen = workspace.visit
    qtbot.waitUntil(lambda: screen.visit is not None, timeout=5000)
    wait_idle(qtbot, tasks)
    assert screen.name.text() == "Ольга Смирнова"
    assert "PENICILLIN" in screen.banner.plain_text().upper()

    # The note, field by field with Tab, saved with Ctrl+S
    qtbot.waitUntil(screen.fields["complaint"].hasFocus, timeout=3000)
    for text in ("Sore throat for four days", "Tonsils red and swollen", "Tonsillitis", "Rest"):
        qtbot.keyClicks(QApplication.focusWidget(), text)
        press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_S, CTRL)
    wait_idle(qtbot, tasks)
    visit = session.visits.get(session.actor, screen.visit.id)
    assert visit.note.diagnosis == "Tonsillitis" and visit.status == "open"

    # Ctrl+R: a prescription for this visit; amoxicillin meets the penicillin allergy
    screen.fields["plan"].setFocus()
    press(qtbot, Qt.Key.Key_R, CTRL)
    dialog = screen.findChild(PrescriptionDialog)
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible(), timeout=3000)
    editor = dialog.editors.currentWidget()
    for name, text in (
        ("drug", "Amoxicillin"),
        ("strength", "500 mg"),
        ("form_", "capsule"),
        ("dose", "1 capsule"),
        ("duration", "7"),
        ("quantity", "21"),
        ("unit", "capsules"),
    ):
        widget = getattr(editor, name)
        type_into(qtbot, widget.lineEdit() if hasattr(widget, "lineEdit") else widget, text)
    qtbot.waitUntil(lambda: any("Penicillin" in t for t in dialog.warning_texts()), timeout=5000)

    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: dialog.findChild(AcknowledgeDialog) is not None, timeout=5000)
    ask = dialog.findChild(AcknowledgeDialog)
    qtbot.waitUntil(ask.isVisible)
    (reason,) = ask.reasons.values()
    type_into(qtbot, reason, "Tolerated amoxicillin in 2024; allergy record disputed")
    qtbot.keyClick(reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.prescription is not None, timeout=10_000)
    written = dialog.prescription
    assert [i.directions for i in written.items] == [
        "Take 1 capsule by mouth three times a day for 7 days."
    ]
    assert written.acknowledged[0][1] == "Tolerated amoxicillin in 2024; allergy record disputed"

    # Ctrl+P: paper, then the print preview; its Print paints onto the printer
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_P, CTRL)
    choice = dialog.findChild(PaperChoice)
    qtbot.keyClick(choice.buttons["A5"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.findChild(QPrintPreviewDialog) is not None, timeout=10_000)
    preview = dialog.findChild(QPrintPreviewDialog)
    qtbot.waitUntil(preview.isVisible)
    printer = preview.printer()
    printed = tmp_path / "printed.pdf"
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    preview.paintRequested.emit(printer)
    preview.reject()
    qtbot.waitUntil(lambda: not shiboken6.isValid(preview) and not shiboken6.isValid(choice))
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Escape)  # Close: it is signed
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main, timeout=3000)
    qtbot.waitUntil(lambda: screen.prescriptions_model.rowCount() == 1, timeout=5000)

    # Finish: the note is signed and locked
    screen.fields["plan"].setFocus()
    press(qtbot, Qt.Key.Key_Return, CTRL_SHIFT)
    [yes] = [b for b in screen.confirm.buttons() if b.text() == "Sign and finish"]
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.visit.locked, timeout=5000)
    assert screen.fields["complaint"].isReadOnly()

    # The chart shows the signed visit and the prescription
    press(qtbot, Qt.Key.Key_F3)
    chart = workspace.chart
    qtbot.waitUntil(lambda: chart.prescriptions_model.rowCount() == 1, timeout=5000)
    assert chart.visits_model.rowCount() == 1
    assert written.reference_grouped in chart.prescriptions_model.cells(
        chart.prescriptions_model.row(0)
    )

    # The paper that came out of the printer verifies at the pharmacy as this prescription
    (code,) = codes_on_pages(printed)
    pharmacist = staff(Role.PHARMACIST)
    verified = pharmacist.prescriptions.verify_code(pharmacist.actor, code)
    assert verified.content.prescription_id == written.id
    assert verified.content.patient_name == "Ольга Смирнова"
    assert verified.content.items[0].quantity == 21


def test_a_prescription_cancelled_from_the_visit_is_refused_at_the_pharmacy(
    qtbot, make_main, doctor, staff, tasks
):
    session = doctor
    visit = session.visits.call_next(session.actor)
    written = session.prescriptions.write(
        session.actor,
        visit.id,
        [ItemInput("Cetirizine", "1 tablet", "by mouth", Frequency(PER_DAY, 1), 14, 14, "tablets")],
    )
    main = make_main(session)
    press(qtbot, Qt.Key.Key_2, CTRL)
    workspace = main.pages["doctor"]
    workspace.open_visit(visit.id)
    screen = workspace.visit
    qtbot.waitUntil(lambda: screen.prescriptions_model.rowCount() == 1, timeout=5000)
    assert screen.cancel_rx_button.isEnabled()

    qtbot.mouseClick(screen.cancel_rx_button, Qt.MouseButton.LeftButton)
    ask = screen.findChild(ReasonDialog)
    qtbot.waitUntil(ask.isVisible)
    assert any(written.reference_grouped in label.text() for label in ask.findChildren(QLabel))
    qtbot.keyClick(ask.reason, Qt.Key.Key_Return)  # no reason yet: asked for one, nothing done
    assert ask.form.error_text("reason") == "Type why first: the reason is kept."
    qtbot.keyClicks(ask.reason, "Wrong patient: written in the wrong chart")
    qtbot.keyClick(ask.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.prescriptions_model.row(0).status == "cancelled", timeout=5000)
    wait_idle(qtbot, tasks)
    assert not screen.cancel_rx_button.isEnabled()

    pharmacist = staff(Role.PHARMACIST)
    with pytest.raises(PrescriptionCancelled) as refused:
        pharmacist.prescriptions.verify_code(pharmacist.actor, written.code)
    assert "Wrong patient: written in the wrong chart" in refused.value.message
    assert session.prescriptions.dose_times(session.actor, written.id) == []

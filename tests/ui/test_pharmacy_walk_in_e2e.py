"""One walk-in from the front desk to the pharmacy counter, through the real widgets only.

Reception registers the patient and queues them; the doctor calls them in, prescribes and
prints through the print preview; the pharmacist opens the printed page as a scanned picture,
dispenses part of the item, scans it again and dispenses the rest; a third scan is refused
with when and by whom it was dispensed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6
from conftest import CTRL, gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QApplication, QFileDialog

from clinicdesk.permissions import Role
from clinicdesk.services.access import sign_in
from tests.clinical.clinic_setup import DOCTOR_PASSWORD, add_gp
from tests.pdf_pages import page_images
from tests.pharmacy.pharmacy_setup import stock_shelf
from ui.doctor.prescription_dialog import PrescriptionDialog
from ui.doctor.print_prescription import PaperChoice

ENTER = Qt.Key.Key_Return


pytestmark = pytest.mark.usefixtures("own_settings")


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    qtbot.keyClick(widget, key, modifier)


def type_text(widget, text: str) -> None:
    """Typed as a Greek keyboard would: one key event per character (QTest only knows ASCII)."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def reception_registers_and_queues(qtbot, make_main, receptionist, tasks) -> None:
    main = make_main(receptionist)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_F4)
    qtbot.keyClick(main, Qt.Key.Key_W, CTRL)
    qtbot.waitUntil(lambda: desk.walk_in_dialog is not None, timeout=3000)
    walk_in = desk.walk_in_dialog
    qtbot.waitUntil(walk_in.isActiveWindow, timeout=3000)
    press(qtbot, Qt.Key.Key_N, CTRL)
    register = walk_in.register_dialog
    qtbot.waitUntil(lambda: register is not None and register.isActiveWindow(), timeout=3000)
    for field, text in (
        ("given_name", "Αλεξάνδρα"),
        ("family_name", "Οικονόμου"),
        ("date_of_birth", "17/09/1986"),
        ("phone", "0161 496 0555"),
    ):
        type_text(getattr(register, field), text)
    register.sex.setCurrentIndex(register.sex.findData("female"))
    qtbot.keyClick(register.phone, ENTER)
    qtbot.waitUntil(lambda: gone(register), timeout=5000)
    qtbot.waitUntil(walk_in.isActiveWindow, timeout=3000)
    press(qtbot, ENTER)
    qtbot.waitUntil(lambda: gone(walk_in), timeout=5000)
    qtbot.waitUntil(lambda: desk.queue.waiting_model.rowCount() == 1, timeout=5000)
    wait_idle(qtbot, tasks)
    main.hide()


def doctor_prescribes_and_prints(qtbot, make_main, doctor, tasks, printed: Path) -> str:
    """Returns the reference number of the prescription that went to the printer."""
    main = make_main(doctor)
    press(qtbot, Qt.Key.Key_2, CTRL)
    workspace = main.pages["doctor"]
    qtbot.waitUntil(lambda: workspace.day.waiting_model.rowCount() == 1, timeout=5000)
    press(qtbot, ENTER, CTRL)  # call the next patient in
    screen = workspace.visit
    qtbot.waitUntil(lambda: screen.visit is not None, timeout=5000)
    wait_idle(qtbot, tasks)
    assert screen.name.text() == "Αλεξάνδρα Οικονόμου"

    screen.fields["plan"].setFocus()
    press(qtbot, Qt.Key.Key_R, CTRL)
    dialog = screen.findChild(PrescriptionDialog)
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible(), timeout=3000)
    dialog.activateWindow()  # a window manager does this; the offscreen screen has none
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    editor = dialog.editors.currentWidget()
    for name, text in (
        ("drug", "Ibuprofen"),
        ("strength", "400 mg"),
        ("form_", "tablet"),
        ("dose", "1 tablet"),
        ("duration", "5"),
        ("quantity", "15"),
        ("unit", "tablets"),
    ):
        widget = getattr(editor, name)
        field = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
        field.setFocus()
        qtbot.keyClick(field, Qt.Key.Key_A, CTRL)
        qtbot.keyClicks(field, text)
    wait_idle(qtbot, tasks)  # the allergy and duplicate check as typed
    qtbot.keyClick(dialog.focusWidget(), ENTER, CTRL)  # sign
    qtbot.waitUntil(lambda: dialog.prescription is not None, timeout=10_000)
    written = dialog.prescription

    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=3000)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_P, CTRL)
    choice = dialog.findChild(PaperChoice)
    qtbot.keyClick(choice.buttons["A5"], ENTER)
    qtbot.waitUntil(lambda: dialog.findChild(QPrintPreviewDialog) is not None, timeout=10_000)
    preview = dialog.findChild(QPrintPreviewDialog)
    qtbot.waitUntil(preview.isVisible)
    printer = preview.printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    preview.paintRequested.emit(printer)  # what the preview's Print button does
    preview.reject()
    qtbot.waitUntil(lambda: not shiboken6.isValid(preview), timeout=5000)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Escape)
    wait_idle(qtbot, tasks)
    main.hide()
    return written.reference


def scanned_page(printed: Path, folder: Path) -> Path:
    """The printed sheet put through the pharmacy's document scanner at 300 dpi."""
    page = folder / "scan.png"
    page_images(printed, dpi=300, grey=True)[0].save(page)
    return page


def test_a_walk_in_from_reception_to_the_pharmacy_counter(
    qtbot, make_main, admin, staff, tasks, tmp_path, monkeypatch
):
    add_gp(admin)
    reception_registers_and_queues(qtbot, make_main, staff(Role.RECEPTIONIST), tasks)

    doctor = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)
    printed = tmp_path / "printed.pdf"
    try:
        reference = doctor_prescribes_and_prints(qtbot, make_main, doctor, tasks, printed)
    finally:
        tasks.wait()
        doctor.close()

    pharmacist = staff(Role.PHARMACIST, username="pharmacist")
    stock_shelf(pharmacist)  # ibuprofen 400 mg: IBU-SOON (10, first to expire), IBU-LATE (100)
    main = make_main(pharmacist)
    workspace = main.show_workspace("pharmacy")
    counter = workspace.counter
    page = scanned_page(printed, tmp_path)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *_args: (str(page), ""))
    )

    def scan_the_page() -> str:
        with qtbot.waitSignal(counter.verdictShown, timeout=15_000):
            press(qtbot, Qt.Key.Key_O, CTRL)
        return counter.verdict_view.banner.accessibleName()

    def dispense(quantity: int | None) -> None:
        press(qtbot, Qt.Key.Key_D, CTRL)
        qtbot.waitUntil(
            lambda: counter.dialog is not None and counter.dialog.isVisible(), timeout=5000
        )
        row = counter.dialog.rows[0]
        qtbot.waitUntil(lambda: QApplication.focusWidget() is row.quantity, timeout=3000)
        if quantity is not None:
            qtbot.keyClick(row.quantity, Qt.Key.Key_A, CTRL)
            qtbot.keyClicks(row.quantity, str(quantity))
        with qtbot.waitSignal(counter.verdictShown, timeout=10_000):
            press(qtbot, ENTER)
        wait_idle(qtbot, tasks)

    def remaining_on_screen() -> str:
        items = counter.verdict_view.items
        return items.cells(items.rows[0])[-1]

    # first visit to the counter: genuine; 10 of the 15 tablets given from the batch that
    # expires first
    qtbot.waitUntil(counter.reference.edit.hasFocus, timeout=3000)
    banner = scan_the_page()
    assert banner.startswith("Genuine — may be dispensed"), banner
    assert counter.verdict_view.verdict.content.reference == reference
    assert counter.verdict_view.verdict.content.patient_name == "Αλεξάνδρα Οικονόμου"
    code = counter.verdict_view.verdict.code
    dispense(10)
    assert remaining_on_screen() == "5 tablets"
    first = pharmacist.pharmacy.history(pharmacist.actor)
    assert [(r.quantity, r.batch_number) for r in first] == [(10, "IBU-SOON")]

    # the patient comes back: the same page, scanned again, shows what remains; the rest given
    press(qtbot, Qt.Key.Key_Escape)
    banner = scan_the_page()
    assert banner.startswith("Genuine — may be dispensed"), banner
    assert remaining_on_screen() == "5 tablets"
    assert counter.dispense_button.isVisible()
    dispense(None)  # the suggested quantity is what remains: 5, from IBU-LATE now
    assert remaining_on_screen() == "none"
    rows = pharmacist.pharmacy.history(pharmacist.actor)
    assert sorted((r.quantity, r.batch_number) for r in rows) == [(5, "IBU-LATE"), (10, "IBU-SOON")]

    # a third scan of the same paper is refused, saying when and by whom
    press(qtbot, Qt.Key.Key_Escape)
    banner = scan_the_page()
    assert banner.startswith("Do not dispense. This prescription was dispensed in full on "), banner
    assert "by Pharmacist" in banner
    assert not counter.dispense_button.isVisible()
    verdict = pharmacist.pharmacy.verdict(pharmacist.actor, code)
    assert [(i.allowed, i.dispensed) for i in verdict.items] == [(15, 15)]
    assert verdict.scans == 2  # the refused third scan is kept apart, as a refusal
    rx = pharmacist.prescriptions.find_by_reference(pharmacist.actor, reference)
    assert rx.status == "dispensed"

"""The pharmacy counter through its real widgets: a prescription opened as a picture, pasted,
forged, typed by its reference number, or already dispensed; the verdict says what to do."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QFileDialog

from clinicdesk.rx import reference
from clinicdesk.services.pharmacy_views import DispenseInput
from tests.pharmacy.pharmacy_setup import (
    Counter,
    encoded,
    page_picture,
    remaining,
    shelf,
)
from ui.main_window import MainWindow
from ui.pharmacy.workspace import PharmacyWorkspace

pytestmark = pytest.mark.usefixtures("own_settings")


def pharmacy(qtbot, make_main, counter: Counter) -> tuple[MainWindow, PharmacyWorkspace]:
    """The pharmacist's main window: it opens at the counter, ready for the first scan."""
    main = make_main(counter.pharmacist)
    workspace = main.stack.currentWidget()
    assert isinstance(workspace, PharmacyWorkspace)
    qtbot.waitUntil(workspace.counter.reference.edit.hasFocus, timeout=3000)
    return main, workspace


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def shown(qtbot, workspace: PharmacyWorkspace, act) -> str:
    """Do ``act`` and wait for the verdict on screen; its banner as plain words."""
    with qtbot.waitSignal(workspace.counter.verdictShown, timeout=15_000):
        act()
    return workspace.counter.verdict_view.banner.accessibleName()


def picture_of(counter: Counter, folder: Path) -> Path:
    """The printed prescription, as a scanned PNG."""
    doctor = counter.doctor
    path = folder / "prescription.png"
    pdf = doctor.prescriptions.pdf(doctor.actor, counter.rx.id, "A5")
    path.write_bytes(encoded(page_picture(pdf, 200), "PNG"))
    return path


def choose_file(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *_args: (str(path), ""))
    )


def clock(step: float):
    """A clock for the scanner catcher that moves ``step`` seconds each time it is read: a
    second for a person typing, a few milliseconds for a scanner."""
    return itertools.count(0.0, step).__next__


def changed_digit(code: str, at: int) -> str:
    return code[:at] + str((int(code[at]) + 1) % 10) + code[at:][1:]


def test_a_picture_of_the_prescription_is_genuine(
    qtbot, make_main, counter, tasks, tmp_path, monkeypatch
):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    choose_file(monkeypatch, picture_of(counter, tmp_path))
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_O, CTRL))
    view = workspace.counter.verdict_view
    assert banner.startswith("Genuine — may be dispensed")
    assert "Signed by this clinic" in banner
    assert view.fields["reference"].text() == f"<b>{reference.grouped(counter.rx.reference)}</b>"
    assert view.fields["scans"].text() == "Scanned once"
    assert view.items.rowCount() == 3
    assert view.items.cells(view.items.rows[0])[1] == "Ibuprofen 400 mg tablet"
    assert workspace.counter.dispense_button.isVisible()
    assert f"<b>{counter.rx.patient_name}</b>, born " in view.fields["patient"].text()


def test_a_pasted_picture_of_the_prescription_is_genuine(
    qtbot, make_main, counter, tasks, tmp_path
):
    """A page copied from a scanner's or a phone's app: read off the screen's thread."""
    _main, workspace = pharmacy(qtbot, make_main, counter)
    QApplication.clipboard().setImage(QImage(str(picture_of(counter, tmp_path))))
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    assert banner.startswith("Genuine — may be dispensed")
    assert workspace.counter.verdict_view.history.rows[0].method_label == "Picture or PDF"


def test_a_pasted_code_is_genuine_and_recorded_as_pasted(qtbot, make_main, counter, tasks):
    """A code's text copied from an e-mail or another program is not a scan of the paper."""
    _main, workspace = pharmacy(qtbot, make_main, counter)
    view = workspace.counter.verdict_view
    assert view.waiting.isVisible()  # the idle counter says a scan needs no click
    QApplication.clipboard().setText(counter.rx.code)
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    assert banner.startswith("Genuine — may be dispensed")
    assert view.history.rows[0].method_label == "Pasted text"
    assert not view.waiting.isVisible()
    press(qtbot, Qt.Key.Key_Escape)  # the next patient
    assert view.waiting.isVisible() and not view.banner.isVisible()


def test_a_picture_without_a_code_is_refused_and_nothing_given(
    qtbot, make_main, counter, tasks, tmp_path, monkeypatch
):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (800, 600), "white").save(blank)
    before = shelf(counter)
    choose_file(monkeypatch, blank)
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_O, CTRL))
    assert banner.startswith("Do not dispense. No prescription code was found")
    assert not workspace.counter.dispense_button.isVisible()
    assert not workspace.counter.verdict_view.items_table.isVisible()
    wait_idle(qtbot, tasks)
    assert shelf(counter) == before


def test_a_forged_code_is_refused_in_words(qtbot, make_main, counter, tasks):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    QApplication.clipboard().setText(changed_digit(counter.rx.code, 200))
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    assert banner.startswith("Do not dispense.")
    assert "altered" in banner  # the signature does not match, or the code is damaged
    assert not workspace.counter.dispense_button.isVisible()
    assert workspace.counter.verdict_view.verdict is None


def test_the_reference_typed_with_a_typo_then_right(qtbot, make_main, counter, tasks):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    workspace.wedge.clock = clock(1.0)  # typed by hand
    field = workspace.counter.reference
    right = counter.rx.reference
    typo = right[:5] + str((int(right[5]) + 1) % 10) + right[6:]
    qtbot.keyClicks(field.edit, typo[:7])
    qtbot.waitUntil(lambda: field.edit.text() == f"{typo[:4]} {typo[4:7]}", timeout=3000)
    assert field.state.text() == "7 of 12 digits"
    qtbot.keyClicks(field.edit, typo[7:])
    press(qtbot, Qt.Key.Key_Return)
    assert field.digits == typo
    assert field.state.text() == "Check digits do not match: a digit is wrong — check each one"
    wait_idle(qtbot, tasks)
    assert not workspace.counter.verdict_view.banner.isVisible()  # nothing asked, nothing shown

    field.edit.selectAll()
    qtbot.keyClicks(field.edit, right)
    qtbot.waitUntil(lambda: field.digits == right, timeout=3000)
    assert field.state.text() == "✓ Valid reference: press Enter"
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_Return))
    assert banner.startswith("Genuine — may be dispensed")

    press(qtbot, Qt.Key.Key_Escape)  # the next patient
    assert not workspace.counter.verdict_view.banner.isVisible()
    assert field.edit.text() == ""


def test_a_prescription_dispensed_in_full_says_when_and_by_whom(qtbot, make_main, counter, tasks):
    ph = counter.pharmacist
    b = counter.batches
    ph.pharmacy.dispense(
        ph.actor,
        counter.rx.code,
        [
            DispenseInput(1, b["ibuprofen_late"].id, 15),
            DispenseInput(2, b["omeprazole"].id, 28),
            DispenseInput(3, b["salbutamol"].id, 2),
        ],
    )
    _main, workspace = pharmacy(qtbot, make_main, counter)
    QApplication.clipboard().setText(counter.rx.code)
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    assert banner.startswith("Do not dispense. This prescription was dispensed in full on ")
    assert "by Priya Shah" in banner
    view = workspace.counter.verdict_view
    assert view.items_table.isVisible()
    assert [view.items.cells(r)[5] for r in view.items.rows] == ["none"] * 3
    assert not workspace.counter.dispense_button.isVisible()
    assert remaining(counter) == (0, 0, 0)
    assert ph.pharmacy.history(ph.actor)[0].by == "Priya Shah"


def test_f2_to_f4_switch_the_pharmacy_views(qtbot, make_main, counter, tasks):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    for key, view in (
        (Qt.Key.Key_F3, workspace.stock),
        (Qt.Key.Key_F4, workspace.history),
        (Qt.Key.Key_F2, workspace.counter),
    ):
        press(qtbot, key)
        assert workspace.stack.currentWidget() is view
    qtbot.waitUntil(workspace.counter.reference.edit.hasFocus, timeout=3000)


def test_a_pdf_dropped_on_the_counter_is_read(qtbot, make_main, counter, tasks, tmp_path):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    doctor = counter.doctor
    pdf = tmp_path / "prescription.pdf"
    pdf.write_bytes(doctor.prescriptions.pdf(doctor.actor, counter.rx.id, "A4"))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pdf))])
    target = workspace.counter
    at = QPointF(target.width() / 2, target.height() / 2)
    copy = Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at.toPoint(), copy, mime, buttons, keys)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QDropEvent(at, copy, mime, buttons, keys)
    banner = shown(qtbot, workspace, lambda: QApplication.sendEvent(target, drop))
    assert banner.startswith("Genuine — may be dispensed")
    assert workspace.counter.verdict_view.history.rows[0].method_label == "Picture or PDF"

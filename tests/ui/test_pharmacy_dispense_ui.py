"""Dispensing at the counter by keyboard: part of an item, the verdict updated, a refusal shown
next to its item with nothing changed, and the labels and receipt on their own paper."""

from __future__ import annotations

import threading

import pytest
from conftest import CTRL, SHIFT, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtGui import QPageLayout
from PySide6.QtPrintSupport import QPrintPreviewDialog
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit
from test_pharmacy_counter import clock, pharmacy, press, shown

from clinicdesk.services.pharmacy_views import DispenseInput
from tests.pdf_pages import page_sizes_mm
from tests.pharmacy.pharmacy_setup import remaining, shelf
from ui.pharmacy.dispense_dialog import DispenseDialog
from ui.widgets.printing import PrintJob
from ui.widgets.reason_dialog import ReasonDialog

pytestmark = pytest.mark.usefixtures("own_settings")


def look_up(qtbot, workspace, digits: str) -> str:
    """The reference typed by hand and Enter: the verdict's banner."""
    workspace.wedge.clock = clock(1.0)
    field = workspace.counter.reference.edit
    qtbot.keyClicks(field, digits)
    return shown(qtbot, workspace, lambda: qtbot.keyClick(field, Qt.Key.Key_Return))


def open_dialog(qtbot, workspace) -> DispenseDialog:
    press(qtbot, Qt.Key.Key_D, CTRL)
    qtbot.waitUntil(
        lambda: workspace.counter.dialog is not None and workspace.counter.dialog.isVisible(),
        timeout=5000,
    )
    dialog = workspace.counter.dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.rows[0].quantity, timeout=3000)
    return dialog


def only_the_first_item(qtbot) -> None:
    """From the first quantity: Tab past its batch, untick the other two items with Space (an
    unticked item's quantity and batch are skipped by Tab)."""
    for key in ("Tab", "Tab", "Space", "Tab", "Space"):
        press(qtbot, getattr(Qt.Key, f"Key_{key}"))


def test_dispense_part_of_an_item_by_keyboard(
    qtbot, make_main, counter, tasks, tmp_path, monkeypatch
):
    main, workspace = pharmacy(qtbot, make_main, counter)
    assert look_up(qtbot, workspace, counter.rx.reference).startswith("Genuine")

    dialog = open_dialog(qtbot, workspace)
    first = dialog.rows[0]
    offered = [first.batch.itemData(i).batch_number for i in range(first.batch.count())]
    assert offered == ["IBU-SOON", "IBU-LATE"]  # first to expire first; the expired one never
    assert first.quantity.value() == 15  # one fill
    qtbot.keyClicks(first.quantity, "10")
    only_the_first_item(qtbot)
    assert [r.include.isChecked() for r in dialog.rows] == [True, False, False]
    assert dialog.total.text() == "Total £1.20"
    with qtbot.waitSignal(workspace.counter.verdictShown, timeout=10_000):
        press(qtbot, Qt.Key.Key_Return)
    assert remaining(counter) == (5, 28, 2)
    items = workspace.counter.verdict_view.items
    assert items.cells(items.rows[0])[4].startswith("10 · last ")
    assert items.cells(items.rows[0])[5] == "5 tablets"
    assert shelf(counter).on_hand["IBU-SOON"] == 0
    # the printing actions take the refusal's place, and the counter still fits a 1280 px screen
    assert workspace.counter.labels_button.isVisible()
    assert not workspace.counter.reject_button.isVisible()
    assert main.minimumSizeHint().width() <= 1280, main.minimumSizeHint()

    # labels on 80 x 50 mm, one per item given; the receipt saved as an 80 mm wide PDF
    press(qtbot, Qt.Key.Key_L, CTRL | SHIFT)
    qtbot.waitUntil(lambda: workspace.counter.findChild(PrintJob) is not None, timeout=3000)
    job = workspace.counter.findChild(PrintJob)
    qtbot.waitUntil(lambda: job.preview is not None and job.preview.isVisible(), timeout=10_000)
    paper = job.printer.pageLayout().fullRect(QPageLayout.Unit.Millimeter)
    assert (round(paper.width()), round(paper.height()), len(job.pages)) == (80, 50, 1)
    assert isinstance(job.preview, QPrintPreviewDialog)
    job.preview.reject()
    # the keyboard is back at the counter: its keys and the scanner work without a click
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main, timeout=3000)

    target = tmp_path / "receipt.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a: (str(target), "Receipt (*.pdf)"))
    )
    workspace.counter.save_receipt_action.trigger()
    qtbot.waitUntil(target.exists, timeout=10_000)
    wait_idle(qtbot, tasks)
    assert page_sizes_mm(target)[0][0] == 80


def test_more_than_remains_is_refused_next_to_the_item(qtbot, make_main, counter, tasks):
    ph, batches = counter.pharmacist, counter.batches
    late = batches["ibuprofen_late"].id
    ph.pharmacy.dispense(ph.actor, counter.rx.code, [DispenseInput(1, late, 10)])
    _main, workspace = pharmacy(qtbot, make_main, counter)
    look_up(qtbot, workspace, counter.rx.reference)
    dialog = open_dialog(qtbot, workspace)
    first = dialog.rows[0]
    assert first.quantity.value() == 5  # what remains

    # another counter gives 3 of them meanwhile
    ph.pharmacy.dispense(ph.actor, counter.rx.code, [DispenseInput(1, late, 3)])
    before = shelf(counter)
    only_the_first_item(qtbot)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(first.error.isVisible, timeout=10_000)
    wait_idle(qtbot, tasks)
    assert first.error.text().startswith(
        "1. Ibuprofen 400 mg tablet: only 2 tablets of Ibuprofen 400 mg tablet remain"
    )
    assert dialog.isVisible() and first.quantity.value() == 5  # nothing cleared
    assert shelf(counter) == before
    assert remaining(counter) == (2, 28, 2)

    # none at all is not a dispense either
    first.quantity.setFocus()
    first.quantity.selectAll()
    qtbot.keyClicks(first.quantity, "0")
    press(qtbot, Qt.Key.Key_Return)
    assert first.error.text() == "1. Ibuprofen 400 mg tablet: give at least 1, or untick the item"
    assert shelf(counter) == before


def test_an_item_with_nothing_on_the_shelf_starts_unticked(qtbot, make_main, counter, tasks):
    """The omeprazole ran out: the rest is dispensed with one Enter, the omeprazole stays owed."""
    ph = counter.pharmacist
    omeprazole = counter.batches["omeprazole"]
    ph.inventory.adjust(ph.actor, omeprazole.id, -omeprazole.on_hand, "count: none left")
    _main, workspace = pharmacy(qtbot, make_main, counter)
    look_up(qtbot, workspace, counter.rx.reference)
    dialog = open_dialog(qtbot, workspace)
    second = dialog.rows[1]
    assert not second.include.isChecked() and not second.quantity.isEnabled()
    assert second.batch.currentText() == "None in stock"
    assert [r.include.isChecked() for r in dialog.rows] == [True, False, True]
    qtbot.keyClicks(dialog.rows[0].quantity, "10")  # what the first batch holds
    with qtbot.waitSignal(workspace.counter.verdictShown, timeout=10_000):
        press(qtbot, Qt.Key.Key_Return)
    assert remaining(counter) == (5, 28, 1)


def test_with_nothing_on_the_shelf_the_dialog_says_so(qtbot, make_main, counter, tasks):
    ph = counter.pharmacist
    for batch in counter.batches.values():
        if batch.on_hand and not batch.expired:
            ph.inventory.adjust(ph.actor, batch.id, -batch.on_hand, "count: none left")
    _main, workspace = pharmacy(qtbot, make_main, counter)
    look_up(qtbot, workspace, counter.rx.reference)
    press(qtbot, Qt.Key.Key_D, CTRL)
    qtbot.waitUntil(lambda: workspace.counter.dialog is not None, timeout=5000)
    dialog = workspace.counter.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert not any(r.include.isChecked() for r in dialog.rows)
    dialog.save.click()
    assert dialog.message.text().startswith("Nothing on this prescription is on the shelf.")
    assert remaining(counter) == (15, 28, 2)


def asked_why(qtbot, workspace) -> ReasonDialog:
    workspace.counter.reject_button.click()
    qtbot.waitUntil(lambda: workspace.counter.findChild(ReasonDialog) is not None, timeout=3000)
    asked = workspace.counter.findChild(ReasonDialog)
    qtbot.waitUntil(asked.isVisible, timeout=3000)
    return asked


def test_not_dispensed_with_a_reason(qtbot, make_main, counter, tasks):
    main, workspace = pharmacy(qtbot, make_main, counter)
    look_up(qtbot, workspace, counter.rx.reference)
    before = shelf(counter)

    # asked why, then thought better of it: the keyboard is back at the counter
    asked = asked_why(qtbot, workspace)
    asked.activateWindow()  # as a window manager would
    qtbot.waitUntil(lambda: QApplication.activeWindow() is asked, timeout=3000)
    qtbot.keyClick(asked.findChild(QLineEdit), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main, timeout=3000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=3000)
    assert workspace.counter.isAncestorOf(QApplication.focusWidget())
    assert workspace.counter.verdict_view.banner.isVisible()

    asked = asked_why(qtbot, workspace)
    qtbot.keyClicks(asked.findChild(QLineEdit), "Patient already takes ibuprofen at home")
    qtbot.keyClick(asked.findChild(QLineEdit), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not workspace.counter.verdict_view.banner.isVisible(), timeout=5000)
    wait_idle(qtbot, tasks)
    ph = counter.pharmacist
    last = ph.pharmacy.verdict(ph.actor, counter.rx.code).history[0]
    assert (last.label, last.detail) == ("Not dispensed", "Patient already takes ibuprofen at home")
    assert shelf(counter) == before


class Held:
    """A real service call that waits on a worker until the test lets it go: a slow answer,
    arriving after the pharmacist has done something else."""

    def __init__(self, monkeypatch, service, name: str) -> None:
        self.gate = threading.Event()
        self.calls = 0
        real = getattr(service, name)

        def held(*args, **kwargs):
            self.calls += 1
            self.gate.wait(30)
            return real(*args, **kwargs)

        monkeypatch.setattr(service, name, held)

    def release(self) -> None:
        self.gate.set()


def ten_of_the_first_item(qtbot, workspace) -> DispenseDialog:
    dialog = open_dialog(qtbot, workspace)
    qtbot.keyClicks(dialog.rows[0].quantity, "10")
    only_the_first_item(qtbot)
    return dialog


def test_esc_while_the_dispense_is_recorded_keeps_it_on_the_counter(
    qtbot, make_main, counter, tasks, monkeypatch
):
    main, workspace = pharmacy(qtbot, make_main, counter)
    look_up(qtbot, workspace, counter.rx.reference)
    recording = Held(monkeypatch, main.ctx.session.pharmacy, "dispense")
    dialog = ten_of_the_first_item(qtbot, workspace)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: recording.calls == 1, timeout=3000)
    press(qtbot, Qt.Key.Key_Escape)  # impatient: the dialog stays until the answer is in
    assert dialog.isVisible() and not dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(workspace.counter.verdictShown, timeout=10_000):
        recording.release()
    assert remaining(counter) == (5, 28, 2)
    assert workspace.counter.labels_button.isVisible()  # its labels can be printed
    items = workspace.counter.verdict_view.items
    assert items.cells(items.rows[0])[5] == "5 tablets"


def test_a_new_scan_is_not_replaced_by_the_last_dispense_read_late(
    qtbot, make_main, counter, tasks, monkeypatch
):
    main, workspace = pharmacy(qtbot, make_main, counter)
    look_up(qtbot, workspace, counter.rx.reference)
    reading = Held(monkeypatch, main.ctx.session.pharmacy, "verdict")
    ten_of_the_first_item(qtbot, workspace)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reading.calls == 1, timeout=10_000)  # what remains, read slowly
    qtbot.waitUntil(lambda: workspace.counter.dialog is None, timeout=3000)

    # the next patient's paper is a forgery
    forged = counter.rx.code[:200] + str((int(counter.rx.code[200]) + 1) % 10)
    QApplication.clipboard().setText(forged + counter.rx.code[201:])
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    assert banner.startswith("Do not dispense.")
    reading.release()
    wait_idle(qtbot, tasks, timeout=10_000)
    assert workspace.counter.verdict_view.banner.accessibleName() == banner  # still the forgery
    assert not workspace.counter.dispense_button.isVisible()
    assert not workspace.counter.labels_button.isVisible()  # no labels of the last patient
    assert remaining(counter) == (5, 28, 2)

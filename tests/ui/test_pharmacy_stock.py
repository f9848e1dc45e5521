"""The stock screen through its real widgets: alerts, receiving by keyboard, refusals shown at
their fields with nothing changed, adjustments, reorder levels and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import shiboken6
from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog

from clinicdesk.permissions import Role
from clinicdesk.services.inventory import BatchInput
from tests.pharmacy.pharmacy_setup import Counter, drug_id
from ui.context import AppContext
from ui.frontdesk.patient_dialog import PatientDialog
from ui.pharmacy.batch_dialogs import AdjustDialog, MovementsDialog
from ui.pharmacy.receive_dialog import ReceiveDialog
from ui.pharmacy.stock_models import EXPIRED, LOW
from ui.pharmacy.stock_view import StockView


@pytest.fixture
def view(qtbot, counter, tasks) -> StockView:
    session = counter.pharmacist
    stock = StockView(AppContext(session, tasks, session.clinic.details()))
    stock.resize(1100, 700)
    stock.show()
    qtbot.waitExposed(stock)
    stock.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is stock, timeout=2000)
    stock.refresh()
    wait_idle(qtbot, tasks)
    return stock


def shown_drugs(view: StockView) -> list[str]:
    return [line.drug_name for line in view.model.rows]


def shown_batches(view: StockView) -> list[str]:
    return [b.batch_number for b in view.batch_model.rows]


def select_drug(qtbot, view: StockView, tasks, name: str) -> None:
    view.search.setFocus()
    view.search.clear()
    qtbot.keyClicks(view.search, name)
    assert shown_drugs(view)[0] == name
    wait_idle(qtbot, tasks)


def batches_on_record(counter: Counter, name: str) -> dict[str, int]:
    ph = counter.pharmacist
    rows = ph.inventory.batches(ph.actor, drug_id(ph, name), include_empty=True)
    return {b.batch_number: b.on_hand for b in rows}


def open_receive(qtbot, view: StockView) -> ReceiveDialog:
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: isinstance(view.dialog, ReceiveDialog), timeout=2000)
    dialog = view.dialog
    qtbot.waitExposed(dialog)
    return dialog


def fill_receive(qtbot, dialog: ReceiveDialog, **typed: str) -> None:
    """Take the drug from the formulary list, then type into each field by name."""
    field = dialog.drug
    qtbot.keyClicks(field, typed.pop("drug"))
    qtbot.waitUntil(field.showing_matches, timeout=5000)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.drug is not None
    for name, text in typed.items():
        widget = dialog.form.fields[name].widget
        widget.setFocus()
        line = widget.lineEdit() if isinstance(widget, QComboBox) else widget
        line.selectAll()
        qtbot.keyClicks(line, text)


def closed(dialog) -> bool:
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


GOOD = {
    "drug": "Omepra",
    "batch_number": "OME-2",
    "expiry": "31/12/2099",  # far ahead, whatever the date
    "strength": "20 mg",
    "form": "capsule",
    "quantity": "28",
    "unit_cost": "0.10",
    "unit_price": "0,25",
    "supplier": "Phoenix",
}


def test_the_alerts_strip_counts_what_needs_doing_and_filters(qtbot, view, counter, tasks):
    ph = counter.pharmacist
    ph.inventory.set_reorder_level(ph.actor, drug_id(ph, "Salbutamol"), 5)  # 5 on hand: low
    view.refresh()
    wait_idle(qtbot, tasks)
    alerts = ph.inventory.alerts(ph.actor)
    assert (len(alerts.low_stock), len(alerts.near_expiry), len(alerts.expired)) == (1, 1, 1)
    assert view.strip.text() == (
        "1 low on stock · 1 batch expires within 90 days · 1 expired batch still on the shelf"
    )
    salbutamol = next(line for line in view.model.rows if line.drug_name == "Salbutamol")
    assert view.model.cells(salbutamol)[-1] == "LOW"
    ibuprofen = next(line for line in view.model.rows if line.drug_name == "Ibuprofen")
    assert view.model.cells(ibuprofen)[-1] == "20 expired, remove them"
    assert ibuprofen.on_hand == 110  # the expired batch does not count as usable

    qtbot.mouseClick(view.strip.links[EXPIRED], Qt.MouseButton.LeftButton)
    assert shown_drugs(view) == ["Ibuprofen"]
    wait_idle(qtbot, tasks)
    expired_row = shown_batches(view).index("IBU-OLD")
    assert view.batch_model.cells(view.batch_model.rows[expired_row])[3].endswith("· expired")
    qtbot.mouseClick(view.show_all, Qt.MouseButton.LeftButton)
    assert shown_drugs(view) == ["Ibuprofen", "Omeprazole", "Salbutamol"]  # those stocked
    view.every_drug.click()
    assert len(shown_drugs(view)) == len(ph.inventory.stock(ph.actor)) > 3


def test_a_search_under_an_alert_filter_says_what_the_filter_hides(qtbot, view, counter, tasks):
    """An empty list under a filter is not taken for a drug out of stock: the line under it
    says how many the filter hides, and Alt+D shows them again, keeping the search."""
    ph = counter.pharmacist
    ph.inventory.set_reorder_level(ph.actor, drug_id(ph, "Salbutamol"), 5)  # 5 on hand: low
    view.refresh()
    wait_idle(qtbot, tasks)
    qtbot.mouseClick(view.strip.links[LOW], Qt.MouseButton.LeftButton)
    assert shown_drugs(view) == ["Salbutamol"]
    assert view.count.text() == "1 drug shown, 2 hidden by the filter “Low on stock”."
    view.search.setFocus()
    qtbot.keyClicks(view.search, "profen")
    assert shown_drugs(view) == []
    assert view.count.text() == "0 drugs shown, 1 hidden by the filter “Low on stock”."
    assert view.show_all.isVisible()
    qtbot.keyClick(view.search, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: shown_drugs(view) == ["Ibuprofen"], timeout=2000)
    assert view.search.text() == "profen"
    assert not view.show_all.isVisible()
    assert "hidden" not in view.count.text()


def test_in_date_and_expired_units_and_two_strengths_are_never_summed(qtbot, view, counter, tasks):
    """A drug with an expired batch says how many are in date and how many to take off; two
    strengths of one drug are named each with its own count."""
    ph = counter.pharmacist
    omeprazole = drug_id(ph, "Omeprazole")
    later = view.ctx.clinic_today() + timedelta(days=300)
    batch = BatchInput(omeprazole, "OME-10", later, 28, 5, 10, strength="10 mg", form="capsule")
    ph.inventory.receive(ph.actor, batch)
    view.refresh()
    wait_idle(qtbot, tasks)
    never = len(ph.inventory.stock(ph.actor)) - 3
    assert view.count.text() == f"3 drugs listed, all in stock. Not listed: {never} never stocked."

    select_drug(qtbot, view, tasks, "Ibuprofen")
    assert view.shelf.text() == "Ibuprofen 400 mg tablets: 110 in date, 20 expired (remove them)."
    assert view.model.cells(view.selected_line())[1] == "110"
    select_drug(qtbot, view, tasks, "Omeprazole")
    assert view.shelf.text() == (
        "Omeprazole 10 mg capsules: 28 in date; Omeprazole 20 mg capsules: 56 in date."
    )
    assert view.model.cells(view.selected_line())[1] == "28 · 56"  # not 84 of one thing


def test_receiving_stock_by_keyboard_adds_the_batch(qtbot, view, counter, tasks):
    dialog = open_receive(qtbot, view)
    fill_receive(qtbot, dialog, **GOOD)
    assert dialog.strength.findText("40 mg") >= 0  # the formulary's strengths are offered
    qtbot.keyClick(dialog.supplier, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert closed(dialog)
    assert batches_on_record(counter, "Omeprazole") == {"OME-1": 56, "OME-2": 28}
    assert view.selected_line().drug_name == "Omeprazole"
    assert view.selected_line().on_hand == 84
    assert view.selected_batch().batch_number == "OME-2"
    assert view.selected_batch().unit_price == 25
    assert "OME-2" in view.message.text()


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("expiry", "01/01/2020", "Expiry date is in the past"),
        ("quantity", "0", "Quantity must be a whole number of units, 1 to 1,000,000"),
        ("unit_price", "12.345", "Unit price is not an amount"),
        ("unit_cost", "free", "Unit cost is not an amount"),
    ],
)
def test_bad_deliveries_are_refused_at_the_field(qtbot, view, counter, tasks, field, typed, says):
    before = batches_on_record(counter, "Omeprazole")
    dialog = open_receive(qtbot, view)
    fill_receive(qtbot, dialog, **{**GOOD, field: typed})
    qtbot.keyClick(dialog.supplier, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert dialog.isVisible()
    assert dialog.form.error_text(field).startswith(says)
    assert [n for n in dialog.form.fields if dialog.form.error_text(n)] == [field]
    assert batches_on_record(counter, "Omeprazole") == before


def test_a_drug_not_taken_from_the_formulary_is_refused(qtbot, view, counter, tasks):
    dialog = open_receive(qtbot, view)
    qtbot.keyClicks(dialog.drug, "Omeprazole tablets from the van")
    dialog.submit()
    assert "Choose the drug from the formulary" in dialog.form.error_text("drug_id")


def adjust(qtbot, view: StockView, tasks, change: str, reason: str) -> AdjustDialog:
    earlier = view.dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view, timeout=2000)
    view.batch_table.setFocus()
    qtbot.keyClick(view.batch_table, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: view.dialog is not earlier, timeout=2000)
    assert isinstance(view.dialog, AdjustDialog)
    dialog = view.dialog
    qtbot.keyClicks(dialog.change, change)
    dialog.reason.setFocus()
    qtbot.keyClicks(dialog.reason, reason)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    return dialog


def test_adjustments_need_a_reason_and_never_go_below_zero(qtbot, view, counter, tasks):
    select_drug(qtbot, view, tasks, "Salbutamol")
    assert shown_batches(view) == ["SAL-1"]

    dialog = adjust(qtbot, view, tasks, "-1", "")
    assert dialog.isVisible()
    assert "Say why the stock changes" in dialog.form.error_text("reason")
    dialog.reject()
    dialog = adjust(qtbot, view, tasks, "-6", "count")
    assert dialog.isVisible()
    assert dialog.form.error_text("change") == "Would leave less than nothing: batch SAL-1 holds 5"
    dialog.reject()
    assert batches_on_record(counter, "Salbutamol") == {"SAL-1": 5}

    dialog = adjust(qtbot, view, tasks, "-1", "dropped and cracked")
    assert closed(dialog)
    assert batches_on_record(counter, "Salbutamol") == {"SAL-1": 4}
    assert view.selected_batch().on_hand == 4
    ph = counter.pharmacist
    last = ph.inventory.movements(ph.actor, view.selected_batch().id)[0]
    assert (last.change, last.reason, last.by) == (-1, "dropped and cracked", "Priya Shah")


def test_the_reorder_level_marks_a_drug_low(qtbot, view, counter, tasks):
    select_drug(qtbot, view, tasks, "Omeprazole")
    qtbot.keyClick(view.table, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: view.dialog is not None and view.dialog.isVisible(), timeout=2000)
    qtbot.keyClicks(view.dialog.level, "60")
    qtbot.keyClick(view.dialog.level, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert view.selected_line().drug_name == "Omeprazole"
    assert view.model.cells(view.selected_line())[-1] == "LOW"
    assert view.strip.text().startswith("1 low on stock")


def test_the_stock_csv_holds_every_batch_on_the_shelf(
    qtbot, view, counter, tasks, tmp_path, monkeypatch
):
    target = tmp_path / "stock"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    qtbot.keyClick(view.table, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(view.message.isVisible, timeout=5000)  # a mnemonic clicks a moment later
    written = tmp_path / "stock.csv"
    assert view.message.text() == f"Saved {written}"
    rows = list(csv.DictReader(io.StringIO(written.read_text(encoding="utf-8"))))
    ph = counter.pharmacist
    assert [(r["Batch"], int(r["On hand"])) for r in rows] == [
        (b.batch_number, b.on_hand) for b in ph.inventory.batches(ph.actor)
    ]
    assert {r["Batch"]: r["Status"] for r in rows}["IBU-OLD"] == "expired"


def test_a_csv_that_cannot_be_written_says_why(qtbot, view, tasks, tmp_path):
    view.export_to(tmp_path / "unplugged drive" / "stock.csv")
    wait_idle(qtbot, tasks)
    assert "does not exist" in view.message.text()
    assert view.message.property("kind") == "banner"


def test_ctrl_n_in_stock_receives_even_for_staff_who_register_patients(
    qtbot, make_main, admin, tasks
):
    """The clinic's administrator also has the front desk's Ctrl+N (new patient) in the menu."""
    window = make_main(admin)
    workspace = window.show_workspace("pharmacy")
    qtbot.keyClick(window, Qt.Key.Key_F3)
    wait_idle(qtbot, tasks)
    stock = workspace.stock
    assert stock.isVisible() and stock.receive_button.isVisible()
    qtbot.keyClick(stock.search, Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: isinstance(stock.dialog, ReceiveDialog), timeout=2000)
    assert stock.dialog.isVisible()
    assert not window.findChildren(PatientDialog)


def test_a_batch_shows_its_movements(qtbot, view, counter, tasks):
    ph = counter.pharmacist
    ph.inventory.adjust(ph.actor, counter.batches["salbutamol"].id, -1, "cracked canister")
    select_drug(qtbot, view, tasks, "Salbutamol")
    view.batch_table.setFocus()
    qtbot.keyClick(view.batch_table, Qt.Key.Key_Return)  # Enter opens, like a double click
    qtbot.waitUntil(lambda: isinstance(view.dialog, MovementsDialog), timeout=2000)
    wait_idle(qtbot, tasks)
    cells = [view.dialog.model.cells(m)[1:] for m in view.dialog.model.rows]
    assert cells == [
        ("Adjusted", "−1", "cracked canister", "Priya Shah"),
        ("Received", "+5", "Alliance Healthcare", "Priya Shah"),
    ]


def test_without_stock_rights_nothing_can_be_changed(qtbot, staff, tasks):
    """Reception may not see the pharmacy's stock: no actions, and the reason in words."""
    session = staff(Role.RECEPTIONIST)
    stock = StockView(AppContext(session, tasks, session.clinic.details()))
    stock.show()
    stock.refresh()
    wait_idle(qtbot, tasks)
    hidden = (stock.receive_button, stock.adjust_button, stock.reorder_button)
    assert not any(button.isVisible() for button in hidden)
    assert stock.export_button.isVisible()
    assert "is not allowed to" in stock.message.text()


def test_ctrl_n_receives_stock_every_time_it_is_pressed(qtbot, make_main, admin, tasks):
    """Pressed again after the first delivery was closed, Ctrl+N still receives stock (two
    shortcuts on one key take turns in Qt: every other press did nothing)."""
    window = make_main(admin)
    workspace = window.show_workspace("pharmacy")
    qtbot.keyClick(window, Qt.Key.Key_F3)
    wait_idle(qtbot, tasks)
    stock = workspace.stock
    for _time in range(3):
        stock.search.setFocus()
        qtbot.keyClick(stock.search, Qt.Key.Key_N, CTRL)
        qtbot.waitUntil(lambda: isinstance(stock.dialog, ReceiveDialog), timeout=2000)
        dialog = stock.dialog
        assert dialog.isVisible()
        dialog.reject()
        stock.dialog = None
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    assert not window.findChildren(PatientDialog)

"""The USB scanner types the code as a fast burst of keys: caught wherever the focus is in the
pharmacy, kept out of the field that has the focus; a person typing is not affected."""

from __future__ import annotations

import pytest
from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from test_pharmacy_counter import clock, pharmacy, shown

from clinicdesk.rx import reference

pytestmark = pytest.mark.usefixtures("own_settings")

SCANNER_KEY_GAP = 0.0001  # seconds each time the catcher reads the clock: a burst never pauses


def other_field(qtbot, workspace) -> QLineEdit:
    """Some field of the pharmacy that has the focus when the scan comes (a search box, say)."""
    field = QLineEdit()
    workspace.counter.layout().addWidget(field)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=3000)
    return field


@pytest.mark.parametrize(
    ("what", "method"), [("code", "Scanner"), ("reference", "Reference number")]
)
def test_a_scan_while_typing_elsewhere_opens_the_verdict(
    qtbot, make_main, counter, tasks, what, method
):
    """The prescription's code, or the barcode of its reference number."""
    _main, workspace = pharmacy(qtbot, make_main, counter)
    workspace.wedge.clock = clock(SCANNER_KEY_GAP)
    field = other_field(qtbot, workspace)

    def scan() -> None:
        qtbot.keyClicks(field, getattr(counter.rx, what))
        qtbot.keyClick(field, Qt.Key.Key_Return)

    banner = shown(qtbot, workspace, scan)
    assert banner.startswith("Genuine — may be dispensed")
    assert field.text() == ""  # not one digit leaked into the field
    assert workspace.counter.verdict_view.history.rows[0].method_label == method


def test_a_person_typing_reaches_the_field(qtbot, make_main, counter, tasks):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    workspace.wedge.clock = clock(0.3)  # a key every 300 ms
    field = other_field(qtbot, workspace)
    qtbot.keyClicks(field, "Rx 1 Rosa 12")
    qtbot.waitUntil(lambda: field.text() == "Rx 1 Rosa 12", timeout=3000)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert not workspace.counter.verdict_view.banner.isVisible()


def test_fast_keys_that_are_no_code_are_handed_on_in_order(qtbot, make_main, counter, tasks):
    """A burst that turns out not to be a code (a short one, or letters after RX) is typed."""
    _main, workspace = pharmacy(qtbot, make_main, counter)
    workspace.wedge.clock = clock(SCANNER_KEY_GAP)
    field = other_field(qtbot, workspace)
    qtbot.keyClicks(field, "RX12")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # too short to be a prescription
    qtbot.keyClicks(field, " rxa 99")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # two digits are no reference either
    assert field.text() == "RX12 rxa 99"
    wait_idle(qtbot, tasks)
    assert not workspace.counter.verdict_view.banner.isVisible()


def test_a_packs_barcode_scanned_into_a_field_stays_there(qtbot, make_main, counter, tasks):
    """A pack's 12-digit barcode (UPC-A) is no reference number: its check digits do not
    match, so it is typed into the field the scanner was aimed at (the stock search, say)."""
    _main, workspace = pharmacy(qtbot, make_main, counter)
    workspace.wedge.clock = clock(SCANNER_KEY_GAP)
    field = other_field(qtbot, workspace)
    upc = "036000291452"
    assert not reference.is_valid(upc)
    qtbot.keyClicks(field, upc)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.text() == upc
    wait_idle(qtbot, tasks)
    assert not workspace.counter.verdict_view.banner.isVisible()

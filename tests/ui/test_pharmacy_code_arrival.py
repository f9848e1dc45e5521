"""A code pasted with the noise other programs add (a byte-order mark, a zero-width space, a
lower-case prefix, full-width digits) opens the same verdict as the printed code."""

from __future__ import annotations

import pytest
from conftest import CTRL  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication
from test_pharmacy_counter import clock, pharmacy, press, shown

from tests.pharmacy.test_code_arrival import CASES, FULL_WIDTH, variants

pytestmark = pytest.mark.usefixtures("own_settings")


@pytest.mark.parametrize("case", CASES)
def test_a_pasted_code_with_noise_is_genuine(qtbot, make_main, counter, tasks, case):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    QApplication.clipboard().setText(variants(counter.rx.code)[case])
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    assert banner.startswith("Genuine — may be dispensed")
    assert workspace.counter.verdict_view.history.rows[0].method_label == "Pasted text"


def test_a_reference_typed_in_full_width_digits_is_looked_up(qtbot, make_main, counter, tasks):
    """An East Asian input method types full-width digits: they are the same digits."""
    _main, workspace = pharmacy(qtbot, make_main, counter)
    workspace.wedge.clock = clock(1.0)  # typed by hand
    field = workspace.counter.reference
    field.edit.setFocus()
    typed = QInputMethodEvent()  # what an input method commits, as the field receives it
    typed.setCommitString(counter.rx.reference.translate(FULL_WIDTH))
    QApplication.sendEvent(field.edit, typed)
    assert field.digits == counter.rx.reference
    banner = shown(qtbot, workspace, lambda: qtbot.keyClick(field.edit, Qt.Key.Key_Return))
    assert banner.startswith("Genuine — may be dispensed")

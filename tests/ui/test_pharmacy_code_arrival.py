"""A code pasted with the noise other programs add (a byte-order mark, a zero-width space, a
lower-case prefix, full-width digits) opens the same verdict as the printed code."""

from __future__ import annotations

import pytest
from conftest import CTRL  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_pharmacy_counter import own_settings, pharmacy, press, shown

from tests.pharmacy.test_code_arrival import CASES, variants

__all__ = ["own_settings"]  # the fixture shared with the counter's tests


@pytest.mark.parametrize("case", CASES)
def test_a_pasted_code_with_noise_is_genuine(qtbot, make_main, counter, tasks, case):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    QApplication.clipboard().setText(variants(counter.rx.code)[case])
    banner = shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    assert banner.startswith("Genuine — may be dispensed")
    assert workspace.counter.verdict_view.history.rows[0].method_label == "Pasted text"

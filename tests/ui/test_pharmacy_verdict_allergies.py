"""The counter's verdict shows the patient's allergies as the chart has them now, and shows a
newly recorded one once the counter is shown again."""

from __future__ import annotations

import pytest
from conftest import CTRL  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_pharmacy_counter import pharmacy, press, shown

pytestmark = pytest.mark.usefixtures("own_settings")


def test_an_allergy_added_in_the_chart_shows_on_the_verdict(qtbot, make_main, counter, tasks):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    QApplication.clipboard().setText(counter.rx.code)
    shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_V, CTRL))
    allergies = workspace.counter.verdict_view.fields["allergies"]
    assert "Penicillin (Hives; Severe)" in allergies.text()

    admin = counter.admin
    admin.chart.add(
        admin.actor,
        counter.consultation.patient_id,
        "allergies",
        {"substance": "Ibuprofen", "reaction": "Wheezing", "severity": "life-threatening"},
    )
    press(qtbot, Qt.Key.Key_F3)  # to the stock and back to the counter
    shown(qtbot, workspace, lambda: press(qtbot, Qt.Key.Key_F2))
    assert "Ibuprofen (Wheezing; Life-threatening)" in allergies.text()
    assert workspace.counter.verdict_view.verdict.scans == 1  # a re-read is not a scan

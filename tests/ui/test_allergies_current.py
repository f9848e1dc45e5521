"""Every place that shows a patient's allergies shows the current list: an allergy added in the
Chart appears on the Visit and in the prescription dialog (before any drug is chosen), one
removed disappears from all of them, and an open prescription dialog follows a change."""

from __future__ import annotations

import pytest
from conftest import CTRL, gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.clinical.clinic_setup import Consultation
from ui.doctor.prescription_dialog import PrescriptionDialog
from ui.widgets.reason_dialog import ReasonDialog

NONE = "No known allergies recorded"
SEVERE = "⚠ ALLERGIES: AMOXICILLIN (Anaphylaxis; Severe)"


@pytest.fixture
def consultation(consultation: Consultation, admin) -> Consultation:
    """The walk-in being seen (tests/ui/conftest.py), with no allergy recorded yet."""
    for entry in admin.chart.open(admin.actor, consultation.patient_id).allergies:
        admin.chart.remove(admin.actor, "allergies", entry.id, "entered in error")
    return consultation


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=3000)
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def open_visit(qtbot, make_main, consultation: Consultation):
    main = make_main(consultation.doctor)
    press(qtbot, Qt.Key.Key_2, CTRL)
    workspace = main.pages["doctor"]
    qtbot.waitUntil(lambda: workspace.day.seen_model.rowCount() == 1, timeout=5000)
    workspace.day.seen.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: workspace.visit.visit is not None, timeout=5000)
    qtbot.waitUntil(lambda: workspace.visit.banner.plain_text() == NONE, timeout=5000)
    return workspace


def add_severe_allergy(qtbot, chart) -> None:
    panel = chart.sections["allergies"]
    chart.record_tabs.setCurrentWidget(panel)
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    qtbot.keyClicks(dialog.inputs["substance"], "Amoxicillin")
    qtbot.keyClicks(dialog.inputs["reaction"], "Anaphylaxis")
    dialog.inputs["severity"].setFocus()
    qtbot.keyClicks(dialog.inputs["severity"], "Sev")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)


def remove_the_allergy(qtbot, chart) -> None:
    panel = chart.sections["allergies"]
    chart.record_tabs.setCurrentWidget(panel)
    panel.table.setFocus()
    panel.table.selectRow(0)
    press(qtbot, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.findChild(ReasonDialog) is not None, timeout=3000)
    question = panel.findChild(ReasonDialog)
    question.reason.setText("entered in error")
    question.save.click()
    qtbot.waitUntil(lambda: gone(question), timeout=5000)
    chart.window().activateWindow()  # offscreen has no window manager to give it back


def record_severe_allergy(session, patient_id: int):
    """Amoxicillin, severe, straight through the service: SEVERE on the banners."""
    return session.chart.add(
        session.actor,
        patient_id,
        "allergies",
        {"substance": "Amoxicillin", "reaction": "Anaphylaxis", "severity": "severe"},
    )


def open_prescription(qtbot, workspace) -> PrescriptionDialog:
    press(qtbot, Qt.Key.Key_R, CTRL)
    qtbot.waitUntil(lambda: workspace.visit.prescription_dialog is not None, timeout=3000)
    dialog = workspace.visit.prescription_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    return dialog


def test_an_allergy_added_in_the_chart_shows_on_the_visit_and_prescription(
    qtbot, make_main, consultation, tasks
):
    workspace = open_visit(qtbot, make_main, consultation)
    press(qtbot, Qt.Key.Key_F3)
    chart = workspace.chart
    qtbot.waitUntil(lambda: workspace.stack.currentWidget() is chart, timeout=3000)
    add_severe_allergy(qtbot, chart)
    qtbot.waitUntil(lambda: chart.banner.plain_text() == SEVERE, timeout=5000)

    press(qtbot, Qt.Key.Key_F4)
    visit = workspace.visit
    qtbot.waitUntil(lambda: visit.banner.plain_text() == SEVERE, timeout=5000)
    assert visit.banner.property("kind") == "serious"

    dialog = open_prescription(qtbot, workspace)
    assert not any(item.drug for item in dialog.items())  # no drug chosen yet
    qtbot.waitUntil(lambda: dialog.banner.plain_text() == SEVERE, timeout=5000)
    assert dialog.banner.isVisible()
    dialog.reject()
    qtbot.waitUntil(lambda: gone(dialog), timeout=3000)

    press(qtbot, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: workspace.stack.currentWidget() is chart, timeout=3000)
    remove_the_allergy(qtbot, chart)
    qtbot.waitUntil(lambda: chart.banner.plain_text() == NONE, timeout=5000)
    press(qtbot, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: visit.banner.plain_text() == NONE, timeout=5000)
    dialog = open_prescription(qtbot, workspace)
    qtbot.waitUntil(lambda: dialog.banner.plain_text() == NONE, timeout=5000)
    dialog.reject()
    wait_idle(qtbot, tasks)


def test_an_open_visit_and_prescription_follow_a_change_made_meanwhile(
    qtbot, make_main, consultation, tasks
):
    """A change committed anywhere in the app (here straight through the service, as the
    chart's own dialog does) reaches the visit header and an open prescription dialog."""
    doctor = consultation.doctor
    workspace = open_visit(qtbot, make_main, consultation)
    visit = workspace.visit
    dialog = open_prescription(qtbot, workspace)
    qtbot.waitUntil(lambda: dialog.banner.plain_text() == NONE, timeout=5000)

    entry = record_severe_allergy(doctor, consultation.patient_id)
    qtbot.waitUntil(lambda: dialog.banner.plain_text() == SEVERE, timeout=5000)
    dialog.reject()
    qtbot.waitUntil(lambda: visit.banner.plain_text() == SEVERE, timeout=5000)

    doctor.chart.add(
        doctor.actor,
        consultation.patient_id,
        "conditions",
        {"name": "Asthma", "status": "active"},
    )
    qtbot.waitUntil(lambda: "Active: Asthma" in visit.clinical.text(), timeout=5000)
    doctor.chart.remove(doctor.actor, "allergies", entry.id, "entered in error")
    qtbot.waitUntil(lambda: visit.banner.plain_text() == NONE, timeout=5000)
    wait_idle(qtbot, tasks)


def test_a_change_made_at_another_desk_reaches_the_open_visit_and_dialog(
    qtbot, make_main, consultation, tasks
):
    """The nurse at another computer records an allergy while the doctor is in the visit: the
    desk's watch of other desks' commits tells the open screens, with no polling timer."""
    consultation.doctor.watch_other_desks()  # as the app does at sign-in
    other_desk = consultation.admin  # its own connection to the clinic, as another computer
    workspace = open_visit(qtbot, make_main, consultation)
    visit = workspace.visit

    entry = record_severe_allergy(other_desk, consultation.patient_id)
    qtbot.waitUntil(lambda: visit.banner.plain_text() == SEVERE, timeout=2000)

    dialog = open_prescription(qtbot, workspace)
    qtbot.waitUntil(lambda: dialog.banner.plain_text() == SEVERE, timeout=5000)
    other_desk.chart.remove(other_desk.actor, "allergies", entry.id, "entered in error")
    qtbot.waitUntil(lambda: dialog.banner.plain_text() == NONE, timeout=2000)
    dialog.reject()
    qtbot.waitUntil(lambda: visit.banner.plain_text() == NONE, timeout=5000)
    wait_idle(qtbot, tasks)

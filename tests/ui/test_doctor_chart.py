"""The chart through the real widgets: found by keyboard, allergies on top, entries added and
changed through the one entry dialog, documents attached and viewed, and the history of it all."""

from __future__ import annotations

from pathlib import Path

from conftest import CTRL, gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from reportlab.pdfgen import canvas

from clinicdesk.services.visits import VisitNote
from tests.clinical.clinic_setup import Consultation
from ui.widgets.reason_dialog import ReasonDialog

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def open_chart(qtbot, make_main, consultation: Consultation):
    """Doctor workspace (Ctrl+2), Ctrl+F, type the date of birth, Enter: the chart opens."""
    main = make_main(consultation.doctor)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_2, CTRL)
    workspace = main.pages["doctor"]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F, CTRL)
    qtbot.waitUntil(lambda: workspace.find_dialog is not None, timeout=3000)
    box = workspace.find_dialog.picker.box
    qtbot.waitUntil(box.hasFocus, timeout=3000)
    qtbot.keyClicks(box, "14/05/1979")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    chart = workspace.chart
    qtbot.waitUntil(lambda: chart.chart is not None, timeout=5000)
    assert workspace.stack.currentWidget() is chart
    return chart


def test_chart_opens_with_the_allergy_banner(qtbot, make_main, consultation):
    chart = open_chart(qtbot, make_main, consultation)
    assert chart.name.text() == "Νίκος Παπαδόπουλος"
    assert "Male" in chart.summary.text() and "born 14/05/1979" in chart.summary.text()
    assert chart.banner.plain_text() == "⚠ ALLERGIES: PENICILLIN (Hives; Severe)"
    assert chart.banner.property("kind") == "serious"
    assert chart.visits_model.cells(chart.visits_model.row(0))[-1] == "Open"


def test_allergy_and_vitals_through_the_dialog(qtbot, make_main, consultation, tasks):
    doctor = consultation.doctor
    chart = open_chart(qtbot, make_main, consultation)
    panel = chart.sections["allergies"]
    chart.record_tabs.setCurrentWidget(panel)
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    qtbot.keyClicks(dialog.inputs["substance"], "Ibuprofen")
    qtbot.keyClicks(dialog.inputs["reaction"], "Wheeze")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)  # no severity chosen
    qtbot.waitUntil(lambda: dialog.form.error_text("severity") != "", timeout=5000)
    assert dialog.form.error_text("severity") == ("Choose mild, moderate, severe, life-threatening")
    assert len(doctor.chart.open(doctor.actor, consultation.patient_id).allergies) == 1

    dialog.inputs["severity"].setFocus()
    qtbot.keyClicks(dialog.inputs["severity"], "Mod")
    assert dialog.form.error_text("severity") == ""
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    qtbot.waitUntil(lambda: "Ibuprofen" in chart.banner.plain_text(), timeout=5000)
    assert chart.banner.plain_text() == (
        "⚠ ALLERGIES: PENICILLIN (Hives; Severe) · Ibuprofen (Wheeze; Moderate)"
    )

    vitals = chart.vitals
    qtbot.mouseClick(vitals.add_button, Qt.MouseButton.LeftButton)
    dialog = vitals.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    assert dialog.inputs["taken_at"].text()  # now, in clinic time
    for name, text in (("systolic", "120"), ("diastolic", "130"), ("weight", "82,5")):
        qtbot.keyClicks(dialog.inputs[name], text)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.error_text("diastolic") != "", timeout=5000)
    assert dialog.form.error_text("diastolic") == (
        "Diastolic (mmHg) must be lower than the systolic pressure"
    )
    assert doctor.chart.open(doctor.actor, consultation.patient_id).sections["vitals"] == []
    assert chart.plot.bands == []

    dialog.inputs["diastolic"].setFocus()
    qtbot.keyClick(dialog.inputs["diastolic"], Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(dialog.inputs["diastolic"], "80")
    assert dialog.form.error_text("diastolic") == ""
    qtbot.keyClick(dialog.inputs["diastolic"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    qtbot.waitUntil(lambda: vitals.model.rowCount() == 1, timeout=5000)
    assert vitals.model.cells(vitals.model.row(0))[1:3] == ("120", "80")
    assert [b.title for b in chart.plot.bands] == ["Blood pressure", "Weight"]
    wait_idle(qtbot, tasks)


def attach(qtbot, chart, path: Path, title: str):
    panel = chart.documents
    qtbot.mouseClick(panel.attach_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    qtbot.keyClicks(dialog.path, str(path))
    qtbot.keyClicks(dialog.title, title)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    return dialog


def test_attach_view_and_refuse_a_mislabelled_file(qtbot, make_main, consultation, tmp_path):
    pdf = tmp_path / "fbc.pdf"
    page = canvas.Canvas(str(pdf))
    page.drawString(72, 720, "Full blood count: haemoglobin 141 g/L")
    page.showPage()
    page.drawString(72, 720, "Page two")
    page.save()
    fake = tmp_path / "x.pdf"
    fake.write_bytes(PNG)
    doctor = consultation.doctor
    chart = open_chart(qtbot, make_main, consultation)
    assert chart.documents.summary.text() == "No documents yet."

    dialog = attach(qtbot, chart, fake, "Scan")
    qtbot.waitUntil(lambda: dialog.form.error_text("file") != "", timeout=5000)
    assert dialog.form.error_text("file") == "x.pdf is not a PDF: its content is a PNG image"
    assert doctor.chart.open(doctor.actor, consultation.patient_id).documents == []
    dialog.reject()

    dialog = attach(qtbot, chart, pdf, "Full blood count")
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    qtbot.waitUntil(lambda: chart.documents.model.rowCount() == 1, timeout=5000)
    assert chart.documents.model.cells(chart.documents.model.row(0))[:2] == (
        "Full blood count",
        "Lab report",
    )
    chart.documents.table.setFocus()
    qtbot.keyClick(chart.documents.table, Qt.Key.Key_Return)
    viewer = chart.documents.viewer
    qtbot.waitUntil(lambda: viewer.status.text() == "fbc.pdf · 2 pages", timeout=10000)
    first = viewer.pages[0].pixmap()
    assert len(viewer.pages) == 2 and first.width() == 900 and first.height() > 1000
    viewer.close()

    # removed, with why: asked first, and nothing happens until a reason is given
    chart.window().activateWindow()
    chart.documents.table.setFocus()
    qtbot.keyClick(chart.documents.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: chart.documents.findChild(ReasonDialog) is not None, timeout=3000)
    asked = chart.documents.findChild(ReasonDialog)
    asked.save.click()
    assert asked.form.error_text("reason") == "Type why first: the reason is kept."
    assert len(doctor.chart.open(doctor.actor, consultation.patient_id).documents) == 1
    qtbot.keyClicks(asked.reason, "Attached to the wrong patient")
    qtbot.keyClick(asked.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: chart.documents.model.rowCount() == 0, timeout=5000)
    assert doctor.chart.open(doctor.actor, consultation.patient_id).documents == []


def test_history_shows_who_changed_what(qtbot, make_main, consultation, tasks):
    chart = open_chart(qtbot, make_main, consultation)
    panel = chart.sections["allergies"]
    chart.record_tabs.setCurrentWidget(panel)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)  # edit Penicillin
    dialog = panel.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    severity = dialog.inputs["severity"]
    severity.setFocus()
    qtbot.keyClicks(severity, "Life")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    qtbot.waitUntil(lambda: "Life-threatening" in chart.banner.plain_text(), timeout=5000)

    qtbot.mouseClick(chart.history_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chart.history_dialog is not None, timeout=5000)
    rows = chart.history_dialog.rows()
    assert rows[0][1:] == (
        "Dr Maya Hale",
        "Allergies",
        "Changed",
        "Severity: Severe → Life-threatening",
    )
    assert rows[-1][1:4] == ("Ada Admin", "Allergies", "Added")
    assert "Substance: Penicillin" in rows[-1][4]
    wait_idle(qtbot, tasks)


def test_a_previous_visit_opens_read_only_from_the_chart(qtbot, make_main, consultation, tasks):
    doctor = consultation.doctor
    doctor.visits.finish(doctor.actor, consultation.visit.id, VisitNote(complaint="Headache"))
    chart = open_chart(qtbot, make_main, consultation)
    assert chart.visits_model.cells(chart.visits_model.row(0))[1:] == (
        "Dr Maya Hale",
        "Headache",
        "",
        "Signed",
    )
    chart.history_tabs.setCurrentWidget(chart.visits)
    chart.visits.setFocus()
    qtbot.keyClick(chart.visits, Qt.Key.Key_Return)
    workspace = chart.window().pages["doctor"]
    screen = workspace.visit
    qtbot.waitUntil(lambda: screen.visit is not None, timeout=5000)
    assert workspace.stack.currentWidget() is screen
    assert screen.fields["complaint"].toPlainText() == "Headache"
    assert all(edit.isReadOnly() for edit in screen.fields.values())
    assert screen.signed.text().startswith("Signed by Dr Maya Hale")
    wait_idle(qtbot, tasks)


def test_lifestyle_resolved_conditions_and_an_image(qtbot, make_main, consultation, tmp_path):
    doctor, patient_id = consultation.doctor, consultation.patient_id
    for name, status in (("Tonsillitis", "resolved"), ("Hypertension", "active")):
        doctor.chart.add(doctor.actor, patient_id, "conditions", {"name": name, "status": status})
    image = QImage(320, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("#d9534f"))
    image.save(str(tmp_path / "ecg.png"))
    chart = open_chart(qtbot, make_main, consultation)

    conditions = chart.sections["conditions"].model
    assert [conditions.cells(c)[:2] for c in conditions.rows] == [
        ("Hypertension", "Active"),
        ("Tonsillitis", "Resolved"),
    ]
    foreground = Qt.ItemDataRole.ForegroundRole
    assert conditions.data(conditions.index(1, 0), foreground) is not None  # greyed
    assert conditions.data(conditions.index(0, 0), foreground) is None

    lifestyle = chart.lifestyle
    chart.record_tabs.setCurrentWidget(lifestyle)
    assert lifestyle.values["smoking"].text() == "Not recorded"
    qtbot.mouseClick(lifestyle.edit_button, Qt.MouseButton.LeftButton)
    dialog = lifestyle.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    qtbot.keyClicks(dialog.inputs["smoking"], "Never smoked")
    qtbot.keyClicks(dialog.inputs["activity"], "Walks 30 min daily")
    qtbot.keyClick(dialog.inputs["activity"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lifestyle.values["smoking"].text() == "Never smoked", timeout=5000)
    assert lifestyle.values["activity"].text() == "Walks 30 min daily"
    assert lifestyle.values["diet"].text() == "Not recorded"

    dialog = attach(qtbot, chart, tmp_path / "ecg.png", "ECG strip")
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    qtbot.waitUntil(lambda: chart.documents.model.rowCount() == 1, timeout=5000)
    chart.documents.table.setFocus()
    qtbot.keyClick(chart.documents.table, Qt.Key.Key_Return)
    viewer = chart.documents.viewer
    qtbot.waitUntil(lambda: len(viewer.pages) == 1, timeout=5000)
    shown = viewer.pages[0].pixmap().toImage()
    assert (shown.width(), shown.height()) == (320, 200)
    assert shown.pixelColor(10, 10) == QColor("#d9534f")
    viewer.close()


def test_the_doctors_workspace_fits_a_1366_by_768_screen(qtbot, make_main, consultation):
    """The chart with its vitals table, the visit and the day, on the common laptop screen."""
    chart = open_chart(qtbot, make_main, consultation)
    main = chart.window()
    hint = main.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768 - 48, hint  # less a taskbar

"""Before a prescription is printed for a patient whose name is in a script the printer's font
cannot draw, the print dialog says which field will print transliterated and how."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from clinicdesk.services.prescription_views import PrescriptionView
from tests.clinical.clinic_setup import Consultation, three_items
from ui.context import AppContext
from ui.doctor.print_prescription import PDF_FILTERS, PrintJob, save_prescription_pdf

pytestmark = pytest.mark.usefixtures("own_settings")


def written_for(consultation: Consultation, given: str, family: str) -> PrescriptionView:
    admin, doctor = consultation.admin, consultation.doctor
    record = admin.patients.get(admin.actor, consultation.patient_id)
    data = replace(record.as_input(), given_name=given, family_name=family)
    admin.patients.update(admin.actor, record.id, data, record.version)
    return doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items())


def job_for(consultation: Consultation, tasks, rx: PrescriptionView, tmp_path: Path) -> PrintJob:
    session = consultation.doctor
    ctx = AppContext(session, tasks, session.clinic.details())
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    return PrintJob(ctx, None, rx.id, "A5", printer)


def test_a_thai_name_is_announced_before_the_preview_and_cancel_prints_nothing(
    qtbot, consultation, tasks, tmp_path
):
    rx = written_for(consultation, "สมชาย", "ใจดี")
    job = job_for(consultation, tasks, rx, tmp_path)
    job.start()
    qtbot.waitUntil(lambda: job.warning is not None and job.warning.isVisible(), timeout=10_000)
    said = job.warning.text()
    assert "patient's name" in said and "สมชาย ใจดี" in said
    assert "smchaay aicchdii" in said and "transliteration" in said
    assert job.preview is None  # nothing is shown to print before staff have read it
    job.warning.button(QMessageBox.StandardButton.Cancel).click()
    wait_idle(qtbot, tasks)
    assert job.preview is None


def test_after_the_warning_the_preview_opens(qtbot, consultation, tasks, tmp_path):
    rx = written_for(consultation, "さくら", "山田")
    job = job_for(consultation, tasks, rx, tmp_path)
    job.start()
    qtbot.waitUntil(lambda: job.warning is not None and job.warning.isVisible(), timeout=10_000)
    [go_on] = [
        b
        for b in job.warning.buttons()
        if job.warning.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
    ]
    go_on.click()
    qtbot.waitUntil(lambda: job.preview is not None and job.preview.isVisible(), timeout=10_000)
    job.preview.reject()


def test_a_latin_name_goes_straight_to_the_preview(qtbot, consultation, tasks, tmp_path):
    rx = written_for(consultation, "Zoë", "Ní Bhriain")
    job = job_for(consultation, tasks, rx, tmp_path)
    job.start()
    qtbot.waitUntil(lambda: job.preview is not None and job.preview.isVisible(), timeout=10_000)
    assert job.warning is None
    job.preview.reject()


def test_saving_as_pdf_says_what_the_file_prints_transliterated(
    qtbot, consultation, tasks, tmp_path, monkeypatch
):
    rx = written_for(consultation, "สมชาย", "ใจดี")
    session = consultation.doctor
    ctx = AppContext(session, tasks, session.clinic.details())
    target = tmp_path / "rx.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_: (str(target), PDF_FILTERS["A5"]))
    )
    visit = QWidget()
    qtbot.addWidget(visit)
    visit.show()
    saved: list[Path] = []
    save_prescription_pdf(ctx, visit, rx.id, on_saved=saved.append)
    qtbot.waitUntil(lambda: saved == [target], timeout=10_000)

    [told] = visit.findChildren(QMessageBox)
    assert told.isVisible()
    assert str(target) in told.text()
    assert "สมชาย ใจดี" in told.text() and "smchaay aicchdii" in told.text()
    told.buttons()[0].click()
    qtbot.waitUntil(lambda: not visit.findChildren(QMessageBox), timeout=5_000)

"""Printing and saving a prescription: page images of the right size, and paper whose QR code
scans back to the signed prescription."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog

from clinicdesk.services.prescription_views import PrescriptionView
from tests.clinical.clinic_setup import three_items
from tests.pdf_pages import codes_on_pages, page_sizes_mm
from ui.context import AppContext
from ui.doctor.print_prescription import (
    PDF_FILTERS,
    PrintJob,
    rasterise,
    save_prescription_pdf,
)

# millimetres of the paper, and PDF points per millimetre
PAPER_MM = {"A5": (148, 210), "A4": (210, 297)}
PT_PER_MM = 72 / 25.4


pytestmark = pytest.mark.usefixtures("own_settings")


@pytest.fixture
def written(consultation) -> PrescriptionView:
    doctor = consultation.doctor
    return doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items())


@pytest.fixture
def ctx(consultation, tasks) -> AppContext:
    session = consultation.doctor
    return AppContext(session, tasks, session.clinic.details())


@pytest.mark.parametrize("paper", ["A5", "A4"])
def test_pages_are_rasterised_at_the_paper_size(consultation, written, paper):
    doctor = consultation.doctor
    pages = rasterise(doctor.prescriptions.pdf(doctor.actor, written.id, paper), 300)
    width_mm, height_mm = PAPER_MM[paper]
    assert len(pages) == 1
    width, height = pages[0].size
    assert abs(width - width_mm / 25.4 * 300) <= 1
    assert abs(height - height_mm / 25.4 * 300) <= 1
    assert pages[0].mode == "RGB"


def test_save_as_pdf_writes_a_page_whose_code_scans(
    qtbot, ctx, written, tasks, tmp_path, monkeypatch
):
    target = tmp_path / "saved" / "rx.pdf"
    target.parent.mkdir()
    asked = []

    def choose(parent, caption, suggested, filters, selected):
        asked.append((suggested, filters, selected))
        return str(target), PDF_FILTERS["A4"]

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    saved: list[Path] = []
    save_prescription_pdf(ctx, None, written.id, on_saved=saved.append)
    qtbot.waitUntil(lambda: saved != [], timeout=10_000)
    wait_idle(qtbot, tasks)

    ((suggested, filters, selected),) = asked
    assert Path(suggested).name == f"prescription-{written.reference}.pdf"
    assert filters.split(";;") == [PDF_FILTERS["A5"], PDF_FILTERS["A4"]]
    assert selected == PDF_FILTERS["A5"]  # nothing remembered yet: the usual pad
    assert saved == [target]
    assert page_sizes_mm(target)[0] == PAPER_MM["A4"]
    assert codes_on_pages(target) == [written.code]

    asked.clear()
    saved.clear()
    save_prescription_pdf(ctx, None, written.id, on_saved=saved.append)
    qtbot.waitUntil(lambda: saved != [], timeout=10_000)
    wait_idle(qtbot, tasks)
    assert asked[0][2] == PDF_FILTERS["A4"]  # the last choice is offered again


def test_print_preview_paints_a_page_whose_code_scans(qtbot, ctx, written, tasks, tmp_path):
    output = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(output))
    job = PrintJob(ctx, None, written.id, "A5", printer)
    job.start()
    qtbot.waitUntil(lambda: job.preview is not None and job.preview.isVisible(), timeout=10_000)
    wait_idle(qtbot, tasks)
    assert len(job.pages) == 1
    assert abs(job.pages[0].width() - 148 / 25.4 * 300) <= 1  # 300 dpi, not the PDF's 1200

    job.paint(printer)  # what the preview's Print button does
    job.preview.reject()
    assert page_sizes_mm(output)[0] == PAPER_MM["A5"]
    assert codes_on_pages(output) == [written.code]

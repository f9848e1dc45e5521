"""Printing and saving a prescription: page images of the right size, and paper whose QR code
scans back to the signed prescription."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from conftest import wait_idle  # tests/ui/conftest.py
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog

from clinicdesk.rx.scan import QR
from clinicdesk.services.prescription_views import PrescriptionView
from tests.clinical.clinic_setup import Consultation, three_items, walk_in_consultation
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


@pytest.fixture(autouse=True)
def own_settings(tmp_path: Path) -> None:
    """The remembered paper size and folder go to a file of this test, not the user's."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))


@pytest.fixture
def consultation(admin, tasks) -> Iterator[Consultation]:
    consult = walk_in_consultation(admin)
    yield consult
    tasks.wait()
    consult.doctor.close()


@pytest.fixture
def written(consultation) -> PrescriptionView:
    doctor = consultation.doctor
    return doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items())


@pytest.fixture
def ctx(consultation, tasks) -> AppContext:
    session = consultation.doctor
    return AppContext(session, tasks, session.clinic.details())


def scanned(pdf: Path, tmp_path: Path) -> list[str]:
    """What a phone would read off the printed page: pdftoppm, then zxing-cpp."""
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    found = []
    for png in sorted(tmp_path.glob("page*.png")):
        found += [b.text for b in zxingcpp.read_barcodes(Image.open(png), formats=QR)]
    return found


def paper_of(pdf: Path) -> tuple[int, int]:
    """The page's size in whole millimetres."""
    document = pdfium.PdfDocument(pdf)
    try:
        width, height = document[0].get_size()
    finally:
        document.close()
    return round(width / PT_PER_MM), round(height / PT_PER_MM)


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
    assert paper_of(target) == PAPER_MM["A4"]
    assert scanned(target, tmp_path) == [written.code]

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
    assert paper_of(output) == PAPER_MM["A5"]
    assert scanned(output, tmp_path) == [written.code]

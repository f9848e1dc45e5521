"""Printing a prescription through Qt's print preview, or saving it as a PDF file.

The PDF comes from the service (the same document whatever the printer); it is rasterised on a
worker thread and the page images are painted onto the printer. Nothing heavy runs on the UI
thread: the service call, the rendering and the file writing are all submitted to the workers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image
from PySide6.QtCore import QMarginsF, QObject, QRectF, QSettings, QStandardPaths, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QRadioButton,
    QWidget,
)

from clinicdesk.printing import PDFIUM_LOCK
from clinicdesk.services.prescription_views import PrescriptionView
from clinicdesk.store.files import storage_errors
from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout

PAPERS = ("A5", "A4")
PAGE_SIZES = {"A5": QPageSize.PageSizeId.A5, "A4": QPageSize.PageSizeId.A4}
DEFAULT_DPI = 300
# The page images are made at the printer's resolution up to this: text and the QR code stay
# crisp, while an A4 page stays under 30 MB in memory (1200 dpi would take 400 MB).
MAX_DPI = 300
MIN_DPI = 150
PAPER_KEY = "printing/prescription_paper"
FOLDER_KEY = "printing/prescription_folder"
PDF_FILTERS = {paper: f"{paper} prescription (*.pdf)" for paper in PAPERS}


# ---- the pure parts: rasterising and writing ----


def rasterise(pdf: bytes, dpi: float = DEFAULT_DPI) -> list[Image.Image]:
    """Each page of ``pdf`` as an RGB image at ``dpi``."""
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            return [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in document]
        finally:
            document.close()


def write_pdf(data: bytes, path: Path) -> Path:
    """Write the file; a full or read-only disk becomes a sentence staff can act on."""
    with storage_errors(path.parent):
        path.write_bytes(data)
    return path


def as_qimage(image: Image.Image) -> QImage:
    """A QImage that owns a copy of the pixels (the PIL image may go away)."""
    data = image.tobytes()
    width, height = image.size
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def set_paper(printer: QPrinter, paper: str) -> None:
    """The page images fill the whole sheet, so the printer adds no margins of its own."""
    printer.setFullPage(True)
    printer.setPageLayout(
        QPageLayout(
            QPageSize(PAGE_SIZES[paper]),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
    )


def paint_pages(printer: QPrinter, pages: list[QImage]) -> None:
    """Each image on its own sheet, scaled to the paper the printer has now."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("The printer could not be started.")
    try:
        for number, image in enumerate(pages):
            if number:
                printer.newPage()
            sheet = printer.pageLayout().fullRectPixels(printer.resolution())
            painter.drawImage(QRectF(0, 0, sheet.width(), sheet.height()), image)
    finally:
        painter.end()


def printer_dpi(printer: QPrinter) -> int:
    return max(MIN_DPI, min(MAX_DPI, printer.resolution() or DEFAULT_DPI))


# ---- remembered choices ----


def _settings() -> QSettings:
    return QSettings("ClinicDesk", "ClinicDesk")


def remembered_paper() -> str:
    paper = str(_settings().value(PAPER_KEY, "A5"))
    return paper if paper in PAPERS else "A5"


def remember_paper(paper: str) -> None:
    _settings().setValue(PAPER_KEY, paper)


def _tell(parent: QWidget | None, title: str, error: BaseException) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, describe(error), parent=parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


# ---- printing ----


class PaperChoice(QDialog):
    """A5 or A4, before the preview; the choice is remembered for next time."""

    def __init__(self, parent: QWidget | None = None, paper: str = "A5") -> None:
        super().__init__(parent)
        self.setWindowTitle("Print prescription")
        layout, _title = titled_layout(self, "Print prescription")
        hint = QLabel("Paper size")
        set_kind(hint, "muted")
        layout.addWidget(hint)
        self.buttons = {
            "A5": QRadioButton("A&5 (148 × 210 mm), the usual prescription pad"),
            "A4": QRadioButton("A&4 (210 × 297 mm)"),
        }
        for name, button in self.buttons.items():
            button.setChecked(name == paper)
            layout.addWidget(button)
        box = QDialogButtonBox()
        preview = box.addButton("Preview…", QDialogButtonBox.ButtonRole.AcceptRole)
        set_kind(preview, "primary")
        box.addButton(QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        preview.setDefault(True)
        self.buttons[paper].setFocus()

    def paper(self) -> str:
        return next(name for name, button in self.buttons.items() if button.isChecked())


class PrintJob(QObject):
    """Fetch the PDF, rasterise it for the printer, then open the print preview.

    ``printer`` is made here unless given (tests give one that writes a PDF file).
    """

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None,
        prescription_id: str,
        paper: str,
        printer: QPrinter | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.parent_widget = parent
        self.prescription_id = prescription_id
        self.paper = paper
        self.printer = printer or QPrinter(QPrinter.PrinterMode.HighResolution)
        set_paper(self.printer, paper)
        self.pages: list[QImage] = []
        self.preview: QPrintPreviewDialog | None = None

    def start(self) -> None:
        prescriptions, actor = self.ctx.session.prescriptions, self.ctx.actor
        pid, paper, dpi = self.prescription_id, self.paper, printer_dpi(self.printer)

        def render() -> list[Image.Image]:
            return rasterise(prescriptions.pdf(actor, pid, paper), dpi)

        self.ctx.tasks.submit(render, on_result=self._ready, on_error=self._failed, owner=self)

    def _ready(self, images: list[Image.Image]) -> None:
        self.pages = [as_qimage(image) for image in images]
        self.preview = QPrintPreviewDialog(self.printer, self.parent_widget)
        self.preview.setWindowTitle("Print preview")
        self.preview.resize(900, 820)
        self.preview.paintRequested.connect(self.paint)
        self.preview.finished.connect(self._closed)
        self.preview.open()

    def paint(self, printer: QPrinter) -> None:
        paint_pages(printer, self.pages)

    def _closed(self, _result: int) -> None:
        if self.preview is not None:
            self.preview.deleteLater()
        self.deleteLater()

    def _failed(self, error: BaseException) -> None:
        _tell(self.parent_widget, "Printing failed", error)
        self.deleteLater()


def print_prescription(ctx: AppContext, parent: QWidget | None, prescription_id: str) -> None:
    """Ask A5 or A4, then show the print preview; printing is from the preview."""
    choice = PaperChoice(parent, remembered_paper())

    def chosen() -> None:
        paper = choice.paper()
        remember_paper(paper)
        PrintJob(ctx, parent, prescription_id, paper).start()

    choice.accepted.connect(chosen)
    choice.finished.connect(choice.deleteLater)
    choice.open()


# ---- saving ----


def _default_folder() -> str:
    saved = str(_settings().value(FOLDER_KEY, "") or "")
    if saved and Path(saved).is_dir():
        return saved
    location = QStandardPaths.StandardLocation.DocumentsLocation
    return QStandardPaths.writableLocation(location) or str(Path.home())


def save_prescription_pdf(
    ctx: AppContext,
    parent: QWidget | None,
    prescription_id: str,
    on_saved: Callable[[Path], None] | None = None,
) -> None:
    """Ask where (the file type chooses A5 or A4), then write the PDF there on a worker."""
    prescriptions, actor = ctx.session.prescriptions, ctx.actor

    def ask(view: PrescriptionView) -> None:
        paper = remembered_paper()
        suggested = str(Path(_default_folder()) / f"prescription-{view.reference}.pdf")
        path, chosen_filter = QFileDialog.getSaveFileName(
            parent,
            "Save prescription as PDF",
            suggested,
            ";;".join(PDF_FILTERS.values()),
            PDF_FILTERS[paper],
        )
        if not path:
            return
        paper = next((p for p, f in PDF_FILTERS.items() if f == chosen_filter), paper)
        remember_paper(paper)
        target = Path(path) if path.lower().endswith(".pdf") else Path(path + ".pdf")
        _settings().setValue(FOLDER_KEY, str(target.parent))
        ctx.tasks.submit(
            lambda: write_pdf(prescriptions.pdf(actor, prescription_id, paper), target),
            on_result=saved,
            on_error=failed,
            owner=parent,
        )

    def saved(path: Path) -> None:
        ctx.notify(f"Prescription saved to {path}")
        if on_saved is not None:
            on_saved(path)

    def failed(error: BaseException) -> None:
        _tell(parent, "The prescription was not saved", error)

    ctx.tasks.submit(
        prescriptions.get, actor, prescription_id, on_result=ask, on_error=failed, owner=parent
    )

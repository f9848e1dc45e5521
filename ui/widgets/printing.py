"""Printing a PDF made by a service through Qt's print preview, or saving it as a PDF file.

The PDF comes from the service (the same document whatever the printer); it is rasterised on a
worker thread and the page images are painted onto the printer. Nothing heavy runs on the UI
thread: the service call, the rendering and the file writing are all submitted to the workers.
Prescriptions (ui/doctor/print_prescription.py), labels and receipts (ui/pharmacy) use this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import shiboken6
from PIL import Image
from PySide6.QtCore import QMarginsF, QObject, QRectF, QSettings, QSizeF, QStandardPaths, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from clinicdesk.printing import PDFIUM_LOCK
from clinicdesk.printing.raster import render_pages
from ui.context import AppContext
from ui.errors import describe

DEFAULT_DPI = 300
# The page images are made at the printer's resolution up to this: text and the QR code stay
# crisp, while an A4 page stays under 30 MB in memory (1200 dpi would take 400 MB).
MAX_DPI = 300
MIN_DPI = 150
PREVIEW_PIXELS = 80_000_000  # every page is held at once: ten A4 pages at 300 dpi, 240 MB
PdfSource = Callable[[], bytes]  # runs on a worker: the service call that makes the PDF
WarningsSource = Callable[[], list[str]]  # runs on a worker: what will not print as written


# ---- the pure parts: rasterising and writing ----


@dataclass(frozen=True)
class Rendered:
    pages: list[Image.Image]
    size_pt: tuple[float, float]  # the first page, in PDF points


def render(pdf: bytes, dpi: float = DEFAULT_DPI) -> Rendered:
    """Each page of ``pdf`` as an RGB image at ``dpi``, with the paper size it asks for; a PDF
    whose pages would not fit the preview's pixel budget is refused (PdfTooLarge)."""
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            drawn = render_pages(document, dpi / 72, shrink=False, max_total_pixels=PREVIEW_PIXELS)
            pages = [page.convert("RGB") for page in drawn]
            size = tuple(document[0].get_size()) if len(document) else (0.0, 0.0)
            return Rendered(pages, size)
        finally:
            document.close()


def rasterise(pdf: bytes, dpi: float = DEFAULT_DPI) -> list[Image.Image]:
    """Each page of ``pdf`` as an RGB image at ``dpi``."""
    return render(pdf, dpi).pages


def as_qimage(image: Image.Image) -> QImage:
    """A QImage that owns a copy of the pixels (the PIL image may go away)."""
    data = image.tobytes()
    width, height = image.size
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def set_page_size(printer: QPrinter, size: QPageSize) -> None:
    """The page images fill the whole sheet, so the printer adds no margins of its own."""
    printer.setFullPage(True)
    printer.setPageLayout(
        QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
    )


def points_size(size_pt: tuple[float, float]) -> QPageSize:
    """A paper of exactly the PDF's size (a label, a receipt roll)."""
    width, height = size_pt
    return QPageSize(
        QSizeF(width, height), QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.ExactMatch
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


def keys_back(parent: QWidget | None) -> None:
    """After a dialog closes no window is active (nothing else hands the keyboard back): the
    window that asked gets it, so its shortcuts and the pharmacy's scanner work again."""
    if parent is not None and shiboken6.isValid(parent):
        parent.window().activateWindow()


def tell(parent: QWidget | None, title: str, error: BaseException) -> None:
    warn(parent, title, describe(error))


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """A warning over ``parent`` that hands the keyboard back when closed."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _r: keys_back(parent))
    box.open()


# ---- printing ----


class PrintJob(QObject):
    """Make the PDF, rasterise it for the printer, then open the print preview.

    ``page_size`` is the paper; without one the paper is the PDF's own page size. ``printer`` is
    made here unless given (tests give one that writes a PDF file). ``warnings`` says what will
    not print as written (a name transliterated): staff read it before the preview opens.
    """

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None,
        make_pdf: PdfSource,
        page_size: QPageSize | None = None,
        printer: QPrinter | None = None,
        warnings: WarningsSource | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.parent_widget = parent
        self.make_pdf = make_pdf
        self.warnings = warnings
        self.page_size = page_size
        self.printer = printer or QPrinter(QPrinter.PrinterMode.HighResolution)
        if page_size is not None:
            set_page_size(self.printer, page_size)
        self.pages: list[QImage] = []
        self.warning: QMessageBox | None = None
        self.preview: QPrintPreviewDialog | None = None

    def start(self) -> None:
        make_pdf, dpi, warnings = self.make_pdf, printer_dpi(self.printer), self.warnings
        self.ctx.tasks.submit(
            lambda: (render(make_pdf(), dpi), warnings() if warnings else []),
            on_result=self._ready,
            on_error=self._failed,
            owner=self,
        )

    def _ready(self, result: tuple[Rendered, list[str]]) -> None:
        rendered, said = result
        if self.page_size is None:
            set_page_size(self.printer, points_size(rendered.size_pt))
        self.pages = [as_qimage(image) for image in rendered.pages]
        if not said:
            self._open_preview()
            return
        self.warning = QMessageBox(
            QMessageBox.Icon.Warning,
            "Some text will print transliterated",
            "\n\n".join(said),
            QMessageBox.StandardButton.Cancel,
            self.parent_widget,
        )
        go_on = self.warning.addButton("Continue to preview", QMessageBox.ButtonRole.AcceptRole)
        self.warning.setDefaultButton(go_on)
        self.warning.finished.connect(self._warned)
        self.warning.open()

    def _warned(self, _result: int) -> None:
        box = self.warning
        if box is None:
            return
        accepted = box.buttonRole(box.clickedButton()) == QMessageBox.ButtonRole.AcceptRole
        box.deleteLater()
        if accepted:
            self._open_preview()
        else:
            keys_back(self.parent_widget)
            self.deleteLater()

    def _open_preview(self) -> None:
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
        keys_back(self.parent_widget)
        self.deleteLater()

    def _failed(self, error: BaseException) -> None:
        tell(self.parent_widget, "Printing failed", error)
        self.deleteLater()


# ---- saving ----


def settings() -> QSettings:
    return QSettings("ClinicDesk", "ClinicDesk")


def default_folder(key: str) -> str:
    """The folder last saved to under ``key``, else the user's documents."""
    saved = str(settings().value(key, "") or "")
    if saved and Path(saved).is_dir():
        return saved
    location = QStandardPaths.StandardLocation.DocumentsLocation
    return QStandardPaths.writableLocation(location) or str(Path.home())


def ask_pdf_path(
    parent: QWidget | None,
    title: str,
    file_name: str,
    folder_key: str,
    filters: list[str],
    selected: str,
) -> tuple[Path, str] | None:
    """Where to save (``.pdf`` added when missing) and the file type chosen; None if cancelled.
    The folder is remembered under ``folder_key``."""
    suggested = str(Path(default_folder(folder_key)) / file_name)
    path, chosen = QFileDialog.getSaveFileName(
        parent, title, suggested, ";;".join(filters), selected
    )
    keys_back(parent)
    if not path:
        return None
    target = Path(path) if path.lower().endswith(".pdf") else Path(path + ".pdf")
    settings().setValue(folder_key, str(target.parent))
    return target, chosen


def write_on_worker(
    ctx: AppContext,
    parent: QWidget | None,
    make_pdf: PdfSource,
    target: Path,
    what: str,
    on_saved: Callable[[Path], None] | None = None,
    warnings: WarningsSource | None = None,
) -> None:
    """Make the PDF and write it to ``target`` on a worker; ``what`` names it in the messages
    ("Prescription", "Labels"). ``warnings`` says what the file prints transliterated: staff
    are told once it is saved, never left to find empty boxes on paper."""

    def saved(result: tuple[Path, list[str]]) -> None:
        path, said = result
        ctx.notify(f"{what} saved to {path}")
        if said:
            text = f"{what} saved to {path}.\n\n" + "\n\n".join(said)
            warn(parent, "Some text prints transliterated", text)
        if on_saved is not None:
            on_saved(path)

    ctx.tasks.submit(
        lambda: (ctx.session.save_export(target, make_pdf()), warnings() if warnings else []),
        on_result=saved,
        on_error=lambda error: tell(parent, f"{what} not saved", error),
        owner=parent,
    )


def save_pdf(
    ctx: AppContext,
    parent: QWidget | None,
    make_pdf: PdfSource,
    what: str,
    file_name: str,
    folder_key: str,
    on_saved: Callable[[Path], None] | None = None,
    warnings: WarningsSource | None = None,
) -> None:
    """Ask where, then make and write the PDF there on a worker."""
    filters = [f"{what} (*.pdf)"]
    chosen = ask_pdf_path(
        parent, f"Save {what.lower()} as PDF", file_name, folder_key, filters, filters[0]
    )
    if chosen is not None:
        write_on_worker(ctx, parent, make_pdf, chosen[0], what, on_saved, warnings)

"""Lab reports and documents: the list, attaching a file, and the in-app viewer.

Files are read, checked and stored on a worker (the service checks the type from the content and
the size); a PDF is rendered page by page on a worker with pypdfium2, so the first page shows
while the rest are still drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.printing import PDFIUM_LOCK
from clinicdesk.printing.raster import render_pages
from clinicdesk.services.attachments import check_size
from clinicdesk.services.chart import DOCUMENT_KINDS, DocumentInfo
from ui.context import AppContext
from ui.doctor.chart_sections_view import ask_removal_reason, entry_table
from ui.errors import describe
from ui.theme import icon, set_kind
from ui.widgets.date_field import DateField
from ui.widgets.dates import DATE_HINT, format_day
from ui.widgets.dialogs import titled_layout
from ui.widgets.form_dialog import FormDialog
from ui.widgets.table import RowsModel

PAGE_WIDTH_PX = 900
FILE_FILTER = "PDF and images (*.pdf *.png *.jpg *.jpeg *.gif *.webp);;All files (*)"


def size_text(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB"
    return f"{max(size // 1024, 1)} KB"


class DocumentsModel(RowsModel[DocumentInfo]):
    HEADERS = ("Title", "Kind", "Dated", "Size")

    def cells(self, d: DocumentInfo) -> tuple[str, ...]:
        kind = DOCUMENT_KINDS.get(d.kind, d.kind)
        return (d.title, kind, format_day(d.dated), size_text(d.size_bytes))

    def extra(self, d: DocumentInfo, column: int, role: int) -> object:
        return d.file_name if role == Qt.ItemDataRole.ToolTipRole else None


def attach_file(session, actor, patient_id, path: str, kind: str, title: str, dated):
    """On a worker: read the file and hand it to the chart service."""
    file = Path(path)
    try:
        check_size(file.name, file.stat().st_size)
        content = file.read_bytes()
    except OSError as error:
        reason = error.strerror or "it cannot be read"
        raise ValidationError({"file": f"{file.name or path} cannot be read: {reason}"}) from None
    return session.chart.attach(actor, patient_id, kind, title, file.name, content, dated)


def pdf_page_count(content: bytes) -> int:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(content)
        try:
            return len(pdf)
        finally:
            pdf.close()


def render_pdf_page(content: bytes, index: int, width: int = PAGE_WIDTH_PX) -> QImage:
    """On a worker: one page as an image ``width`` pixels wide (narrower for a page so long
    that it would exceed the pixel budget)."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(content)
        try:
            scale = width / pdf.get_page_size(index)[0]
            (image,) = render_pages(pdf, scale, shrink=True, pages=[index])
            image = image.convert("RGB")
        finally:
            pdf.close()
    data = image.tobytes()
    width, height = image.size
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def decode_image(content: bytes) -> QImage:
    return QImage.fromData(content)


class AttachDialog(FormDialog):
    def __init__(self, ctx: AppContext, patient_id: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Attach a document", "Attach", parent, columns=1, min_width=520)
        self.patient_id = patient_id
        self.path = QLineEdit()
        self.path.setPlaceholderText("A PDF, PNG, JPEG, GIF or WebP file, up to 25 MB")
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self.choose)
        file_row = QWidget()
        row = QHBoxLayout(file_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.choose_button)
        self.kind = QComboBox()
        for key, label in DOCUMENT_KINDS.items():
            self.kind.addItem(label, key)
        self.title = QLineEdit()
        self.title.setPlaceholderText("For example: Full blood count")
        self.dated = DateField()
        self.form.add("file", "&File", file_row, 0)
        self.form.add("kind", "&Kind", self.kind, 1)
        self.form.add("title", "&Title", self.title, 2, hint="The file's name if left empty")
        self.form.add("dated", "&Dated", self.dated, 3, hint=f"{DATE_HINT}; today if left empty")
        QWidget.setTabOrder(self.path, self.choose_button)
        QWidget.setTabOrder(self.choose_button, self.kind)
        self.path.textEdited.connect(lambda _t: self.form.set_error("file", None))
        self.finish_layout()

    def choose(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Attach a document", "", FILE_FILTER)
        if path:
            self.path.setText(path)
            self.form.set_error("file", None)
            if not self.title.text().strip():
                self.title.setText(Path(path).stem.replace("_", " "))

    def call(self) -> Callable[[], DocumentInfo]:
        if not self.path.text().strip():
            raise ValidationError({"file": "choose the file to attach"})
        if problem := self.dated.problem():
            raise ValidationError({"dated": problem})
        return partial(
            attach_file,
            self.ctx.session,
            self.ctx.actor,
            self.patient_id,
            self.path.text().strip(),
            self.kind.currentData(),
            self.title.text().strip(),
            self.dated.value(),
        )

    def place_errors(self, fields: dict[str, str]) -> dict[str, str]:
        rest = super().place_errors(fields)
        if "file" in fields:
            # the reason starts with the file's name, whose spelling is kept as it is
            self.form.fields["file"].error.setText(fields["file"])
        return rest


class DocumentViewer(QDialog):
    """One document inside the app: an image as it is, a PDF as a column of pages."""

    def __init__(self, ctx: AppContext, info: DocumentInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.info = info
        self.content = b""
        self.page_count = 0
        self.pages: list[QLabel] = []
        self.setWindowTitle(info.title)
        self.resize(980, 760)
        layout, _heading = titled_layout(self, info.title)
        self.status = QLabel("Opening…")
        set_kind(self.status, "muted")
        layout.addWidget(self.status)
        holder = QWidget()
        holder.setObjectName("DocumentPages")
        self.column = QVBoxLayout(holder)
        self.column.setSpacing(12)
        self.column.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(holder)
        self.scroll.setStyleSheet("QScrollArea { background: #5b6b79; }")
        layout.addWidget(self.scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.ctx.tasks.submit(
            self._load,
            on_result=self._loaded,
            on_error=lambda e: self.status.setText(describe(e)),
            owner=self,
        )

    def _load(self) -> tuple[bytes, QImage | int]:
        """On a worker: the stored bytes, then the image or the number of PDF pages."""
        _info, content = self.ctx.session.chart.document_content(self.ctx.actor, self.info.id)
        if self.info.media_type == "application/pdf":
            return content, pdf_page_count(content)
        return content, decode_image(content)

    def _loaded(self, result: tuple[bytes, QImage | int]) -> None:
        self.content, shown = result
        if isinstance(shown, QImage):
            self._add_page(shown)
            self.status.setText(f"{self.info.file_name} · {shown.width()} × {shown.height()} px")
            return
        self.page_count = shown
        self._next_page()

    def _next_page(self) -> None:
        index = len(self.pages)
        if index >= self.page_count:
            pages = f"{self.page_count} page{'s' if self.page_count != 1 else ''}"
            self.status.setText(f"{self.info.file_name} · {pages}")
            return
        self.status.setText(f"Showing page {index + 1} of {self.page_count}…")
        self.ctx.tasks.submit(
            render_pdf_page,
            self.content,
            index,
            on_result=self._page_rendered,
            on_error=lambda e: self.status.setText(describe(e)),
            owner=self,
        )

    def _page_rendered(self, image: QImage) -> None:
        self._add_page(image)
        self._next_page()

    def _add_page(self, image: QImage) -> None:
        page = QLabel()
        page.setPixmap(QPixmap.fromImage(image))
        page.setAccessibleName(f"Page {len(self.pages) + 1}")
        self.column.addWidget(page)
        self.pages.append(page)


class DocumentsPanel(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.patient_id: str | None = None
        self.dialog: AttachDialog | None = None
        self.viewer: DocumentViewer | None = None
        self.model = DocumentsModel()
        self.table = entry_table(self.model, "Documents")
        self.table.open_requested.connect(self.open_current)
        self.table.remove_requested.connect(self.remove_current)
        self.summary = QLabel()
        set_kind(self.summary, "muted")
        self.attach_button = QPushButton(icon("plus"), "A&ttach…")
        self.attach_button.setToolTip("Attach a lab report, letter or image (PDF or image file)")
        self.attach_button.clicked.connect(self.attach)
        self.open_button = QPushButton("&Open")
        self.open_button.setToolTip("Show the highlighted document (Enter)")
        self.open_button.clicked.connect(self.open_current)
        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.attach_button)
        bar.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)

    def set_documents(self, patient_id: str, documents: list[DocumentInfo]) -> None:
        self.patient_id = patient_id
        self.message.hide()
        self.model.set_rows(documents)
        n = len(documents)
        self.summary.setText(f"{n} document{'s' if n != 1 else ''}" if n else "No documents yet.")
        self.open_button.setEnabled(bool(documents))
        if documents:
            self.table.selectRow(0)

    def current(self) -> DocumentInfo | None:
        return self.model.row(self.table.currentIndex().row())

    def attach(self) -> None:
        if self.patient_id is None:
            return
        self.dialog = AttachDialog(self.ctx, self.patient_id, self)
        self.dialog.submitted.connect(self._attached)
        self.dialog.finished.connect(self.dialog.deleteLater)
        self.dialog.finished.connect(lambda _r: self.window().activateWindow())
        self.dialog.open()

    def _attached(self, info: DocumentInfo) -> None:
        self.ctx.notify(f"Attached {info.title}.")  # the chart follows the change itself

    def open_current(self) -> None:
        info = self.current()
        if info is None:
            return
        self.viewer = DocumentViewer(self.ctx, info, self)
        self.viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.viewer.show()

    def remove_current(self) -> None:
        info = self.current()
        if info is not None:
            chart, actor = self.ctx.session.chart, self.ctx.actor
            ask_removal_reason(
                self.ctx,
                self,
                f"“{info.title}”",
                lambda reason: partial(chart.remove_document, actor, info.id, reason),
            )

"""Printing a prescription through Qt's print preview, or saving it as a PDF file.

A5 or A4 is asked first and remembered; the printing itself is ui/widgets/printing.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QPageSize
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QWidget,
)

from clinicdesk.services.prescription_views import PrescriptionView
from ui.context import AppContext
from ui.theme import set_kind
from ui.widgets import printing
from ui.widgets.dialogs import titled_layout
from ui.widgets.printing import rasterise, tell

__all__ = [
    "PDF_FILTERS",
    "PaperChoice",
    "PrintJob",
    "print_prescription",
    "rasterise",
    "save_prescription_pdf",
]

PAPERS = ("A5", "A4")
PAGE_SIZES = {"A5": QPageSize.PageSizeId.A5, "A4": QPageSize.PageSizeId.A4}
PAPER_KEY = "printing/prescription_paper"
FOLDER_KEY = "printing/prescription_folder"
PDF_FILTERS = {paper: f"{paper} prescription (*.pdf)" for paper in PAPERS}


# ---- remembered choices ----


def remembered_paper() -> str:
    paper = str(printing.settings().value(PAPER_KEY, "A5"))
    return paper if paper in PAPERS else "A5"


def remember_paper(paper: str) -> None:
    printing.settings().setValue(PAPER_KEY, paper)


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
        box = QDialogButtonBox(self)
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


class PrintJob(printing.PrintJob):
    """A prescription on A5 or A4 paper (``printer`` given by tests writes a PDF file)."""

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None,
        prescription_id: str,
        paper: str,
        printer: QPrinter | None = None,
    ) -> None:
        prescriptions, actor = ctx.session.prescriptions, ctx.actor
        super().__init__(
            ctx,
            parent,
            lambda: prescriptions.pdf(actor, prescription_id, paper),
            QPageSize(PAGE_SIZES[paper]),
            printer,
            lambda: prescriptions.print_warnings(actor, prescription_id),
        )
        self.prescription_id = prescription_id
        self.paper = paper


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
        chosen = printing.ask_pdf_path(
            parent,
            "Save prescription as PDF",
            f"prescription-{view.reference}.pdf",
            FOLDER_KEY,
            list(PDF_FILTERS.values()),
            PDF_FILTERS[paper],
        )
        if chosen is None:
            return
        target, chosen_filter = chosen
        paper = next((p for p, f in PDF_FILTERS.items() if f == chosen_filter), paper)
        remember_paper(paper)
        printing.write_on_worker(
            ctx,
            parent,
            lambda: prescriptions.pdf(actor, prescription_id, paper),
            target,
            "Prescription",
            on_saved,
            lambda: prescriptions.print_warnings(actor, prescription_id),
        )

    ctx.tasks.submit(
        prescriptions.get,
        actor,
        prescription_id,
        on_result=ask,
        on_error=lambda error: tell(parent, "The prescription was not saved", error),
        owner=parent,
    )

"""Labels and receipt of one dispense: printed or saved, from the counter or from the history."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from ui.context import AppContext
from ui.widgets.printing import PrintJob, save_pdf

LABELS, RECEIPT = "Labels", "Receipt"
FOLDER_KEY = "printing/pharmacy_folder"


def dispense_pdf(ctx: AppContext, dispense_id: str, what: str) -> Callable[[], bytes]:
    """Makes the labels' or the receipt's PDF (on a worker: it reads the store)."""
    pharmacy, actor = ctx.session.pharmacy, ctx.actor
    make = pharmacy.labels_pdf if what == LABELS else pharmacy.receipt_pdf
    return lambda: make(actor, dispense_id)


def dispense_warnings(ctx: AppContext, dispense_id: str) -> Callable[[], list[str]]:
    """What the labels and receipt print transliterated (on a worker: it reads the store)."""
    pharmacy, actor = ctx.session.pharmacy, ctx.actor
    return lambda: pharmacy.print_warnings(actor, dispense_id)


def print_dispense(ctx: AppContext, parent: QWidget, dispense_id: str, what: str) -> None:
    """The print preview on the PDF's own paper: a label or the receipt roll."""
    warnings = dispense_warnings(ctx, dispense_id)
    PrintJob(ctx, parent, dispense_pdf(ctx, dispense_id, what), warnings=warnings).start()


def save_dispense(
    ctx: AppContext, parent: QWidget, dispense_id: str, reference: str, what: str
) -> None:
    name = f"{what.lower()}-{reference}.pdf"
    make_pdf, warnings = dispense_pdf(ctx, dispense_id, what), dispense_warnings(ctx, dispense_id)
    save_pdf(ctx, parent, make_pdf, what, name, FOLDER_KEY, warnings=warnings)

"""What the pharmacy prints after a dispense: a label for each item and a receipt.

Labels are 80 x 50 mm, one per page, the size label printers take. The receipt is 80 mm wide
(a receipt roll, or the left of an ordinary page) and as long as its lines need. Every field
is set with :mod:`clinicdesk.printing.layout` (wrapped, then smaller): directions too long even
at the smallest size go on to a continuation label, so nothing is ever cut off or dropped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.colors import Color, black
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from clinicdesk.money import money_text
from clinicdesk.printing import fonts, scripts
from clinicdesk.printing.fonts import BOLD, REGULAR
from clinicdesk.printing.layout import Block, fit
from clinicdesk.services.patients import age_text
from clinicdesk.services.pharmacy_views import DispensedLine, DispenseView

LABEL = (80 * mm, 50 * mm)
RECEIPT_WIDTH = 80 * mm
MARGIN = 4 * mm
GREY = Color(0.33, 0.36, 0.4)
RULE = Color(0.78, 0.8, 0.83)
KEEP_AWAY = "Keep out of the sight and reach of children."
_INNER = LABEL[0] - 2 * MARGIN
_GAP = 1.5 * mm


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _canvas(out: io.BytesIO, size: tuple[float, float], title: str, v: DispenseView) -> Canvas:
    fonts.register()
    c = Canvas(out, pagesize=size, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(v.pharmacy_name)
    c.setCreator("ClinicDesk")
    return c


def print_warnings(v: DispenseView) -> list[str]:
    """What will print transliterated on the labels and the receipt, in sentences."""
    fields = {
        "patient's name": v.patient_name,
        "pharmacy's name": v.pharmacy_name,
        "pharmacy's address": v.pharmacy_address,
        "issuing clinic's name": v.issuing_clinic,
        "pharmacist's name": v.by,
    }
    for line in v.lines:
        fields[f"drug of line {line.line}"] = line.given
        fields[f"directions of line {line.line}"] = line.directions
    return scripts.warnings(fields)


def _patient(v: DispenseView) -> str:
    """The patient's name and age, saying so when the name prints transliterated."""
    note = " (name as transliterated)" if scripts.undrawable(v.patient_name) else ""
    return f"{v.patient_name}{note} · {age_text(v.patient_born, v.at.date())}"


# ---- labels ----


@dataclass(frozen=True)
class _LabelPage:
    blocks: tuple[Block, ...]  # the drug (or "continued") and the directions, top down


@dataclass(frozen=True)
class _LabelFrame:
    """What every label of a dispense repeats: the pharmacy at the top, the patient, batch and
    warning at the bottom."""

    top: Block
    patient: Block
    batch: Block
    warning: Block

    @property
    def room(self) -> float:
        bottom = self.patient.height + self.batch.height + self.warning.height
        return LABEL[1] - 2 * MARGIN - self.top.height - _GAP - bottom - _GAP


def labels(v: DispenseView) -> bytes:
    out = io.BytesIO()
    c = _canvas(out, LABEL, f"Labels {v.reference_grouped}", v)
    for line in v.lines:
        frame = _frame(v, line)
        for page in _label_pages(line, frame):
            _label(c, frame, page)
            c.showPage()
    c.save()
    return out.getvalue()


def _frame(v: DispenseView, line: DispensedLine) -> _LabelFrame:
    batch = f"Batch {line.batch_number} · Expires {_day(line.expiry)} · Rx {v.reference_grouped}"
    return _LabelFrame(
        fit(f"{v.pharmacy_name} · {_day(v.at.date())}", REGULAR, 6, _INNER, 1, 4.5),
        fit(_patient(v), BOLD, 7.5, _INNER, 1, 5.5),
        fit(batch, REGULAR, 6, _INNER, 1, 4.5),
        fit(KEEP_AWAY, REGULAR, 6, _INNER, 1, 4.5),
    )


def _label_pages(line: DispensedLine, frame: _LabelFrame) -> list[_LabelPage]:
    """The label's text set as large as fits: the drug smaller before it takes a third line,
    the directions smaller before they overflow, and at the smallest size what does not fit
    (even of the drug's name) on continuation labels, so nothing is ever dropped."""
    heading = fit(f"{line.quantity} {line.unit} {line.given}", BOLD, 9, _INNER, 2, 6.5)
    room = frame.room - heading.height
    directions = fit(line.directions, REGULAR, 8, _INNER, floor=5.6, height=max(room, 0))
    more = fit("(continued)", BOLD, 6.5, _INNER)
    flow = [*heading.rows(), *directions.rows()]
    pages: list[list[Block]] = [[]]
    left = frame.room
    for row in flow:
        if row.height > left + 0.01 and pages[-1]:
            pages.append([more])
            left = frame.room - more.height
        pages[-1].append(row)
        left -= row.height
    return [_LabelPage(tuple(blocks)) for blocks in pages]


def _label(c: Canvas, frame: _LabelFrame, page: _LabelPage) -> None:
    c.setFillColor(GREY)
    y = frame.top.draw(c, MARGIN, LABEL[1] - MARGIN) - _GAP
    c.setFillColor(black)
    for block in page.blocks:
        y = block.draw(c, MARGIN, y)
    y = MARGIN + frame.warning.height + frame.batch.height + frame.patient.height
    y = frame.patient.draw(c, MARGIN, y)
    c.setFillColor(GREY)
    y = frame.batch.draw(c, MARGIN, y)
    frame.warning.draw(c, MARGIN, y)


# ---- the receipt ----


def receipt(v: DispenseView) -> bytes:
    inner = RECEIPT_WIDTH - 2 * MARGIN
    total = money_text(v.total, v.currency)
    amounts = [money_text(line.price, v.currency) for line in v.lines]
    # the amounts' column: as wide as the widest amount (the total's bold type), at most half
    column = min(max(fonts.width(a, BOLD, 10) for a in [*amounts, total]), inner / 2)
    left = inner - column - 2 * mm
    rows: list[tuple[Block, Block | None, Color]] = []
    for line, amount in zip(v.lines, amounts, strict=True):
        given = f"{line.given} × {line.quantity} {line.unit}"
        rows.append((fit(given, REGULAR, 8, left, 3, 6), fit(amount, REGULAR, 8, column), black))
        detail = f"Batch {line.batch_number}, exp. {_day(line.expiry)}"
        if line.substituted:
            detail += f" (for {line.prescribed})"
        rows.append((fit(detail, REGULAR, 6.5, left, 2, 5), None, GREY))
    header = [v.pharmacy_name, *v.pharmacy_address.splitlines(), v.pharmacy_phone]
    header = [h for h in header if h.strip()]
    top = [fit(header[0], BOLD, 11, inner, 2, 8)]
    top += [fit(text, REGULAR, 7, inner, 2, 5.5) for text in header[1:]]
    facts = [
        fit(text, REGULAR, 7, inner, 2, 5.5)
        for text in (
            f"Receipt · {_day(v.at.date())} {v.at:%H:%M}",
            f"Prescription {v.reference_grouped} ({v.issuing_clinic})",
            f"Patient {_patient(v)}",
            f"Dispensed by {v.by}",
        )
    ]
    total_label = fit("Total", BOLD, 10, inner - column - 2 * mm)
    total_amount = fit(total, BOLD, 10, column)
    thanks = fit("Thank you. Keep this receipt.", REGULAR, 6.5, inner)
    height = (
        2 * MARGIN
        + sum(b.height for b in top)
        + 4
        + sum(b.height for b in facts)
        + 8
        + sum(max(text.height, amount.height if amount else 0) for text, amount, _ in rows)
        + 8
        + total_amount.height
        + 8
        + thanks.height
    )
    out = io.BytesIO()
    c = _canvas(out, (RECEIPT_WIDTH, height), f"Receipt {v.reference_grouped}", v)
    y = height - MARGIN
    for n, block in enumerate(top):
        c.setFillColor(black if n == 0 else GREY)
        y = block.draw(c, RECEIPT_WIDTH / 2, y, "centre")
    y -= 4
    c.setFillColor(black)
    for block in facts:
        y = block.draw(c, MARGIN, y)
    y -= 4
    _rule(c, y)
    y -= 4
    for text, amount, color in rows:
        c.setFillColor(color)
        below = text.draw(c, MARGIN, y)
        if amount:
            below = min(below, amount.draw(c, RECEIPT_WIDTH - MARGIN, y, "right"))
        y = below
    y -= 4
    _rule(c, y)
    y -= 4
    c.setFillColor(black)
    total_label.draw(c, MARGIN, y)
    total_amount.draw(c, RECEIPT_WIDTH - MARGIN, y, "right")
    c.setFillColor(GREY)
    thanks.draw(c, RECEIPT_WIDTH / 2, MARGIN + thanks.height, "centre")
    c.showPage()
    c.save()
    return out.getvalue()


def _rule(c: Canvas, y: float) -> None:
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(MARGIN, y, RECEIPT_WIDTH - MARGIN, y)

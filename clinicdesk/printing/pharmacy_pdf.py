"""What the pharmacy prints after a dispense: a label for each item and a receipt.

Labels are 80 x 50 mm, one per page, the size label printers take. The receipt is 80 mm wide
(a receipt roll, or the left of an ordinary page) and as long as its lines need. Text that does
not fit a label's width is wrapped, never cut off: the drug and the directions shrink a step
before they would overflow, and directions too long even then go on to a continuation label.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.colors import Color, black
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from clinicdesk.money import money_text
from clinicdesk.printing import fonts
from clinicdesk.printing.fonts import BOLD, REGULAR
from clinicdesk.services.pharmacy_views import DispensedLine, DispenseView

LABEL = (80 * mm, 50 * mm)
RECEIPT_WIDTH = 80 * mm
MARGIN = 4 * mm
GREY = Color(0.33, 0.36, 0.4)
RULE = Color(0.78, 0.8, 0.83)
KEEP_AWAY = "Keep out of the sight and reach of children."


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _canvas(out: io.BytesIO, size: tuple[float, float], title: str, v: DispenseView) -> Canvas:
    fonts.register()
    c = Canvas(out, pagesize=size, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(v.pharmacy_name)
    c.setCreator("ClinicDesk")
    return c


def labels(v: DispenseView) -> bytes:
    out = io.BytesIO()
    c = _canvas(out, LABEL, f"Labels {v.reference_grouped}", v)
    for line in v.lines:
        for page in _label_pages(line):
            _label(c, v, line, page)
            c.showPage()
    c.save()
    return out.getvalue()


@dataclass(frozen=True)
class _LabelPage:
    heading: list[str]
    heading_size: float
    directions: list[str]
    size: float


HEADING_SIZES = (9, 8, 7)
DIRECTION_SIZES = (8, 7, 6.2, 5.6)
HEADING_LEADING, LEADING = 1.17, 1.2  # line height over font size
_INNER = LABEL[0] - 2 * MARGIN
_TOP = LABEL[1] - MARGIN - 6 - 2.5 * mm  # below the pharmacy's name and the date
_BOTTOM = MARGIN + 6 * 2.4 + 7.5 * 1.2  # above the patient, batch and warning lines


def _label_pages(line: DispensedLine) -> list[_LabelPage]:
    """The label's text set as large as fits: the drug smaller before it takes a third line,
    the directions smaller before they overflow, and at the smallest size the rest of them on a
    continuation label, so nothing the patient needs is ever dropped."""
    heading, heading_size = _heading(f"{line.quantity} {line.unit} {line.given}")
    room = _TOP - _BOTTOM - len(heading) * heading_size * HEADING_LEADING
    for size in DIRECTION_SIZES:
        wrapped = simpleSplit(line.directions, REGULAR, size, _INNER)
        if len(wrapped) * size * LEADING <= room:
            return [_LabelPage(heading, heading_size, wrapped, size)]
    first = max(int(room // (size * LEADING)), 0)
    pages = [_LabelPage(heading, heading_size, wrapped[:first], size)]
    more, more_size = _heading(f"{line.given} (continued)", sizes=HEADING_SIZES[-1:])
    more_room = _TOP - _BOTTOM - len(more) * more_size * HEADING_LEADING
    per_page = max(int(more_room // (size * LEADING)), 1)
    for at in range(first, len(wrapped), per_page):
        pages.append(_LabelPage(more, more_size, wrapped[at : at + per_page], size))
    return pages


def _heading(text: str, sizes: tuple[float, ...] = HEADING_SIZES) -> tuple[list[str], float]:
    """The drug line wrapped at the largest size that keeps it to two lines (or the smallest)."""
    for size in sizes:
        lines = simpleSplit(text, BOLD, size, _INNER)
        if len(lines) <= 2:
            break
    return lines, size


def _label(c: Canvas, v: DispenseView, line: DispensedLine, page: _LabelPage) -> None:
    width, height = LABEL
    y = height - MARGIN
    c.setFillColor(GREY)
    c.setFont(REGULAR, 6)
    dated = _day(v.at.date())
    c.drawRightString(width - MARGIN, y - 6, dated)
    room = _INNER - c.stringWidth(dated, REGULAR, 6) - 2 * mm
    _fitted(c, MARGIN, y - 6, v.pharmacy_name, REGULAR, 6, room)
    y = _TOP
    c.setFillColor(black)
    c.setFont(BOLD, page.heading_size)
    for text in page.heading:
        c.drawString(MARGIN, y - page.heading_size, text)
        y -= page.heading_size * HEADING_LEADING
    c.setFont(REGULAR, page.size)
    for text in page.directions:
        c.drawString(MARGIN, y - page.size, text)
        y -= page.size * LEADING
    _fitted(c, MARGIN, MARGIN + 6 * 2.4, v.patient_name, BOLD, 7.5, _INNER)
    c.setFillColor(GREY)
    _fitted(
        c,
        MARGIN,
        MARGIN + 6 * 1.2,
        f"Batch {line.batch_number} · Expires {_day(line.expiry)} · Rx {v.reference_grouped}",
        REGULAR,
        6,
        _INNER,
    )
    c.setFont(REGULAR, 6)
    c.drawString(MARGIN, MARGIN, KEEP_AWAY)


def receipt(v: DispenseView) -> bytes:
    inner = RECEIPT_WIDTH - 2 * MARGIN
    rows: list[tuple[str, str, str]] = []  # (font, text, amount)
    for line in v.lines:
        given = f"{line.given} × {line.quantity} {line.unit}"
        for n, text in enumerate(simpleSplit(given, REGULAR, 8, inner - 18 * mm)):
            rows.append((REGULAR, text, money_text(line.price, v.currency) if n == 0 else ""))
        detail = f"Batch {line.batch_number}, exp. {_day(line.expiry)}"
        if line.substituted:
            detail += f" (for {line.prescribed})"
        for text in simpleSplit(detail, REGULAR, 6.5, inner - 18 * mm):
            rows.append(("small", text, ""))
    header = [v.pharmacy_name, *v.pharmacy_address.splitlines(), v.pharmacy_phone]
    header = [h for h in header if h.strip()]
    height = MARGIN * 2 + 14 + len(header) * 9 + 52 + len(rows) * 10 + 40
    out = io.BytesIO()
    c = _canvas(out, (RECEIPT_WIDTH, height), f"Receipt {v.reference_grouped}", v)
    y = height - MARGIN
    _fitted(c, RECEIPT_WIDTH / 2, y - 11, header[0], BOLD, 11, inner, centred=True)
    y -= 14
    c.setFillColor(GREY)
    for text in header[1:]:
        _fitted(c, RECEIPT_WIDTH / 2, y - 7, text, REGULAR, 7, inner, centred=True)
        y -= 9
    y -= 4
    c.setFillColor(black)
    for text in (
        f"Receipt · {_day(v.at.date())} {v.at:%H:%M}",
        f"Prescription {v.reference_grouped} ({v.issuing_clinic})",
        f"Patient {v.patient_name}",
        f"Dispensed by {v.by}",
    ):
        _fitted(c, MARGIN, y - 7, text, REGULAR, 7, inner)
        y -= 10
    y -= 2
    _rule(c, y)
    y -= 4
    for font, text, amount in rows:
        size = 6.5 if font == "small" else 8
        c.setFont(REGULAR, size)
        c.setFillColor(GREY if font == "small" else black)
        c.drawString(MARGIN, y - size, text)
        if amount:
            c.drawRightString(RECEIPT_WIDTH - MARGIN, y - size, amount)
        y -= size + 2.5
    y -= 2
    _rule(c, y)
    c.setFillColor(black)
    c.setFont(BOLD, 10)
    c.drawString(MARGIN, y - 14, "Total")
    c.drawRightString(RECEIPT_WIDTH - MARGIN, y - 14, money_text(v.total, v.currency))
    c.setFont(REGULAR, 6.5)
    c.setFillColor(GREY)
    c.drawCentredString(RECEIPT_WIDTH / 2, MARGIN, "Thank you. Keep this receipt.")
    c.showPage()
    c.save()
    return out.getvalue()


def _fitted(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    width: float,
    centred: bool = False,
) -> None:
    """One line of text, set smaller when it would be wider than ``width`` (a long name or
    batch number is printed whole, never cut off at the edge)."""
    c.setFont(font, min(size, size * width / max(c.stringWidth(text, font, size), 1)))
    if centred:
        c.drawCentredString(x, y, text)
    else:
        c.drawString(x, y, text)


def _rule(c: Canvas, y: float) -> None:
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(MARGIN, y, RECEIPT_WIDTH - MARGIN, y)

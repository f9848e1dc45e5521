"""The printed prescription, A5 or A4: letterhead, doctor, patient, numbered items in plain
words, the signed QR code, the reference number in large type and a signature line.

The QR is drawn as vector squares (crisp at any printer resolution) with modules of at least
0.5 mm and a four-module quiet zone. Items that do not fit continue on a second page; the code
and the signature are on the last page.
"""

from __future__ import annotations

import io
from datetime import date

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from clinicdesk.printing import fonts
from clinicdesk.printing.fonts import BOLD, REGULAR
from clinicdesk.rx.qr import qr_matrix
from clinicdesk.services.patients import age_on
from clinicdesk.services.prescription_views import CANCELLED, EXPIRED, ItemView, PrescriptionView

PAGE_SIZES = {"A5": A5, "A4": A4}
MIN_MODULE_MM = 0.5
QUIET_MODULES = 4
GREY = Color(0.33, 0.36, 0.4)
ACCENT = Color(0.05, 0.49, 0.48)
RULE = Color(0.78, 0.8, 0.83)


class _Layout:
    """Sizes for one paper size; A4 is A5 scaled up."""

    def __init__(self, page_size: str) -> None:
        self.width, self.height = PAGE_SIZES[page_size]
        k = 1.0 if page_size == "A5" else 1.25
        self.margin = 12 * mm * k
        self.body = 9.5 * k
        self.small = 7.5 * k
        self.title = 15 * k
        self.reference = 17 * k
        self.module = max(MIN_MODULE_MM, 0.55 * k) * mm
        self.qr_max = 58 * mm * k


def render(rx: PrescriptionView, page_size: str = "A5") -> bytes:
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}")
    fonts.register()
    lay = _Layout(page_size)
    out = io.BytesIO()
    c = Canvas(out, pagesize=(lay.width, lay.height), pageCompression=1)
    c.setTitle(f"Prescription {rx.reference_grouped}")
    c.setAuthor(rx.doctor_name)
    c.setSubject(f"Prescription for {rx.patient_name}")
    c.setCreator("ClinicDesk")
    _version, matrix = qr_matrix(rx.code)
    module = _module_size(lay, len(matrix))
    footer_height = (len(matrix) + 2 * QUIET_MODULES) * module + 10 * mm
    y = _letterhead(c, rx, lay)
    y = _patient(c, rx, lay, y)
    stamp = rx.status_label.upper() if rx.status in (CANCELLED, EXPIRED) else ""
    page = 1
    for item in rx.items:
        needed = _item_height(c, item, lay)
        if y - needed < lay.margin + footer_height:
            _page_footer(c, rx, lay, page, last=False)
            _stamp(c, lay, stamp)
            c.showPage()
            page += 1
            y = _continued_header(c, rx, lay)
        y = _item(c, item, lay, y)
    _code_block(c, rx, lay, matrix, module)
    _page_footer(c, rx, lay, page, last=True)
    _stamp(c, lay, stamp)
    c.showPage()
    c.save()
    return out.getvalue()


def _module_size(lay: _Layout, modules: int) -> float:
    """As large as fits the space for the code, never under 0.5 mm."""
    fitting = lay.qr_max / (modules + 2 * QUIET_MODULES)
    return max(MIN_MODULE_MM * mm, min(lay.module, fitting))


def _letterhead(c: Canvas, rx: PrescriptionView, lay: _Layout) -> float:
    top = lay.height - lay.margin
    c.setFillColor(ACCENT)
    c.setFont(BOLD, lay.title)
    c.drawString(lay.margin, top - lay.title, rx.clinic_name)
    c.setFillColor(GREY)
    c.setFont(REGULAR, lay.small)
    contact = " · ".join(p for p in (rx.clinic_address.replace("\n", ", "), rx.clinic_phone) if p)
    y = top - lay.title - lay.small * 1.6
    for line in simpleSplit(contact, REGULAR, lay.small, lay.width - 2 * lay.margin - 40 * mm):
        c.drawString(lay.margin, y, line)
        y -= lay.small * 1.3
    c.setFont(BOLD, lay.small * 1.2)
    c.drawRightString(lay.width - lay.margin, top - lay.small * 1.2, "PRESCRIPTION")
    c.setFont(REGULAR, lay.small)
    c.drawRightString(lay.width - lay.margin, top - lay.small * 2.6, f"Date {_day(rx.issued_on)}")
    y = min(y, top - lay.title - lay.small * 2) - 2 * mm
    c.setFillColor(black)
    c.setFont(REGULAR, lay.body)
    c.drawString(lay.margin, y - lay.body, f"{rx.doctor_name}")
    c.setFillColor(GREY)
    c.setFont(REGULAR, lay.small)
    c.drawString(lay.margin, y - lay.body - lay.small * 1.5, f"Licence {rx.doctor_licence}")
    y -= lay.body + lay.small * 1.5 + 3 * mm
    _rule(c, lay, y)
    return y - 2 * mm


def _patient(c: Canvas, rx: PrescriptionView, lay: _Layout, y: float) -> float:
    c.setFillColor(GREY)
    c.setFont(REGULAR, lay.small)
    c.drawString(lay.margin, y - lay.small, "Patient")
    c.setFillColor(black)
    c.setFont(BOLD, lay.body * 1.25)
    c.drawString(lay.margin, y - lay.small - lay.body * 1.5, rx.patient_name)
    age = age_on(rx.patient_born, rx.issued_on)
    c.setFont(REGULAR, lay.body)
    c.drawString(
        lay.margin,
        y - lay.small - lay.body * 3,
        f"Born {_day(rx.patient_born)} ({age} year{'s' if age != 1 else ''})",
    )
    y -= lay.small + lay.body * 3 + 3 * mm
    _rule(c, lay, y)
    c.setFillColor(ACCENT)
    c.setFont(BOLD, lay.title)
    c.drawString(lay.margin, y - lay.title - 1 * mm, "℞")
    return y - lay.title - 4 * mm


def _item_lines(c: Canvas, item: ItemView, lay: _Layout) -> list[tuple[str, str, float, Color]]:
    width = lay.width - 2 * lay.margin - 8 * mm
    head = " ".join(p for p in (item.drug, item.strength, item.form) if p)
    refills = (
        "no refills" if not item.refills else f"{item.refills} refill{'s' * (item.refills > 1)}"
    )
    subst = "substitution allowed" if item.substitution else "do not substitute"
    facts = f"Quantity: {item.quantity} {item.unit} · {refills} · {subst}"
    lines = [
        (t, BOLD, lay.body * 1.1, black) for t in simpleSplit(head, BOLD, lay.body * 1.1, width)
    ]
    lines += [
        (t, REGULAR, lay.body, black)
        for t in simpleSplit(item.directions, REGULAR, lay.body, width)
    ]
    if item.instructions:
        lines += [
            (t, REGULAR, lay.body, black)
            for t in simpleSplit(item.instructions, REGULAR, lay.body, width)
        ]
    lines += [(t, REGULAR, lay.small, GREY) for t in simpleSplit(facts, REGULAR, lay.small, width)]
    return lines


def _item_height(c: Canvas, item: ItemView, lay: _Layout) -> float:
    return sum(size * 1.35 for _t, _f, size, _c in _item_lines(c, item, lay)) + 3 * mm


def _item(c: Canvas, item: ItemView, lay: _Layout, y: float) -> float:
    left = lay.margin + 8 * mm
    c.setFont(BOLD, lay.body * 1.1)
    c.setFillColor(black)
    c.drawRightString(left - 2 * mm, y - lay.body * 1.1, f"{item.line}.")
    for text, font, size, color in _item_lines(c, item, lay):
        y -= size * 1.35
        c.setFont(font, size)
        c.setFillColor(color)
        c.drawString(left, y + size * 0.3, text)
    return y - 3 * mm


def _continued_header(c: Canvas, rx: PrescriptionView, lay: _Layout) -> float:
    top = lay.height - lay.margin
    c.setFont(REGULAR, lay.small)
    c.setFillColor(GREY)
    c.drawString(
        lay.margin,
        top - lay.small,
        f"{rx.clinic_name} · prescription {rx.reference_grouped} for {rx.patient_name} (continued)",
    )
    _rule(c, lay, top - lay.small * 2)
    return top - lay.small * 2 - 3 * mm


def _code_block(
    c: Canvas, rx: PrescriptionView, lay: _Layout, matrix: list[list[bool]], module: float
) -> None:
    side = (len(matrix) + 2 * QUIET_MODULES) * module
    bottom = lay.margin + 8 * mm
    _rule(c, lay, bottom + side + 2 * mm)
    _draw_qr(c, matrix, lay.margin, bottom, module)
    x = lay.margin + side + 5 * mm
    top = bottom + side - 2 * mm
    c.setFillColor(GREY)
    c.setFont(REGULAR, lay.small)
    c.drawString(x, top - lay.small, "Reference number")
    c.setFillColor(black)
    c.setFont(BOLD, lay.reference)
    c.drawString(x, top - lay.small - lay.reference * 1.2, rx.reference_grouped)
    c.setFont(REGULAR, lay.body)
    c.drawString(
        x,
        top - lay.small - lay.reference * 1.2 - lay.body * 1.8,
        f"Valid until {_day(rx.valid_until)}",
    )
    c.setFillColor(GREY)
    c.setFont(REGULAR, lay.small)
    hint = "Pharmacy: scan the code to verify. If it will not scan, type the reference number."
    hy = top - lay.small - lay.reference * 1.2 - lay.body * 3.2
    for line in simpleSplit(hint, REGULAR, lay.small, lay.width - lay.margin - x):
        c.drawString(x, hy, line)
        hy -= lay.small * 1.3
    sig_y = bottom + 6 * mm
    c.setStrokeColor(black)
    c.setLineWidth(0.5)
    c.line(x, sig_y, lay.width - lay.margin, sig_y)
    c.setFont(REGULAR, lay.small)
    c.drawString(x, sig_y - lay.small * 1.4, f"Signature · {rx.doctor_name}")


def _draw_qr(c: Canvas, matrix: list[list[bool]], x0: float, y0: float, module: float) -> None:
    """Dark runs of each row as one rectangle each: fewer operators, the same squares."""
    c.setFillColor(black)
    path = c.beginPath()
    n = len(matrix)
    quiet = QUIET_MODULES * module
    for r, row in enumerate(matrix):
        y = y0 + quiet + (n - 1 - r) * module
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x0 + quiet + start * module, y, (col - start) * module, module)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)


def _page_footer(c: Canvas, rx: PrescriptionView, lay: _Layout, page: int, last: bool) -> None:
    c.setFont(REGULAR, lay.small * 0.9)
    c.setFillColor(GREY)
    text = f"Signed digitally by {rx.clinic_name} (key {rx.kid})"
    if page > 1 or not last:
        text += f" · page {page}{'' if last else ', continued overleaf'}"
    c.drawString(lay.margin, lay.margin - lay.small, text)


def _stamp(c: Canvas, lay: _Layout, word: str) -> None:
    """Across every page of a cancelled or expired prescription (nothing for a valid one)."""
    if not word:
        return
    c.saveState()
    c.setFillColor(Color(0.75, 0.1, 0.1, alpha=0.35))
    c.setFont(BOLD, lay.title * 3)
    c.translate(lay.width / 2, lay.height / 2)
    c.rotate(30)
    c.drawCentredString(0, 0, word)
    c.restoreState()


def _rule(c: Canvas, lay: _Layout, y: float) -> None:
    c.setStrokeColor(RULE)
    c.setLineWidth(0.6)
    c.line(lay.margin, y, lay.width - lay.margin, y)


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"

"""The printed prescription, A5 or A4: letterhead, doctor, patient, numbered items in plain
words, the signed QR code, the reference number in large type and a signature line.

The QR is drawn as vector squares (crisp at any printer resolution) with modules of at least
0.5 mm and a four-module quiet zone. Every page carries the code, the reference number, the
signature line and "page i of n", so a photo of any one page can be verified; items that do not
fit continue on the next page. Every field is set with :mod:`clinicdesk.printing.layout`
(wrapped, then smaller), so nothing runs off the page however long it is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from clinicdesk.printing import fonts, scripts
from clinicdesk.printing.fonts import BOLD, REGULAR
from clinicdesk.printing.layout import Block, fit
from clinicdesk.rx.qr import qr_matrix
from clinicdesk.services.patients import age_text
from clinicdesk.services.prescription_views import CANCELLED, EXPIRED, ItemView, PrescriptionView

PAGE_SIZES = {"A5": A5, "A4": A4}
MIN_MODULE_MM = 0.5
QUIET_MODULES = 4
GREY = Color(0.33, 0.36, 0.4)
ACCENT = Color(0.05, 0.49, 0.48)
RULE = Color(0.78, 0.8, 0.83)
ITEM_GAP = 2.5 * mm
NUMBER_INDENT = 7 * mm


class _Layout:
    """Sizes for one paper size; A4 sets type a little larger and keeps the rest for items."""

    def __init__(self, page_size: str) -> None:
        self.width, self.height = PAGE_SIZES[page_size]
        k = 1.0 if page_size == "A5" else 1.12
        self.margin = 12 * mm * (1.0 if page_size == "A5" else 1.15)
        self.body = 9.5 * k
        self.small = 7.5 * k
        self.title = 15 * k
        self.reference = 17 * k
        # 0.6 mm modules still read from a 75 dpi scan or photo (at 0.55 mm some pages did not)
        self.module = max(MIN_MODULE_MM, 0.6 * k) * mm
        self.qr_max = 58 * mm * k
        self.inner = self.width - 2 * self.margin


@dataclass(frozen=True)
class _Line:
    block: Block
    color: Color


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
    code = _code(rx, lay, matrix, module)
    pages = _paginate(rx, lay, lay.margin + code.height)
    stamp = rx.status_label.upper() if rx.status in (CANCELLED, EXPIRED) else ""
    for number, items in enumerate(pages, start=1):
        y = _letterhead(c, rx, lay) if number == 1 else _continued_header(c, rx, lay)
        if number == 1:
            y = _patient(c, rx, lay, y)
        for piece in items:
            y = _item(c, piece, lay, y)
        _code_block(c, lay, code, matrix, module, f"Page {number} of {len(pages)}")
        _stamp(c, lay, stamp)
        c.showPage()
    c.save()
    return out.getvalue()


def print_warnings(rx: PrescriptionView) -> list[str]:
    """What will print transliterated, in sentences for the print dialog."""
    fields = {
        "patient's name": rx.patient_name,
        "doctor's name": rx.doctor_name,
        "clinic's name": rx.clinic_name,
        "clinic's address": rx.clinic_address,
    }
    for item in rx.items:
        fields[f"drug of item {item.line}"] = " ".join((item.drug, item.strength, item.form))
        fields[f"directions of item {item.line}"] = item.directions
        fields[f"instructions of item {item.line}"] = item.instructions
    return scripts.warnings(fields, note="The prescription's code keeps it as written.")


def _module_size(lay: _Layout, modules: int) -> float:
    """As large as fits the space for the code, never under 0.5 mm."""
    fitting = lay.qr_max / (modules + 2 * QUIET_MODULES)
    return max(MIN_MODULE_MM * mm, min(lay.module, fitting))


# ---- page 1's header and the continuation header ----


def _letterhead(c: Canvas, rx: PrescriptionView, lay: _Layout) -> float:
    top = lay.height - lay.margin
    right = 36 * mm * lay.body / 9.5  # "PRESCRIPTION" and the date
    left_width = lay.inner - right - 3 * mm
    c.setFillColor(ACCENT)
    y = fit(rx.clinic_name, BOLD, lay.title, left_width, 2, lay.body).draw(c, lay.margin, top)
    c.setFillColor(GREY)
    contact = " · ".join(p for p in (rx.clinic_address.replace("\n", ", "), rx.clinic_phone) if p)
    if contact:
        y = fit(contact, REGULAR, lay.small, left_width, 3, 5.5).draw(c, lay.margin, y - 1 * mm)
    c.setFillColor(black)
    fit("PRESCRIPTION", BOLD, lay.small * 1.2, right).draw(c, lay.width - lay.margin, top, "right")
    fit(f"Date {_day(rx.issued_on)}", REGULAR, lay.small, right).draw(
        c, lay.width - lay.margin, top - lay.small * 1.8, "right"
    )
    y = min(y, top - lay.small * 4) - 2 * mm
    y = fit(rx.doctor_name, REGULAR, lay.body, lay.inner, 2).draw(c, lay.margin, y)
    c.setFillColor(GREY)
    y = fit(f"Licence {rx.doctor_licence}", REGULAR, lay.small, lay.inner, 2).draw(c, lay.margin, y)
    y -= 2 * mm
    _rule(c, lay, y)
    return y - 2 * mm


def _patient(c: Canvas, rx: PrescriptionView, lay: _Layout, y: float) -> float:
    c.setFillColor(GREY)
    y = fit("Patient", REGULAR, lay.small, lay.inner).draw(c, lay.margin, y)
    c.setFillColor(black)
    name = fit(rx.patient_name, BOLD, lay.body * 1.25, lay.inner, 2, lay.body * 0.8)
    y = name.draw(c, lay.margin, y - 0.5 * mm)
    if scripts.undrawable(rx.patient_name):
        c.setFillColor(GREY)
        note = f"Name as transliterated from {scripts.script_names(rx.patient_name)} script"
        y = fit(note, REGULAR, lay.small, lay.inner, 2).draw(c, lay.margin, y)
        c.setFillColor(black)
    age = age_text(rx.patient_born, rx.issued_on)
    y = fit(f"Born {_day(rx.patient_born)} ({age})", REGULAR, lay.body, lay.inner).draw(
        c, lay.margin, y
    )
    y -= 2 * mm
    _rule(c, lay, y)
    c.setFillColor(ACCENT)
    return fit("℞", BOLD, lay.title, lay.inner).draw(c, lay.margin, y - 1 * mm) - 1 * mm


def _header_height(rx: PrescriptionView, lay: _Layout) -> float:
    """How far page 1's letterhead and patient reach down (drawn on a scratch canvas)."""
    scratch = Canvas(io.BytesIO(), pagesize=(lay.width, lay.height))
    return lay.height - _patient(scratch, rx, lay, _letterhead(scratch, rx, lay))


def _continued(rx: PrescriptionView, lay: _Layout) -> Block:
    text = (
        f"{rx.clinic_name} · prescription {rx.reference_grouped} for {rx.patient_name} (continued)"
    )
    return fit(text, REGULAR, lay.small, lay.inner, 2, 5.5)


def _continued_header(c: Canvas, rx: PrescriptionView, lay: _Layout) -> float:
    c.setFillColor(GREY)
    y = _continued(rx, lay).draw(c, lay.margin, lay.height - lay.margin) - 1 * mm
    _rule(c, lay, y)
    return y - 3 * mm


# ---- items ----


def _item_lines(item: ItemView, lay: _Layout) -> list[_Line]:
    width = lay.inner - NUMBER_INDENT
    head = " ".join(p for p in (item.drug, item.strength, item.form) if p)
    refills = (
        "no refills" if not item.refills else f"{item.refills} refill{'s' * (item.refills > 1)}"
    )
    subst = "substitution allowed" if item.substitution else "do not substitute"
    facts = f"Quantity: {item.quantity} {item.unit} · {refills} · {subst}"
    lines = [
        _Line(fit(head, BOLD, lay.body * 1.1, width, 2, lay.body * 0.85), black),
        _Line(fit(item.directions, REGULAR, lay.body, width, 3, lay.body * 0.85), black),
    ]
    if item.instructions:
        lines.append(_Line(fit(item.instructions, REGULAR, lay.body, width, 2, 7), black))
    lines.append(_Line(fit(facts, REGULAR, lay.small, width, 1, 6), GREY))
    return lines


@dataclass(frozen=True)
class _Piece:
    """An item on one page: whole, or the lines of it that fit there (numbered where it
    starts, with the gap to the next item where it ends)."""

    item: ItemView
    lines: tuple[_Line, ...]
    starts: bool
    ends: bool


def _item(c: Canvas, piece: _Piece, lay: _Layout, y: float) -> float:
    if piece.starts:
        c.setFillColor(black)
        head = piece.lines[0].block
        fit(f"{piece.item.line}.", BOLD, head.size, NUMBER_INDENT - 1.5 * mm).draw(
            c, lay.margin + NUMBER_INDENT - 1.5 * mm, y, "right"
        )
    for line in piece.lines:
        c.setFillColor(line.color)
        y = line.block.draw(c, lay.margin + NUMBER_INDENT, y)
    return y - ITEM_GAP if piece.ends else y


def _paginate(rx: PrescriptionView, lay: _Layout, code_height: float) -> list[list[_Piece]]:
    """What each page holds above the code block: whole items in order, an item moved to the
    next page when it does not fit and would fit there, and line by line when it fits nowhere."""
    later_room = lay.height - lay.margin - _continued(rx, lay).height - 4 * mm - code_height
    pages: list[list[_Piece]] = [[]]
    room = lay.height - _header_height(rx, lay) - code_height
    for item in rx.items:
        rows = [
            _Line(row, line.color) for line in _item_lines(item, lay) for row in line.block.rows()
        ]
        needed = sum(row.block.height for row in rows) + ITEM_GAP
        if needed > room and needed <= later_room:
            pages.append([])
            room = later_room
        taken: list[_Line] = []
        starts = True
        for row in rows:
            if row.block.height > room and (taken or pages[-1]):
                pages[-1].append(_Piece(item, tuple(taken), starts, False))
                pages.append([])
                room, taken, starts = later_room, [], not taken and starts
            taken.append(row)
            room -= row.block.height
        pages[-1].append(_Piece(item, tuple(taken), starts, True))
        room -= ITEM_GAP
    return [[piece for piece in page if piece.lines] for page in pages]


# ---- the code block, on every page ----


@dataclass(frozen=True)
class _CodeBlock:
    """The code at the foot of every page: the QR on the left; beside it the reference number,
    validity, a hint for the pharmacy and the signature line; below, who signed it."""

    side: float  # the QR with its quiet zone
    column: tuple[tuple[Block, Color, float], ...]  # (text, colour, space above)
    signature: Block
    signed: Block

    @property
    def body(self) -> float:
        """The QR's height or the column's, whichever is taller."""
        column = sum(block.height + gap for block, _color, gap in self.column)
        return max(self.side, column + SIGNATURE_SPACE + self.signature.height)

    @property
    def height(self) -> float:
        """From the bottom margin to the rule above the block."""
        return self.signed.height + 2 * mm + self.body + 2 * mm


SIGNATURE_SPACE = 8 * mm  # room above the signature line to sign in


def _code(
    rx: PrescriptionView, lay: _Layout, matrix: list[list[bool]], module: float
) -> _CodeBlock:
    side = (len(matrix) + 2 * QUIET_MODULES) * module
    width = lay.inner - side - 4 * mm
    hint = "Pharmacy: scan the code to verify. If it will not scan, type the reference number."
    column = (
        (fit("Reference number", REGULAR, lay.small, width), GREY, QUIET_MODULES * module),
        (fit(rx.reference_grouped, BOLD, lay.reference, width), black, 0.0),
        (fit(f"Valid until {_day(rx.valid_until)}", REGULAR, lay.body, width), black, 1 * mm),
        (fit(hint, REGULAR, lay.small, width, 4, 5.5), GREY, 1 * mm),
    )
    signed = fit(
        f"Signed digitally by {rx.clinic_name} (key {rx.kid})",
        REGULAR,
        lay.small * 0.9,
        lay.inner - 25 * mm,
        2,
        5,
    )
    signature = fit(f"Signature · {rx.doctor_name}", REGULAR, lay.small, width, 2, 5.5)
    return _CodeBlock(side, column, signature, signed)


def _code_block(
    c: Canvas,
    lay: _Layout,
    code: _CodeBlock,
    matrix: list[list[bool]],
    module: float,
    page: str,
) -> None:
    bottom = lay.margin + code.signed.height + 2 * mm
    top = bottom + code.body
    _rule(c, lay, top + 2 * mm)
    _draw_qr(c, matrix, lay.margin, top - code.side, module)
    x = lay.margin + code.side + 4 * mm
    y = top
    for block, color, gap in code.column:
        c.setFillColor(color)
        y = block.draw(c, x, y - gap)
    sig_y = bottom + code.signature.height + 1 * mm
    c.setStrokeColor(black)
    c.setLineWidth(0.5)
    c.line(x, sig_y, lay.width - lay.margin, sig_y)
    c.setFillColor(GREY)
    code.signature.draw(c, x, sig_y - 1 * mm)
    code.signed.draw(c, lay.margin, lay.margin + code.signed.height)
    fit(page, REGULAR, lay.small * 0.9, 24 * mm).draw(
        c, lay.width - lay.margin, lay.margin + code.signed.height, "right"
    )


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

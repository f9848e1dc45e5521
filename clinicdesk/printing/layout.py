"""Setting text inside a box, for every printed document: wrap, then shrink, then continue.

A field is wrapped at its size; if it takes more lines than its place allows, it is set a step
smaller, down to a floor; at the floor it takes as many lines as it needs (the document makes
room or continues on the next page). A word wider than a whole line is broken between
characters. So nothing is ever cut off or runs off the page, whatever its length. Text goes
through :func:`clinicdesk.printing.scripts.printable` first, so no character prints as a box.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.pdfgen.canvas import Canvas

from clinicdesk.printing import fonts
from clinicdesk.printing.scripts import printable

LEADING = 1.25  # line height over font size; covers the last line's descenders too
STEP = 0.92  # each shrink sets the text this much smaller


@dataclass(frozen=True)
class Block:
    """Lines of one field, set in one font and size."""

    lines: tuple[str, ...]
    font: str
    size: float

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * LEADING

    def draw(self, c: Canvas, x: float, top: float, align: str = "left") -> float:
        """Draw the lines below ``top`` (left, right or centre aligned on ``x``); returns the
        height left below them."""
        c.setFont(self.font, self.size)
        draw = {"left": c.drawString, "right": c.drawRightString, "centre": c.drawCentredString}
        for n, line in enumerate(self.lines):
            draw[align](x, top - self.size - n * self.size * LEADING, line)
        return top - self.height

    def rows(self) -> list[Block]:
        """Each line as a block of its own, for text that may continue on another page."""
        return [Block((line,), self.font, self.size) for line in self.lines]


def fit(
    text: str,
    font: str,
    size: float,
    width: float,
    lines: int = 1,
    floor: float | None = None,
    height: float | None = None,
) -> Block:
    """``text`` in at most ``lines`` lines of ``width`` (or, given ``height``, as many lines as
    that height holds), as large as fits from ``size`` down to ``floor`` (70 % of ``size``
    unless given); at the floor, in as many lines as it takes."""
    text = printable(text)
    floor = min(size, floor if floor is not None else size * 0.7)
    while True:
        wrapped = wrap(text, font, size, width)
        allowed = lines if height is None else max(1, int(height // (size * LEADING)))
        if len(wrapped) <= allowed or size <= floor:
            return Block(tuple(wrapped), font, size)
        size = max(floor, round(size * STEP, 2))


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than ``width``, broken between words (and at line breaks in the text);
    a word too wide for a line of its own is broken between characters."""
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            joined = f"{line} {word}" if line else word
            if fonts.width(joined, font, size) <= width:
                line = joined
                continue
            if line:
                out.append(line)
            line = ""
            for ch in word:
                if line and fonts.width(line + ch, font, size) > width:
                    out.append(line)
                    line = ""
                line += ch
        out.append(line)
    return [line for line in out if line] or [""]

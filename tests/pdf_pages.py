"""Reading printed PDFs back in tests: page pictures, page text, each character's box, QR codes.

Everything goes through pypdfium2 (a dependency of the app), so the suite needs no system tools
such as poppler's pdftoppm or pdftotext. pdfium keeps global state: every call holds the app's
PDFIUM_LOCK, as the app's own readers do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from clinicdesk.printing import PDFIUM_LOCK

Pdf = bytes | Path
EDGE_SLACK_PT = 0.5  # what rounding in a glyph's box may add


@dataclass(frozen=True)
class Glyph:
    """One drawn character and its box, in points from the page's bottom left corner."""

    page: int
    char: str
    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True)
class Printout:
    sizes: list[tuple[float, float]]  # each page's width and height
    texts: list[str]  # each page's text, runs of white space as one space
    glyphs: list[Glyph]

    def outside(self, margin: float = 0.0, slack: float = EDGE_SLACK_PT) -> list[Glyph]:
        """Characters that reach closer than ``margin`` to a page's edge."""
        out = []
        for g in self.glyphs:
            width, height = self.sizes[g.page]
            low, high = margin - slack, slack - margin
            if g.left < low or g.bottom < low or g.right > width + high or g.top > height + high:
                out.append(g)
        return out

    def overlapping(self, share: float = 0.3) -> list[tuple[Glyph, Glyph]]:
        """Pairs of characters drawn over each other (sharing more than ``share`` of the
        smaller one's box): text printed across other text."""
        pairs = []
        for page in range(len(self.sizes)):
            active: list[Glyph] = []
            for g in sorted((g for g in self.glyphs if g.page == page), key=lambda g: g.left):
                active = [a for a in active if a.right > g.left]
                for a in active:
                    w = min(a.right, g.right) - max(a.left, g.left)
                    h = min(a.top, g.top) - max(a.bottom, g.bottom)
                    smaller = min(_area(a), _area(g))
                    if w > 0 and h > 0 and w * h > share * smaller:
                        pairs.append((a, g))
                active.append(g)
        return pairs


def _area(g: Glyph) -> float:
    return max((g.right - g.left) * (g.top - g.bottom), 1e-6)


@contextmanager
def _opened(pdf: Pdf) -> Iterator[pdfium.PdfDocument]:
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(str(pdf) if isinstance(pdf, Path) else pdf)
        try:
            yield document
        finally:
            document.close()


def page_images(pdf: Pdf, dpi: float = 150, grey: bool = False) -> list[Image.Image]:
    """Every page as a scanner at ``dpi`` would see it (RGB, or 8-bit grey)."""
    with _opened(pdf) as document:
        return [page.render(scale=dpi / 72, grayscale=grey).to_pil() for page in document]


def page_texts(pdf: Pdf) -> list[str]:
    """Each page's text, runs of spaces and line breaks as one space."""
    with _opened(pdf) as document:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]


def words_outside_the_page(pdf: Pdf) -> list[str]:
    """Words any of whose letters runs past an edge of its page (cut off on paper)."""
    outside: list[str] = []
    with _opened(pdf) as document:
        for page in document:
            width, height = page.get_size()
            text = page.get_textpage()
            word, off = "", False
            for index in range(text.count_chars()):
                char = text.get_text_range(index, 1)
                if not char.strip():
                    if word and off:
                        outside.append(word)
                    word, off = "", False
                    continue
                left, bottom, right, top = text.get_charbox(index)
                word += char
                off = off or (
                    left < -EDGE_SLACK_PT
                    or bottom < -EDGE_SLACK_PT
                    or right > width + EDGE_SLACK_PT
                    or top > height + EDGE_SLACK_PT
                )
            if word and off:
                outside.append(word)
    return outside


def read(pdf: Pdf) -> Printout:
    """Every page's size and text, and every drawn character with its box."""
    sizes, texts, glyphs = [], [], []
    with _opened(pdf) as document:
        for number, page in enumerate(document):
            sizes.append(page.get_size())
            text = page.get_textpage()
            texts.append(" ".join(text.get_text_range().split()))
            for index in range(text.count_chars()):
                char = text.get_text_range(index, 1)
                if char.strip():
                    glyphs.append(Glyph(number, char, *text.get_charbox(index)))
    return Printout(sizes, texts, glyphs)


def page_sizes_mm(pdf: Pdf) -> list[tuple[int, int]]:
    """Each page's width and height in whole millimetres."""
    with _opened(pdf) as document:
        return [tuple(round(side * 25.4 / 72) for side in page.get_size()) for page in document]


def codes_on_pages(pdf: Pdf, dpi: float = 150) -> list[str]:
    """The QR codes a phone would read off the printed pages, page by page."""
    return [code for image in page_images(pdf, dpi) for code in qr_codes(image)]


def qr_codes(image: Image.Image) -> list[str]:
    """The QR codes in one picture (QR only: no other symbology is guessed at)."""
    return [c.text for c in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]

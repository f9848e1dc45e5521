"""Reading printed PDFs back as a reader sees them, with pypdfium2 (no poppler needed)."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from clinicdesk.printing import PDFIUM_LOCK


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

    def outside(self, margin: float = 0.0, slack: float = 0.5) -> list[Glyph]:
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


def read(pdf: bytes) -> Printout:
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            sizes, texts, glyphs = [], [], []
            for n in range(len(doc)):
                page = doc[n]
                sizes.append(page.get_size())
                text = page.get_textpage()
                texts.append(" ".join(text.get_text_range().split()))
                for i in range(text.count_chars()):
                    char = text.get_text_range(i, 1)
                    if char.strip():
                        glyphs.append(Glyph(n, char, *text.get_charbox(i)))
            return Printout(sizes, texts, glyphs)
        finally:
            doc.close()


def render(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            return [doc[n].render(scale=dpi / 72).to_pil().convert("L") for n in range(len(doc))]
        finally:
            doc.close()


def qr_codes(image: Image.Image) -> list[str]:
    return [c.text for c in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]

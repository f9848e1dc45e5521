"""The embedded font: DejaVu Sans covers Latin, Greek and Cyrillic names (resources/fonts);
what it cannot print is transliterated (clinicdesk/printing/scripts.py)."""

from __future__ import annotations

from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from clinicdesk.paths import RESOURCES

REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"


@cache
def register() -> None:
    folder = RESOURCES / "fonts"
    pdfmetrics.registerFont(TTFont(REGULAR, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


def width(text: str, font: str, size: float) -> float:
    """The printed width of ``text``, the fonts registered first (measuring needs them)."""
    register()
    return pdfmetrics.stringWidth(text, font, size)

"""PDF pages to pictures within a budget of pixels, decided from the page sizes before drawing.

A PDF of a few kilobytes can declare hundreds of pages of 200 x 200 inches; drawn as asked, one
such page at 300 dpi is 3.6 billion pixels. Everything ClinicDesk renders with pypdfium2 (codes
read from a PDF, documents in the chart, the print preview) plans its scales here first: a page
beyond the budget is drawn smaller or refused, and a document beyond the total is refused, before
a single pixel is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from clinicdesk.errors import ClinicDeskError

if TYPE_CHECKING:  # the callers import pypdfium2 when they need it (it is slow to load)
    import pypdfium2 as pdfium
    from PIL import Image

MAX_PAGE_PIXELS = 36_000_000  # a 300 dpi A3 page is 17 million
MAX_TOTAL_PIXELS = 180_000_000  # ten such pages
MAX_SIDE_PIXELS = 32_000  # the longest side of a picture drawn from one page


class PdfTooLarge(ClinicDeskError):
    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(f"This PDF was not opened: {why}.")


def page_scales(
    sizes: Sequence[tuple[float, float]],
    scale: float,
    *,
    shrink: bool,
    max_page_pixels: int = MAX_PAGE_PIXELS,
    max_total_pixels: int = MAX_TOTAL_PIXELS,
) -> list[float]:
    """The scale to draw each page of ``sizes`` (in PDF points) at: ``scale``, lowered for a page
    that would exceed the per-page budget when ``shrink`` (else PdfTooLarge); PdfTooLarge if the
    pages together exceed the total budget."""
    scales, total = [], 0.0
    for number, (width, height) in enumerate(sizes, start=1):
        if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
            raise PdfTooLarge(f"its page {number} has no usable size")
        fit = min(
            math.sqrt(max_page_pixels / (width * height)),
            MAX_SIDE_PIXELS / max(width, height),
        )
        page_scale = scale
        if scale > fit:
            if not shrink:
                raise PdfTooLarge(
                    f"its page {number} is too large to draw "
                    f"({width / 72:.0f} x {height / 72:.0f} inches)"
                )
            page_scale = fit
        total += width * height * page_scale * page_scale
        if total > max_total_pixels:
            raise PdfTooLarge("its pages are too large to draw, all together")
        scales.append(page_scale)
    return scales


def render_pages(
    document: pdfium.PdfDocument,
    scale: float,
    *,
    shrink: bool,
    pages: Sequence[int] | None = None,
    grayscale: bool = False,
    max_total_pixels: int = MAX_TOTAL_PIXELS,
) -> Iterator[Image.Image]:
    """The ``pages`` of ``document`` (all by default) drawn one at a time at the planned scales.

    The whole plan is checked before the first page is drawn. The caller holds PDFIUM_LOCK.
    """
    indices = list(range(len(document))) if pages is None else list(pages)
    sizes = [document.get_page_size(index) for index in indices]
    scales = page_scales(sizes, scale, shrink=shrink, max_total_pixels=max_total_pixels)
    for index, page_scale in zip(indices, scales, strict=True):
        page = document[index]
        try:
            yield page.render(scale=page_scale, grayscale=grayscale).to_pil()
        finally:
            page.close()

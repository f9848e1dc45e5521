"""A few kilobytes of PDF declaring hundreds of enormous pages, made with pypdfium2."""

from __future__ import annotations

import io

import pypdfium2 as pdfium

INCH = 72


def hostile_pdf(pages: int = 500, width_in: float = 200, height_in: float = 200) -> bytes:
    document = pdfium.PdfDocument.new()
    try:
        for _ in range(pages):
            document.new_page(width_in * INCH, height_in * INCH).close()
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()
    finally:
        document.close()

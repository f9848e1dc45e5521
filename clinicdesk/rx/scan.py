"""Finding prescription codes in pictures: scanned pages, phone photos, PDFs and camera frames.

zxing-cpp does the reading. A large picture (a 300 dpi page, a phone photo) is read at half size
first: a printed code's modules are still several pixels wide there, and reading takes a quarter
of the time; only if that finds nothing is the full picture read. A JPEG is decoded straight to
grey. (tests/bench/bench_pharmacy.py measures both and the decode rate over degraded pages.)
"""

from __future__ import annotations

import io
import struct
import warnings

import pypdfium2 as pdfium
import zxingcpp
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from clinicdesk.printing import PDFIUM_LOCK
from clinicdesk.printing.raster import PdfTooLarge, render_pages
from clinicdesk.rx.code_text import prescription_code
from clinicdesk.rx.errors import CodeRefused

MAX_FILE_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 80_000_000  # a 300 dpi A3 scan is 35 million
MAX_SIDE = 65535  # the widest or tallest picture zxing-cpp reads
MAX_PDF_PAGES = 10
PDF_DPI = 300
HALF_SIZE_ABOVE = 1200  # shorter side, in pixels
DOUBLE_SIZE_BELOW = 1000  # shorter side, in pixels: an A5 page at 150 dpi or less
QR = zxingcpp.BarcodeFormat.QRCode
# What the counter accepts, and all Pillow may try: never EPS or PostScript (Pillow hands those
# to Ghostscript, inside the process holding the clinic's key) or any other format.
PICTURE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")


class NoCodeFound(CodeRefused):
    def __init__(self) -> None:
        super().__init__(
            "No prescription code was found in this picture. Make sure the whole square code is "
            "in view, sharp and not cut off, or type the reference number printed beside it."
        )


class UnreadablePicture(CodeRefused):
    def __init__(self, why: str) -> None:
        super().__init__(f"This file cannot be read as a picture or PDF: {why}.")


def best_code(texts: list[str]) -> str:
    """A prescription code if the picture has one, else whatever code it has (so the verdict can
    say it is not a prescription), else NoCodeFound."""
    code = prescription_code(texts)
    if code is not None:
        return code
    if texts:
        return texts[0]
    raise NoCodeFound()


def codes_in_image(image: Image.Image) -> list[str]:
    if max(image.size) > MAX_SIDE:
        raise UnreadablePicture("the picture is too large")
    image = _upright(image)
    if image.mode != "L":
        image = image.convert("L")
    if min(image.size) > HALF_SIZE_ABOVE:
        found = _read(image.reduce(2))
        if found:
            return found
    found = _read(image)
    if found or min(image.size) > DOUBLE_SIZE_BELOW:
        return found
    # a low-resolution scan or a distant photo: modules under two pixels wide read more surely
    # once smoothly enlarged
    return _read(image.resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC))


def codes_in_frame(pixels: bytes, width: int, height: int, stride: int) -> list[str]:
    """Codes in one grey camera frame (8 bits a pixel, ``stride`` bytes a row)."""
    sizes_fit = 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and stride >= width
    if not sizes_fit or len(pixels) < stride * height:
        return []
    image = Image.frombuffer("L", (width, height), pixels, "raw", "L", stride, 1)
    return _read(image)


def codes_in_file(data: bytes) -> list[str]:
    """Codes in an image file (PNG, JPEG, TIFF, BMP, WebP, GIF) or a PDF, page by page."""
    if len(data) > MAX_FILE_BYTES:
        raise UnreadablePicture(f"it is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise UnreadablePicture("it is empty")
    if data[:5] == b"%PDF-":
        return _codes_in_pdf(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=PICTURE_FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise UnreadablePicture("the picture is too large")
            image.draft("L", image.size)  # a JPEG decodes straight to grey; others ignore it
            image.load()
    except UnreadablePicture:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadablePicture("it is not a picture of a known kind") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise UnreadablePicture("the picture is damaged or incomplete") from None
    return codes_in_image(image)


def _codes_in_pdf(data: bytes) -> list[str]:
    """The first pages, drawn one at a time within the pixel budget, until one has a code."""
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            raise UnreadablePicture("the PDF is damaged or protected by a password") from None
        try:
            first = range(min(len(document), MAX_PDF_PAGES))
            for image in render_pages(document, PDF_DPI / 72, shrink=True, pages=first):
                found = codes_in_image(image)
                if found:
                    return found
            return []
        except PdfTooLarge as refused:
            raise UnreadablePicture(refused.why) from None
        except pdfium.PdfiumError:  # the file opens but a page is broken
            raise UnreadablePicture("the PDF is damaged") from None
        finally:
            document.close()


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the camera's EXIF says; a damaged EXIF block is ignored (a code reads at any
    rotation, so the picture is still worth trying). An upright picture is not copied: a 300 dpi
    page is 13 MB of pixels."""
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
            return image
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, TypeError, ValueError, struct.error):
        return image


def _read(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image, formats=QR) if b.valid and b.text]

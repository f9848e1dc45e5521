"""A code reads the same however it arrives: typed by the scanner, pasted, in a picture, a PDF or
a camera frame, with the noise each way can add (a byte-order mark, a zero-width space, a line
break, a lower-case prefix, full-width characters)."""

from __future__ import annotations

import io

import pytest
import qrcode
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from clinicdesk.rx.code_text import prescription_code
from clinicdesk.rx.scan import best_code, codes_in_file, codes_in_frame
from clinicdesk.services.pharmacy_views import CAMERA, PASTED, PICTURE, SCANNER
from tests.pharmacy.pharmacy_setup import counter_fixture, encoded

counter = counter_fixture(scope="module")

FULL_WIDTH = str.maketrans("0123456789RX", "０１２３４５６７８９ＲＸ")


def variants(code: str) -> dict[str, str]:
    body = code[3:]
    return {
        "byte-order mark": "\ufeff" + code,
        "lower-case prefix": "rx1" + body,
        "mixed-case prefix, tabs and a line break": "\tRx1" + body + "\r\n",
        "zero-width spaces": "\u200b" + code[:40] + "\u200b" + code[40:] + "\u2060",
        "full width": code.translate(FULL_WIDTH),
    }


CASES = list(variants("RX1").keys())


def qr_picture(text: str) -> Image.Image:
    return qrcode.make(text.encode("utf-8"), border=4).get_image().convert("L")


def beside_a_web_address(text: str) -> Image.Image:
    """The code printed to the right of another code (a web address), as on a leaflet."""
    other, code = qr_picture("https://example.org/leaflet"), qr_picture(text)
    sheet = Image.new("L", (other.width + code.width, max(other.height, code.height)), 255)
    sheet.paste(other, (0, 0))
    sheet.paste(code, (other.width, 0))
    return sheet


def pdf_of(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(420, 420))
    canvas.drawImage(ImageReader(picture.convert("RGB")), 10, 10, 400, 400)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def genuine(counter, text: str, method: str) -> None:
    ph = counter.pharmacist
    verdict = ph.pharmacy.scan(ph.actor, text, method)
    assert verdict.content.reference == counter.rx.reference
    assert verdict.code == counter.rx.code  # kept as printed, whatever noise it came with


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("method", [SCANNER, PASTED])
def test_typed_or_pasted_text_with_noise_is_the_same_prescription(counter, case, method):
    genuine(counter, variants(counter.rx.code)[case], method)


@pytest.mark.parametrize("case", CASES)
def test_a_picture_with_the_code_beside_another_code_reads_as_the_prescription(counter, case):
    picture = beside_a_web_address(variants(counter.rx.code)[case])
    genuine(counter, best_code(codes_in_file(encoded(picture, "PNG"))), PICTURE)


@pytest.mark.parametrize("case", CASES)
def test_a_pdf_holding_the_code_reads_as_the_prescription(counter, case):
    picture = beside_a_web_address(variants(counter.rx.code)[case])
    genuine(counter, best_code(codes_in_file(pdf_of(picture))), PICTURE)


@pytest.mark.parametrize("case", CASES)
def test_a_camera_frame_holding_the_code_reads_as_the_prescription(counter, case):
    picture = beside_a_web_address(variants(counter.rx.code)[case])
    found = prescription_code(codes_in_frame(picture.tobytes(), *picture.size, picture.width))
    assert found is not None
    genuine(counter, found, CAMERA)


@pytest.mark.parametrize(
    "noise",
    [
        lambda r: "\ufeff" + r,
        lambda r: f"{r[:4]}\u200b {r[4:8]}-{r[8:]}\r\n",
        lambda r: r.translate(FULL_WIDTH),
        lambda r: f"{r[:4]}－{r[4:8]}－{r[8:]}",  # full-width dashes
    ],
    ids=["byte-order mark", "zero-width space and dash", "full width", "full-width dashes"],
)
def test_the_reference_number_with_noise_finds_the_prescription(counter, noise):
    ph = counter.pharmacist
    verdict = ph.pharmacy.look_up(ph.actor, noise(counter.rx.reference))
    assert verdict.content.reference == counter.rx.reference

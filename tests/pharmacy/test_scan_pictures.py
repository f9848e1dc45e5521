"""Prescriptions read from pictures: a scanned page, a PDF, a crooked phone photo."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageOps
from PIL.TiffImagePlugin import IFDRational

from clinicdesk.rx.scan import (
    NoCodeFound,
    UnreadablePicture,
    best_code,
    codes_in_file,
    codes_in_frame,
)
from clinicdesk.services.pharmacy_views import PICTURE
from tests.pharmacy.pharmacy_setup import (
    counter_fixture,
    encoded,
    page_picture,
    phone_photo,
)

counter = counter_fixture(scope="module")


@pytest.fixture(scope="module")
def pdf(counter) -> bytes:
    return counter.doctor.prescriptions.pdf(counter.doctor.actor, counter.rx.id)


@pytest.fixture(scope="module")
def page(pdf) -> Image.Image:
    return page_picture(pdf)


def read(data: bytes) -> str:
    return best_code(codes_in_file(data))


def test_the_pdf_and_a_300_dpi_scan_read_as_the_prescription(counter, pdf, page):
    assert read(pdf) == counter.rx.code
    assert read(encoded(page, "PNG", dpi=(300, 300))) == counter.rx.code
    ph = counter.pharmacist
    verdict = ph.pharmacy.scan(ph.actor, read(pdf), PICTURE)
    assert verdict.content.patient_name == "Νίκος Παπαδόπουλος"
    assert verdict.history[0].method_label == "Picture or PDF"


def test_a_crooked_rough_phone_photo_still_reads(counter, page):
    photo = phone_photo(page)
    assert photo[:2] == b"\xff\xd8"
    assert read(photo) == counter.rx.code


def test_a_camera_frame_reads(counter, page):
    width, height = page.size
    stride = width + 3  # rows padded, as camera buffers often are
    rows = page.tobytes()
    padded = b"".join(rows[y * width : (y + 1) * width] + b"\0\0\0" for y in range(height))
    assert codes_in_frame(padded, width, height, stride) == [counter.rx.code]


def test_a_picture_without_a_code_says_so():
    blank = Image.new("L", (800, 600), 255)
    ImageDraw.Draw(blank).text((40, 40), "Paracetamol 500 mg", fill=0)
    with pytest.raises(NoCodeFound) as caught:
        read(encoded(blank, "PNG"))
    assert "type the reference number" in caught.value.message


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "it is empty"),
        (b"GIF89a not really", "not a picture of a known kind"),
        (b"%PDF-1.7 and nothing more", "the PDF is damaged"),
    ],
)
def test_a_file_that_is_no_picture_is_refused_in_words(data, why):
    with pytest.raises(UnreadablePicture) as caught:
        codes_in_file(data)
    assert why in caught.value.message
    assert caught.value.message.startswith("This file cannot be read as a picture or PDF")


def test_a_damaged_picture_is_refused_in_words(page):
    png = encoded(page, "PNG")
    with pytest.raises(UnreadablePicture) as caught:
        codes_in_file(png[: len(png) // 3])
    assert "damaged or incomplete" in caught.value.message


def test_a_pdf_whose_page_is_broken_is_refused_in_words(pdf):
    broken = pdf.replace(b"/Type /Page\n", b"/Type /Xage\n", 1)
    assert broken != pdf
    with pytest.raises(UnreadablePicture) as caught:
        codes_in_file(broken)
    assert "the PDF is damaged" in caught.value.message


def test_a_photo_whose_camera_data_is_damaged_still_reads(counter, page):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: taken sideways
    exif[0x011A] = IFDRational(300, 1)  # resolution, a fraction ...
    damaged = exif.tobytes().replace(b"\x01\x1a\x00\x05", b"\x01\x1a\x00\x02")  # ... as text
    photo = encoded(page.convert("RGB"), "JPEG", quality=80, exif=damaged)
    with pytest.raises(TypeError):  # what the picture library makes of it
        ImageOps.exif_transpose(Image.open(io.BytesIO(photo)))
    assert read(photo) == counter.rx.code


def test_a_picture_too_wide_to_read_is_refused_in_words():
    strip = encoded(Image.new("L", (70_000, 2), 255), "PNG")
    with pytest.raises(UnreadablePicture) as caught:
        codes_in_file(strip)
    assert "too large" in caught.value.message
    assert codes_in_frame(bytes(140_000), 70_000, 2, 70_000) == []

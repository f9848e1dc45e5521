"""Fuzzing every way a code reaches the counter: scanned or typed text, picture files, camera
frames and typed references. The answer is a verdict or a refusal in words, never a crash."""

from __future__ import annotations

import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from clinicdesk.errors import LookupsPaused, NotFound, ValidationError
from clinicdesk.rx import reference
from clinicdesk.rx.errors import CodeRefused
from clinicdesk.rx.scan import QR, best_code, codes_in_file, codes_in_frame
from clinicdesk.services.pharmacy_views import CAMERA, PICTURE, SCANNER, Verdict
from tests.pharmacy.pharmacy_setup import (
    Counter,
    counter_fixture,
    encoded,
    page_picture,
)

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FILES = settings(FUZZ, max_examples=40)
TYPED_ERRORS = (CodeRefused, ValidationError, NotFound, LookupsPaused)
MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"%PDF-1.4\n", b"GIF89a", b"BM", b"II*\0"]


PHONE_EXIF = Image.Exif()
PHONE_EXIF.update({0x0112: 6, 0x010F: "Phone", 0x011A: IFDRational(72, 1)})  # taken sideways


counter = counter_fixture(scope="module")


@pytest.fixture(scope="module")
def pictures(counter) -> dict[str, bytes]:
    """The prescription as a PDF, and its code cut from a 300 dpi scan as PNG, JPEG and WebP
    (some with a phone's EXIF block)."""
    pdf = counter.doctor.prescriptions.pdf(counter.doctor.actor, counter.rx.id)
    page = page_picture(pdf)
    [found] = zxingcpp.read_barcodes(page, formats=QR)
    xs = [p.x for p in (found.position.top_left, found.position.bottom_right)]
    ys = [p.y for p in (found.position.top_left, found.position.bottom_right)]
    code = page.crop((min(xs) - 40, min(ys) - 40, max(xs) + 40, max(ys) + 40))
    return {
        "pdf": pdf,
        "png": encoded(code, "PNG"),
        "jpeg": encoded(code, "JPEG", quality=85),
        "photo": encoded(code, "JPEG", quality=85, exif=PHONE_EXIF.tobytes()),
        "webp": encoded(code, "WEBP", exif=PHONE_EXIF.tobytes()),
        "frame": code.tobytes(),
        "frame size": bytes(code.size[0].to_bytes(2) + code.size[1].to_bytes(2)),
    }


def frame_size(pictures: dict[str, bytes]) -> tuple[int, int]:
    size = pictures["frame size"]
    return int.from_bytes(size[:2]), int.from_bytes(size[2:])


def answer(call, *args):
    """What the counter shows: the result, or a typed refusal with words (anything else fails)."""
    try:
        return call(*args)
    except TYPED_ERRORS as refused:
        assert refused.message.strip()
        return refused


@st.composite
def edited(draw, original: str | bytes):
    """The original with a few pieces cut out, replaced or added (a misread, a bad copy)."""
    data = original
    filler = st.text("0123456789", max_size=8) if isinstance(data, str) else st.binary(max_size=8)
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + draw(st.sampled_from([1, 4, 10**9])))))
        data = data[:start] + draw(filler) + data[end:]
    return data


def scanned(counter: Counter, text: str, method: str = SCANNER):
    ph = counter.pharmacist
    result = answer(ph.pharmacy.scan, ph.actor, text, method)
    if isinstance(result, Verdict):
        assert text.strip().upper() == counter.rx.code  # a scanner may send "rx1..."
        assert result.content.prescription_id == counter.rx.id
    else:
        assert isinstance(result, CodeRefused)
    return result


@FUZZ
@given(st.data())
def test_any_scanned_text_is_a_verdict_only_for_the_real_code(counter, data):
    code = counter.rx.code
    text = data.draw(
        st.text(max_size=300)
        | st.text("0123456789", max_size=2000).map(lambda d: "RX1" + d)
        | edited(code)
        | st.sampled_from([code, f"  {code}\n", code.lower()])
    )
    scanned(counter, text)


@FUZZ
@given(st.text(max_size=40) | st.integers(0, 10**10 - 1).map(lambda n: f"{n:010d}"))
def test_any_typed_reference_is_found_or_refused(counter, typed):
    ph = counter.pharmacist
    for text in (
        typed,
        typed + reference.check_digits(typed) if typed.isascii() and typed.isdigit() else typed,
    ):
        result = answer(ph.pharmacy.look_up, ph.actor, text)
        if isinstance(result, Verdict):
            assert reference.normalize(text) == counter.rx.reference
        else:
            # a fuzzer is a guesser: after five wrong numbers the look-ups pause
            assert isinstance(result, ValidationError | NotFound | LookupsPaused)


def picture_answer(counter: Counter, data: bytes):
    found = answer(codes_in_file, data)
    if isinstance(found, CodeRefused):
        return found
    assert isinstance(found, list) and all(isinstance(t, str) for t in found)
    text = answer(best_code, found)
    return text if isinstance(text, CodeRefused) else scanned(counter, text, PICTURE)


@FILES
@given(st.sampled_from(MAGIC), st.binary(max_size=3000))
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's note on a damaged TIFF
def test_any_bytes_as_a_picture_file_are_refused_in_words(counter, magic, data):
    assert isinstance(picture_answer(counter, magic + data), CodeRefused)


@FILES
@given(st.data(), st.sampled_from(["png", "jpeg", "photo", "webp"]))
def test_a_damaged_picture_of_the_code_reads_true_or_is_refused(counter, pictures, data, kind):
    original = pictures[kind]
    damaged = data.draw(
        edited(original) | st.integers(0, len(original)).map(lambda n: original[:n])
    )
    result = picture_answer(counter, damaged)
    assert isinstance(result, Verdict | CodeRefused)


@settings(FILES, max_examples=15)
@given(st.data())
def test_a_damaged_pdf_of_the_prescription_reads_true_or_is_refused(counter, pictures, data):
    pdf = pictures["pdf"]
    damaged = data.draw(edited(pdf) | st.integers(0, len(pdf)).map(lambda n: pdf[:n]))
    result = picture_answer(counter, damaged)
    assert isinstance(result, Verdict | CodeRefused)


@FUZZ
@given(
    st.binary(max_size=5000),
    st.integers(-3, 120),
    st.integers(-3, 120),
    st.integers(-3, 140),
)
def test_any_camera_frame_gives_codes_or_none(pixels, width, height, stride):
    found = codes_in_frame(pixels, width, height, stride)
    assert isinstance(found, list) and all(isinstance(t, str) for t in found)


@settings(FUZZ, max_examples=40)
@given(st.data())
def test_a_real_frame_with_wrong_sizes_gives_codes_or_none(counter, pictures, data):
    width, height = frame_size(pictures)
    pixels = pictures["frame"]
    w = data.draw(st.sampled_from([width, width - 1, width + 1, width // 2, 0, -1]))
    h = data.draw(st.sampled_from([height, height - 1, height + 1, height // 2, 0]))
    stride = data.draw(st.sampled_from([w, width, width + 7, w - 1]))
    found = codes_in_frame(pixels, w, h, stride)
    assert isinstance(found, list)
    if (w, h, stride) == (width, height, width):
        assert found == [counter.rx.code]


def test_the_cut_out_code_reads(counter, pictures):
    assert best_code(codes_in_file(pictures["png"])) == counter.rx.code
    width, height = frame_size(pictures)
    image = Image.frombytes("L", (width, height), pictures["frame"])
    assert codes_in_frame(image.tobytes(), width, height, width) == [counter.rx.code]
    assert isinstance(scanned(counter, counter.rx.code, CAMERA), Verdict)

"""Names in scripts the embedded font cannot draw (or reportlab cannot set right to left) print
as their Latin transliteration, the document says so, the print dialog is warned beforehand,
and the signed code keeps the name as written."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from reportlab.pdfbase.ttfonts import TTFont
from unidecode import unidecode

from clinicdesk.paths import RESOURCES
from clinicdesk.printing import pharmacy_pdf
from tests import pdf_pages
from tests.printing.items import items

NAMES = {  # script: (given name, family name)
    "Chinese": ("小明", "王"),
    "Japanese": ("さくら", "山田"),
    "Korean": ("민준", "김"),
    "Arabic": ("محمد", "العلي"),
    "Hebrew": ("שרה", "כהן"),
    "Devanagari": ("अनीता", "शर्मा"),
    "Thai": ("สมชาย", "ใจดี"),
}
FONT_CHARS = {
    name: set(TTFont(name, str(RESOURCES / "fonts" / f"{name}.ttf")).face.charToGlyph)
    for name in ("DejaVuSans", "DejaVuSans-Bold")
}


def undrawable_in(text: str) -> list[str]:
    """Characters the embedded fonts have no glyph for, or that read right to left."""
    return [
        ch
        for ch in text
        if not ch.isspace()
        and (
            any(ord(ch) not in chars for chars in FONT_CHARS.values())
            or unicodedata.bidirectional(ch) in ("R", "AL")
        )
    ]


def as_printed(name: str) -> str:
    return " ".join(unidecode(name).split())


@pytest.mark.parametrize("script", NAMES)
def test_a_prescription_prints_the_name_transliterated_and_the_code_keeps_it(clinic, script):
    admin, doctor = clinic.admin, clinic.doctor
    record = admin.patients.get(admin.actor, clinic.patient_id)
    given, family = NAMES[script]
    data = replace(record.as_input(), given_name=given, family_name=family)
    admin.patients.update(admin.actor, record.id, data, record.version)
    rx = doctor.prescriptions.write(doctor.actor, clinic.visit.id, items(2))
    name = f"{given} {family}"
    assert rx.patient_name == name

    pdf = doctor.prescriptions.pdf(doctor.actor, rx.id, "A5")
    printed = pdf_pages.read(pdf)
    assert undrawable_in("".join(printed.texts)) == []
    assert as_printed(name) in printed.texts[0]
    assert "Name as transliterated" in printed.texts[0]
    [code] = pdf_pages.qr_codes(pdf_pages.page_images(pdf, 200, grey=True)[0])
    assert doctor.prescriptions.verify_code(doctor.actor, code).content.patient_name == name

    warned = doctor.prescriptions.print_warnings(doctor.actor, rx.id)
    assert len(warned) == 1 and name in warned[0] and as_printed(name) in warned[0]
    assert "patient's name" in warned[0] and "transliteration" in warned[0]


@pytest.mark.parametrize("script", NAMES)
def test_labels_and_receipts_print_the_name_transliterated_and_say_so(dispensed, script):
    name = " ".join(NAMES[script])
    view = replace(dispensed, patient_name=name)
    for pdf in (pharmacy_pdf.labels(view), pharmacy_pdf.receipt(view)):
        printed = pdf_pages.read(pdf)
        assert undrawable_in("".join(printed.texts)) == []
        for text in printed.texts:
            assert f"{as_printed(name)} (name as transliterated)" in text
    warned = pharmacy_pdf.print_warnings(view)
    assert len(warned) == 1 and name in warned[0] and as_printed(name) in warned[0]


def test_latin_greek_and_cyrillic_names_print_as_written_without_a_warning(dispensed):
    for name in ("Zoë Ní Bhriain", "Νίκος Παπαδόπουλος", "Анна Кузнецова"):
        view = replace(dispensed, patient_name=name)
        assert pharmacy_pdf.print_warnings(view) == []
        assert name in pdf_pages.read(pharmacy_pdf.labels(view)).texts[0]

"""A prescription's pages: six items fit one A4 page, and where a prescription takes more than
one page, each page carries the code (so a photo of any page verifies) and says which page."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PIL import Image

from clinicdesk.printing import prescription_pdf
from clinicdesk.rx.scan import codes_in_image
from clinicdesk.services.prescription_views import PrescriptionView
from tests import pdf_pages
from tests.printing.items import items


def write(clinic, count: int) -> PrescriptionView:
    doctor = clinic.doctor
    return doctor.prescriptions.write(doctor.actor, clinic.visit.id, items(count))


@pytest.fixture(scope="module")
def six(clinic) -> PrescriptionView:
    return write(clinic, 6)


@pytest.fixture(scope="module")
def ten(clinic) -> PrescriptionView:
    return write(clinic, 10)


def test_six_items_with_long_directions_fit_one_a4_page(clinic, six):
    doctor = clinic.doctor
    printed = pdf_pages.read(doctor.prescriptions.pdf(doctor.actor, six.id, "A4"))
    assert len(printed.texts) == 1
    for item in six.items:
        assert item.instructions in printed.texts[0]
    assert six.reference_grouped in printed.texts[0]


@pytest.mark.parametrize("page_size", ["A5", "A4"])
def test_every_page_of_a_long_prescription_carries_the_code_and_its_page_number(
    clinic, ten, page_size
):
    doctor = clinic.doctor
    pdf = doctor.prescriptions.pdf(doctor.actor, ten.id, page_size)
    printed = pdf_pages.read(pdf)
    pages = len(printed.texts)
    if page_size == "A5":
        assert pages > 1  # ten items take more than one A5 page
    images = pdf_pages.page_images(pdf, 200, grey=True)
    for number, (text, image) in enumerate(zip(printed.texts, images, strict=True)):
        assert f"Page {number + 1} of {pages}" in text
        assert ten.reference_grouped in text
        [code] = pdf_pages.qr_codes(image)
        verified = doctor.prescriptions.verify_code(doctor.actor, code)
        assert verified.local is not None and verified.local.id == ten.id
    every_item = " ".join(printed.texts)
    for item in ten.items:
        assert every_item.count(item.instructions) == 1  # each item once, none dropped


@pytest.mark.parametrize("count", [1, 3, 6])
def test_an_a5_page_reads_from_a_low_resolution_scan(clinic, count):
    """A pharmacy's cheap scanner or a distant phone photo: the code reads from 60 to 90 dpi (a
    fifth to under a third of a 300 dpi scan), wherever its modules fall on the pixel grid."""
    rx = write(clinic, count)
    missed = []
    for name in ("Νίκος Παπαδόπουλος", "Anna Smith", "Zoë Ní Bhriain", "Иван Петров", "Li Wei"):
        pdf = prescription_pdf.render(replace(rx, patient_name=name))
        page = pdf_pages.page_images(pdf, 300, grey=True)[0]
        for factor in (0.2, 0.22, 0.24, 0.25, 0.26, 0.28, 0.3):
            size = (round(page.width * factor), round(page.height * factor))
            if rx.code not in codes_in_image(page.resize(size, Image.Resampling.BOX)):
                missed.append((name, factor))
    assert missed == []

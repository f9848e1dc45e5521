"""Labels and receipts as printed, read back with pypdfium2: what the patient takes home."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from clinicdesk.printing import pharmacy_pdf
from clinicdesk.services.pharmacy_views import DispenseInput, DispenseView
from tests.pharmacy.pharmacy_setup import counter_fixture
from tests.printing import pdf_pages

counter = counter_fixture(scope="module")


@pytest.fixture(scope="module")
def given(counter) -> DispenseView:
    ph, b = counter.pharmacist, counter.batches
    lines = [
        DispenseInput(1, b["ibuprofen_soon"].id, 10),
        DispenseInput(2, b["omeprazole"].id, 28),
        DispenseInput(3, b["salbutamol"].id, 1),
    ]
    return ph.pharmacy.dispense(ph.actor, counter.rx.code, lines)


def pdf_text(data: bytes) -> list[str]:
    """Each page's text, runs of spaces and line breaks as one space."""
    return pdf_pages.read(data).texts


def words_outside_the_page(data: bytes) -> list[str]:
    """Characters that run past a page's edge (cut off on paper)."""
    return [g.char for g in pdf_pages.read(data).outside()]


def day(d) -> str:
    return f"{d.day} {d:%b %Y}"


def test_one_label_per_item_given_with_patient_drug_directions_batch_and_expiry(counter, given):
    pdf = counter.pharmacist.pharmacy.labels_pdf(counter.pharmacist.actor, given.id)
    pages = pdf_text(pdf)
    assert len(pages) == 3
    for page, line in zip(pages, given.lines, strict=True):
        assert "Νίκος Παπαδόπουλος" in page
        assert f"{line.quantity} {line.unit} {line.given}" in page
        assert line.directions in page
        assert f"Batch {line.batch_number}" in page
        assert f"Expires {day(line.expiry)}" in page
        assert given.reference_grouped in page
        assert "Sunrise Family Clinic" in page
        assert "Keep out of the sight and reach of children." in page
    assert "Take 1 tablet by mouth three times a day for 5 days." in pages[0]
    assert "Take with or after food." in pages[0]  # the prescriber's own words too
    assert "Shake well before use." in pages[2]
    assert words_outside_the_page(pdf) == []


def test_the_receipt_lists_each_line_its_price_and_the_total(counter, given):
    pdf = counter.pharmacist.pharmacy.receipt_pdf(counter.pharmacist.actor, given.id)
    [page] = pdf_text(pdf)
    assert "Patient Νίκος Παπαδόπουλος" in page
    assert "Dispensed by Priya Shah" in page
    assert f"Prescription {given.reference_grouped} (Sunrise Family Clinic)" in page
    for text, price in [
        ("Ibuprofen 400 mg tablet × 10 tablets", "£1.20"),
        ("Omeprazole 20 mg capsule × 28 capsules", "£5.60"),
        ("Salbutamol 100 micrograms per dose inhaler × 1 inhaler", "£4.50"),
    ]:
        assert re.search(rf"{re.escape(text)}.*?{re.escape(price)}", page), (text, page)
    assert "Batch IBU-SOON, exp." in page
    assert re.search(r"Total £11\.30", page)
    assert words_outside_the_page(pdf) == []


LONG = "Αικατερίνη-Παρασκευή Χατζηδημητρίου-Παπαγεωργοπούλου Konstantinopoulou-Vasilakopoulou"


def test_a_long_name_and_long_directions_are_wrapped_not_cut_off(given):
    long = replace(
        given,
        patient_name=LONG,
        issuing_clinic="The Royal Borough Community Health and Wellbeing Partnership Clinic",
        pharmacy_name="St Bartholomew-the-Great Community Pharmacy and Dispensary Services",
        lines=tuple(
            replace(line, batch_number="BATCH-2026-11-000123456789-A") for line in given.lines
        ),
    )
    for pdf, also in (
        (pharmacy_pdf.labels(long), "Dispensary"),
        (pharmacy_pdf.receipt(long), "Partnership"),
    ):
        assert words_outside_the_page(pdf) == []
        text = " ".join(pdf_text(pdf))
        for word in (*LONG.split(), "BATCH-2026-11-000123456789-A", also):
            assert word in text


INHALER = "Fluticasone and salmeterol 250 micrograms/25 micrograms per dose pressurised inhalation"
ADVICE = (
    "Rinse your mouth with water after each use. Do not stop suddenly. Bring the inhaler to "
    "every review. Seek urgent help if breathless at rest. Keep a spare at school. "
)


def test_a_long_drug_and_directions_are_never_cut_off_they_go_on_to_another_label(given):
    first = given.lines[0]
    for directions, labels in ((ADVICE, 1), ("Take 2 puffs twice a day. " + ADVICE * 4, 2)):
        long = replace(given, lines=(replace(first, given=INHALER, directions=directions),))
        pdf = pharmacy_pdf.labels(long)
        pages = pdf_text(pdf)
        assert len(pages) == labels
        text = " ".join(pages)
        assert f"{first.quantity} {first.unit} {INHALER}" in pages[0]  # whole, however long
        assert text.count("Keep a spare at school.") == directions.count("Keep a spare")
        assert all(f"Batch {first.batch_number}" in page for page in pages)  # each names it
        assert words_outside_the_page(pdf) == []
    assert "(continued)" in pages[1]

"""Every printed document with the longest values validation allows in every field: each drawn
character lies inside its page's margin, none is drawn over another, and every word given is
printed (nothing dropped)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from clinicdesk.errors import ValidationError
from clinicdesk.money import money_text
from clinicdesk.printing import pharmacy_pdf, prescription_pdf
from clinicdesk.services.inventory import BatchInput
from clinicdesk.services.pharmacy_views import DispenseView
from clinicdesk.services.prescription_checks import MAX_ITEMS, MAX_QUANTITY
from clinicdesk.services.prescription_views import PrescriptionView
from tests import pdf_pages
from tests.printing.items import items
from tests.printing.longest import code, longest

REAL_NAME = (
    "María-Alejandra Guadalupe de los Ángeles Fernández de Córdoba y Montenegro-Villavicencio "
    "Ortega"
)
PATIENT = f"{longest(100, REAL_NAME)} {longest(100, 'Montenegro-Villavicencio')}"
CLINIC = longest(200, "The Royal Borough Community Health and Wellbeing Partnership Clinic")
ADDRESS = longest(500, "Unit 14B, Second Floor, Saint Bartholomew-the-Great Medical Centre")
PHONE = "+44 (0) 20 7946 0000 / 0001"
DOCTOR = longest(200, "Dr")
LICENCE = code(60, "GMC")
DRUG = longest(120, "Fluticasone and salmeterol")
STRENGTH = longest(60, "250 micrograms/25 micrograms per dose")
FORM = longest(60, "pressurised inhalation suspension")
UNIT = longest(40, "metered-dose inhalers")
DIRECTIONS = longest(260, "Take 2 puffs inhaled twice a day for 28 days.")
INSTRUCTIONS = longest(300, "Rinse your mouth with water after each use.")
BATCH = code(60, "BATCH")
PHARMACIST = longest(200, "Priya")
BIGGEST = 100_000_000 * MAX_QUANTITY  # the highest unit price times the most units


def as_many_as_allowed(line):
    """The most lines a prescription or dispense may have, each a copy of ``line``."""
    return tuple(replace(line, line=n) for n in range(1, MAX_ITEMS + 1))


def longest_prescription(rx: PrescriptionView) -> PrescriptionView:
    item = replace(
        rx.items[0],
        drug=DRUG,
        strength=STRENGTH,
        form=FORM,
        unit=UNIT,
        quantity=MAX_QUANTITY,
        refills=12,
        directions=DIRECTIONS,
        instructions=INSTRUCTIONS,
    )
    return replace(
        rx,
        patient_name=PATIENT,
        doctor_name=DOCTOR,
        doctor_licence=LICENCE,
        clinic_name=CLINIC,
        clinic_address=ADDRESS,
        clinic_phone=PHONE,
        items=as_many_as_allowed(item),
    )


def longest_dispense(v: DispenseView) -> DispenseView:
    line = replace(
        v.lines[0],
        given=f"{DRUG} {STRENGTH} {FORM}",
        prescribed=f"{DRUG} {STRENGTH} {FORM}",
        substituted=True,
        batch_number=BATCH,
        quantity=MAX_QUANTITY,
        unit=UNIT,
        unit_price=100_000_000,
        price=BIGGEST,
        directions=f"{DIRECTIONS} {INSTRUCTIONS}",
    )
    return replace(
        v,
        patient_name=PATIENT,
        issuing_clinic=CLINIC,
        pharmacy_name=CLINIC,
        pharmacy_address=ADDRESS,
        pharmacy_phone=PHONE,
        by=PHARMACIST,
        lines=as_many_as_allowed(line),
        total=BIGGEST * MAX_ITEMS,
    )


def assert_all_inside_and_whole(pdf: bytes, margin: float, *values: str) -> None:
    printed = pdf_pages.read(pdf)
    outside = printed.outside(margin)
    assert outside == [], f"{len(outside)} characters outside the margin, e.g. {outside[:3]}"
    overlapping = printed.overlapping()
    assert overlapping == [], f"{len(overlapping)} characters over others, e.g. {overlapping[:2]}"
    text = "".join("".join(printed.texts).split())
    missing = [w for v in values for w in v.split() if "".join(w.split()) not in text]
    assert missing == []


@pytest.fixture(scope="module")
def written(clinic) -> PrescriptionView:
    doctor = clinic.doctor
    return doctor.prescriptions.write(doctor.actor, clinic.visit.id, items(3))


@pytest.mark.parametrize("page_size", ["A5", "A4"])
def test_a_prescription_with_the_longest_values_stays_inside_its_margins(written, page_size):
    pdf = prescription_pdf.render(longest_prescription(written), page_size)
    margin = prescription_pdf._Layout(page_size).margin
    assert_all_inside_and_whole(
        pdf, margin, PATIENT, CLINIC, ADDRESS, DOCTOR, LICENCE, DRUG, DIRECTIONS, INSTRUCTIONS
    )


@pytest.mark.parametrize("page_size", ["A5", "A4"])
def test_the_real_95_character_name_prints_whole_inside_the_page(written, page_size):
    assert len(REAL_NAME) == 95
    pdf = prescription_pdf.render(replace(written, patient_name=REAL_NAME), page_size)
    assert_all_inside_and_whole(pdf, prescription_pdf._Layout(page_size).margin, REAL_NAME)


def test_labels_with_the_longest_values_stay_inside_the_label(dispensed):
    pdf = pharmacy_pdf.labels(longest_dispense(dispensed))
    assert_all_inside_and_whole(
        pdf, pharmacy_pdf.MARGIN, PATIENT, CLINIC, DRUG, DIRECTIONS, INSTRUCTIONS, BATCH
    )


def test_a_receipt_with_the_longest_values_stays_inside_the_roll(dispensed):
    long = longest_dispense(dispensed)
    pdf = pharmacy_pdf.receipt(long)
    assert_all_inside_and_whole(
        pdf, pharmacy_pdf.MARGIN, PATIENT, CLINIC, ADDRESS, PHARMACIST, DRUG, BATCH
    )
    printed = pdf_pages.read(pdf)
    for amount in (long.lines[0].price, long.total):  # each line's price and the total, whole
        assert money_text(amount, long.currency).replace(" ", "") in printed.texts[0]


def test_what_is_printed_has_a_length_limit_and_a_longer_value_changes_nothing(counter, clinic):
    """The limits above are real: one character more is refused with the reason in words."""
    ph = counter.pharmacist
    [batch] = [b for b in ph.inventory.batches(ph.actor) if b.batch_number == "IBU-LATE"]
    before = {b.batch_number for b in ph.inventory.batches(ph.actor, include_empty=True)}
    for field, value in (("batch_number", BATCH + "7"), ("strength", "4" * 61), ("form", "t" * 61)):
        delivery = BatchInput(
            batch.drug_id, BATCH, batch.expiry, 1, 1, 2, strength="400 mg", form="tablet"
        )
        with pytest.raises(ValidationError, match="at most 60 characters") as refused:
            ph.inventory.receive(ph.actor, replace(delivery, **{field: value}))
        assert field in refused.value.fields
    assert {b.batch_number for b in ph.inventory.batches(ph.actor, include_empty=True)} == before
    admin = clinic.admin
    details = admin.clinic.details()
    with pytest.raises(ValidationError, match="at most 500 characters"):
        admin.clinic.update(admin.actor, replace(details, address=ADDRESS + "x"))
    assert admin.clinic.details() == details

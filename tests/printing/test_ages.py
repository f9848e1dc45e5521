"""A baby's age on the printed prescription and label: days or months, never "0 years"."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import replace
from datetime import date, timedelta

import pytest

from clinicdesk.printing import pharmacy_pdf, prescription_pdf
from clinicdesk.services.prescription_views import PrescriptionView
from tests import pdf_pages
from tests.printing.items import items


def months_before(on: date, months: int) -> date:
    year, month = divmod(on.year * 12 + on.month - 1 - months, 12)
    return date(year, month + 1, min(on.day, monthrange(year, month + 1)[1]))


AGES = [  # (how long before the day, what is printed)
    (lambda on: on, "0 days"),
    (lambda on: on - timedelta(days=20), "20 days"),
    (lambda on: months_before(on, 1), "1 month"),
    (lambda on: months_before(on, 23), "23 months"),
    (lambda on: months_before(on, 24), "2 years"),
]


@pytest.fixture(scope="module")
def written(clinic) -> PrescriptionView:
    doctor = clinic.doctor
    return doctor.prescriptions.write(doctor.actor, clinic.visit.id, items(1))


@pytest.mark.parametrize(("born", "said"), AGES)
def test_the_prescription_gives_a_babys_age_on_the_day_it_was_issued(written, born, said):
    baby = replace(written, patient_born=born(written.issued_on))
    [page] = pdf_pages.read(prescription_pdf.render(baby, "A5")).texts
    assert f"({said})" in page
    assert "0 years" not in page


@pytest.mark.parametrize(("born", "said"), AGES)
def test_the_label_and_receipt_give_the_age_on_the_day_of_the_dispense(dispensed, born, said):
    baby = replace(dispensed, patient_born=born(dispensed.at.date()))
    for pdf in (pharmacy_pdf.labels(baby), pharmacy_pdf.receipt(baby)):
        for page in pdf_pages.read(pdf).texts:
            assert f"{baby.patient_name} · {said}" in page

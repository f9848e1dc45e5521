"""Shared by the printing tests: a clinic with a walk-in being seen, and a pharmacy counter
with a dispense made there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clinicdesk.services.pharmacy_views import DispenseInput, DispenseView
from tests.clinical.clinic_setup import Consultation, consultation_in_new_clinic
from tests.pharmacy.pharmacy_setup import counter_fixture

counter = counter_fixture(scope="module")


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[Consultation]:
    with consultation_in_new_clinic(tmp_path_factory.mktemp("printing") / "clinic") as consultation:
        yield consultation


@pytest.fixture(scope="module")
def dispensed(counter) -> DispenseView:
    ph, b = counter.pharmacist, counter.batches
    return ph.pharmacy.dispense(
        ph.actor, counter.rx.code, [DispenseInput(1, b["ibuprofen_soon"].id, 2)]
    )

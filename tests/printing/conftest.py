"""Shared by the printing tests: a clinic with a walk-in being seen, and a pharmacy counter
with a dispense made there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clinicdesk.services.pharmacy_views import DispenseInput, DispenseView
from tests.clinical.clinic_setup import Consultation, new_clinic, walk_in_consultation
from tests.pharmacy.pharmacy_setup import counter_fixture

counter = counter_fixture(scope="module")


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[Consultation]:
    admin = new_clinic(tmp_path_factory.mktemp("printing") / "clinic")
    consultation = walk_in_consultation(admin)
    yield consultation
    consultation.doctor.close()
    admin.close()


@pytest.fixture(scope="module")
def dispensed(counter) -> DispenseView:
    ph, b = counter.pharmacist, counter.batches
    return ph.pharmacy.dispense(
        ph.actor, counter.rx.code, [DispenseInput(1, b["ibuprofen_soon"].id, 2)]
    )

"""A clinic with a walk-in being seen, shared by the prescription printing tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clinical.clinic_setup import Consultation, new_clinic, walk_in_consultation


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[Consultation]:
    admin = new_clinic(tmp_path_factory.mktemp("printing") / "clinic")
    consultation = walk_in_consultation(admin)
    yield consultation
    consultation.doctor.close()
    admin.close()

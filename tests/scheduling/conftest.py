"""A clinic with one general practitioner (see practice.py)."""

from __future__ import annotations

import pytest
from practice import Practice, make_practice

from clinicdesk.services.access import ClinicSession


@pytest.fixture
def practice(admin: ClinicSession) -> Practice:
    return make_practice(admin)

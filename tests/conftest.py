"""Shared fixtures: a real encrypted clinic in a temporary folder, and signed-in staff."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# windows are tested on the screen a clinic desk has: 1366 x 768
os.environ.setdefault(
    "QT_QPA_PLATFORM",
    f"offscreen:configfile={os.path.join(os.path.dirname(__file__), 'offscreen_screen.json')}",
)

from clinicdesk.permissions import Role
from clinicdesk.services.access import (
    AdminAccount,
    ClinicSession,
    SetupResult,
    create_clinic,
    sign_in,
)
from clinicdesk.services.clinic import ClinicDetails
from clinicdesk.store.keyslots import KdfParams

# This computer's desk id (clinicdesk.store.desk) lives in the account's state folder: the suite
# keeps its own, so a run never writes into the home folder of whoever runs it.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="clinicdesk-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)

# 64 MiB as in production, one pass: keeps each unlock near 0.1 s in tests.
FAST_KDF = KdfParams(time_cost=1)
ADMIN_PASSWORD = "correct horse battery"
STAFF_PASSWORD = "staff password 1"
DETAILS = ClinicDetails(
    name="Sunrise Family Clinic",
    address="12 Harbour Road, Springfield",
    phone="+44 20 7946 0000",
    time_zone="Europe/London",
    currency="GBP",
)


@pytest.fixture
def fast_kdf() -> KdfParams:
    return FAST_KDF


@pytest.fixture
def clinic_dir(tmp_path: Path) -> tuple[Path, SetupResult]:
    folder = tmp_path / "clinic"
    result = create_clinic(
        folder, DETAILS, AdminAccount("admin", "Ada Admin", ADMIN_PASSWORD), kdf=FAST_KDF
    )
    return folder, result


@pytest.fixture
def admin(clinic_dir) -> Iterator[ClinicSession]:
    session = sign_in(clinic_dir[0], "admin", ADMIN_PASSWORD)
    yield session
    session.close()


@pytest.fixture
def staff(admin: ClinicSession):
    """``staff(Role.DOCTOR)`` signs in a new active account with that role (password chosen)."""
    opened: list[ClinicSession] = []

    def make(*roles: Role, username: str | None = None) -> ClinicSession:
        name = username or "-".join(r.value for r in roles)
        admin.users.create(
            admin.actor,
            name,
            name.title(),
            set(roles),
            STAFF_PASSWORD,
            must_change_password=False,
        )
        session = sign_in(admin.folder, name, STAFF_PASSWORD)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()

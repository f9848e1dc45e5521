"""The demo clinic: its details, its staff, and making it (or opening it again) in a folder.

100,000 patients take well under a minute (one bulk import).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from clinicdesk.demo.clinical import add_clinical, open_todays_visits
from clinicdesk.demo.people import PeopleGenerator
from clinicdesk.demo.pharmacy import add_pharmacy
from clinicdesk.demo.schedule import add_schedule
from clinicdesk.demo.today import open_today
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Role
from clinicdesk.services.access import (
    AdminAccount,
    FolderState,
    create_clinic,
    folder_state,
    sign_in,
)
from clinicdesk.services.clinic import ClinicDetails
from clinicdesk.store.keyslots import KdfParams

DEMO_PASSWORD = "demo-password"
DEMO_CLINIC = ClinicDetails(
    name="Riverside Family Practice",
    address="14 Wharf Street, London SE1 9PX",
    phone="+44 20 7946 0321",
    time_zone="Europe/London",
    currency="GBP",
)
# (role, user name, full name); the first is the super admin created with the clinic.
DEMO_STAFF = [
    (Role.SUPER_ADMIN, "owner", "Helen Marsh"),
    (Role.ADMIN, "admin", "Tom Whitaker"),
    (Role.DOCTOR, "dr.okafor", "Dr Chidi Okafor"),
    (Role.DOCTOR, "dr.lindqvist", "Dr Sara Lindqvist"),
    (Role.RECEPTIONIST, "reception", "Priya Shah"),
    (Role.PHARMACIST, "pharmacy", "Marek Nowak"),
    (Role.APPOINTMENT_MANAGER, "bookings", "Grace O'Neill"),
    (Role.BILLING, "billing", "Daniel Costa"),
]


# (weight, given names female, given names male, family names)
@dataclass(frozen=True)
class DemoClinic:
    folder: Path
    logins: list[tuple[str, str, str]]  # role label, user name, password
    created: bool


def demo_logins() -> list[tuple[str, str, str]]:
    return [(role.label, username, DEMO_PASSWORD) for role, username, _ in DEMO_STAFF]


def create_demo_clinic(
    folder: Path,
    patients: int = 2000,
    seed: int = 2026,
    kdf: KdfParams | None = None,
    now: datetime | None = None,
) -> DemoClinic:
    """Create the demo clinic in ``folder``, or reuse the one already there; either way its
    today (at ``now``) has appointments around the hour and a queue."""
    now = now or utcnow()
    _, owner, owner_name = DEMO_STAFF[0]
    if folder_state(folder) is FolderState.READY:
        session = sign_in(folder, owner, DEMO_PASSWORD)
        try:
            if session.schedule.doctors(session.actor):
                open_today(session, seed, now)
                open_todays_visits(session, now)
        finally:
            session.close()
        return DemoClinic(folder, demo_logins(), created=False)
    create_clinic(folder, DEMO_CLINIC, AdminAccount(owner, owner_name, DEMO_PASSWORD), kdf=kdf)
    session = sign_in(folder, owner, DEMO_PASSWORD)
    try:
        for role, username, name in DEMO_STAFF[1:]:
            session.users.create(
                session.actor, username, name, {role}, DEMO_PASSWORD, must_change_password=False
            )
        people = PeopleGenerator(seed)
        patient_ids = session.patients.import_many(session.actor, people.patients(patients))
        _demo_edits(session, people)
        if patient_ids:
            add_schedule(session, seed, patient_ids, now)
            add_clinical(session, seed, patient_ids, now)
            add_pharmacy(session, seed, now)
    finally:
        session.close()
    return DemoClinic(folder, demo_logins(), created=True)


def _demo_edits(session, people: PeopleGenerator) -> None:
    """A few patients with a history of edits, as a real register has."""
    for record in session.patients.search(session.actor, "sm")[:5]:
        changed = replace(record.as_input(), phone=people.phone())
        session.patients.update(session.actor, record.id, changed, record.version)

"""A clinic with a GP, a patient with an allergy, and a walk-in being seen today."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from clinicdesk.rx.payload import AS_NEEDED, PER_DAY, Frequency
from clinicdesk.services.access import AdminAccount, ClinicSession, create_clinic, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.services.prescription_checks import ItemInput
from clinicdesk.services.visits import VisitView

DOCTOR_PASSWORD = "doctor password 1"


@dataclass
class Consultation:
    admin: ClinicSession
    doctor: ClinicSession
    patient_id: str
    visit: VisitView


def new_clinic(folder: Path, name: str = "") -> ClinicSession:
    """A fresh clinic (tests/conftest.py's details, optionally renamed), its admin signed in.

    For module-scoped fixtures, which cannot use the function-scoped ``admin``.
    """
    from tests.conftest import ADMIN_PASSWORD, DETAILS, FAST_KDF

    details = replace(DETAILS, name=name) if name else DETAILS
    create_clinic(folder, details, AdminAccount("admin", "Ada Admin", ADMIN_PASSWORD), kdf=FAST_KDF)
    return sign_in(folder, "admin", ADMIN_PASSWORD)


def register(admin: ClinicSession, given: str = "Νίκος", family: str = "Παπαδόπουλος") -> str:
    return admin.patients.register(
        admin.actor,
        PatientInput(given, family, date(1979, 5, 14), "male", phone="+44 7700 900123"),
        not_a_duplicate=True,
    ).id


def add_gp(admin: ClinicSession, username: str = "dr.hale", name: str = "Dr Maya Hale") -> None:
    from clinicdesk.permissions import Role

    gp = admin.schedule.add_specialization(admin.actor, "General practice")
    service = admin.schedule.add_service(admin.actor, "Consultation", 20, 5, 4500)
    user = admin.users.create(
        admin.actor, username, name, {Role.DOCTOR}, DOCTOR_PASSWORD, must_change_password=False
    )
    admin.schedule.make_doctor(
        admin.actor, user.id, gp, "GMC 7012345", {service.id}, ("English",), room="Room 2"
    )


def walk_in_consultation(admin: ClinicSession) -> Consultation:
    """Reception queues a walk-in; the doctor calls them in, which opens the visit."""
    add_gp(admin)
    patient_id = register(admin)
    admin.chart.add(
        admin.actor,
        patient_id,
        "allergies",
        {"substance": "Penicillin", "reaction": "Hives", "severity": "severe"},
    )
    admin.queue.add_walk_in(admin.actor, patient_id)
    doctor = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)
    visit = doctor.visits.call_next(doctor.actor)
    assert visit is not None
    return Consultation(admin, doctor, patient_id, visit)


def three_items() -> list[ItemInput]:
    return [
        ItemInput(
            "Ibuprofen",
            "1 tablet",
            "by mouth",
            Frequency(PER_DAY, 3),
            5,
            15,
            "tablets",
            strength="400 mg",
            form="tablet",
            instructions="Take with or after food.",
        ),
        ItemInput(
            "Omeprazole",
            "1 capsule",
            "by mouth",
            Frequency(PER_DAY, 1),
            28,
            28,
            "capsules",
            strength="20 mg",
            form="capsule",
            instructions="Take 30 minutes before breakfast.",
        ),
        ItemInput(
            "Salbutamol",
            "2 puffs",
            "inhaled",
            Frequency(AS_NEEDED, 4),
            30,
            1,
            "inhaler",
            strength="100 micrograms per dose",
            form="inhaler",
            refills=1,
            substitution=False,
            instructions="Shake well before use.",
        ),
    ]


@contextmanager
def consultation_in_new_clinic(folder: Path, name: str = "") -> Iterator[Consultation]:
    """A fresh clinic in ``folder`` (``new_clinic``) with a walk-in being seen; the doctor's and
    the admin's sessions are closed afterwards."""
    admin = new_clinic(folder, name)
    consultation = walk_in_consultation(admin)
    try:
        yield consultation
    finally:
        consultation.doctor.close()
        admin.close()

"""A doctor's profile (licence, specialization, services), checked and written inside the
caller's transaction, so that creating a doctor's account and their profile is one change."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.permissions import Actor
from clinicdesk.services import validation as check
from clinicdesk.store import audit
from clinicdesk.store.models import (
    CareService,
    DoctorProfile,
    DoctorService,
    Specialization,
    User,
)


@dataclass(frozen=True)
class DoctorDetails:
    """An existing specialization by id, or a new one by name (added in the same change)."""

    licence_number: str
    service_ids: frozenset[str]
    specialization_id: str | None = None
    new_specialization: str = ""
    languages: tuple[str, ...] = ()
    room: str = ""


def problems(details: DoctorDetails) -> dict[str, str]:
    """Every reason the details are refused, by field."""
    new = details.new_specialization.strip()
    found = {
        "licence_number": check.required(details.licence_number.strip(), 60),
        "specialization": (
            None if details.specialization_id or new else "is required: pick one or type a new one"
        ),
        "new_specialization": check.required(new, 120) if new else None,
        "services": None if details.service_ids else "choose at least one service",
        "room": check.at_most(details.room.strip(), 40),
    }
    return {k: v for k, v in found.items() if v}


def validate(details: DoctorDetails) -> None:
    if found := problems(details):
        raise ValidationError(found)


def add_specialization(s: Session, actor: Actor, name: str) -> str:
    if s.scalar(select(Specialization).where(Specialization.name == name)):
        raise Conflict(f"The specialization {name!r} already exists.")
    row = Specialization(name=name)
    s.add(row)
    s.flush()
    audit.append(s, actor, "specialization.add", "specializations", row.id, name=name)
    return row.id


def add_profile(s: Session, actor: Actor, user_id: str, details: DoctorDetails) -> DoctorProfile:
    """The profile of the doctor's account ``user_id`` (whose roles the caller checked)."""
    validate(details)
    if s.scalar(select(DoctorProfile).where(DoctorProfile.user_id == user_id)):
        user = s.get(User, user_id)
        raise Conflict(f"{user.display_name} already has a doctor profile.")
    new = details.new_specialization.strip()
    if new:
        specialization_id = add_specialization(s, actor, new)
    else:
        specialization_id = details.specialization_id
        if s.get(Specialization, specialization_id) is None:
            raise NotFound("That specialization does not exist.")
    row = DoctorProfile(
        user_id=user_id,
        specialization_id=specialization_id,
        licence_number=details.licence_number.strip(),
        languages=",".join(details.languages),
        room=details.room.strip(),
    )
    s.add(row)
    s.flush()
    for service_id in sorted(details.service_ids):
        if s.get(CareService, service_id) is None:
            raise NotFound("One of the chosen services does not exist.")
        s.add(DoctorService(doctor_id=row.id, service_id=service_id))
    audit.append(s, actor, "doctor.add", "doctors", row.id, user_id=user_id)
    s.flush()
    return row

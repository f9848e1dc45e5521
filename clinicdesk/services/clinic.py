"""The clinic's own settings: name, address, time zone, currency, idle lock; and, inside any
service's transaction, the clinic's profile, its time zone and today's date there."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import ValidationError
from clinicdesk.permissions import Actor, P
from clinicdesk.services import validation as check
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.keyslots import KeySlotFile
from clinicdesk.store.models import ClinicProfile

COMMON_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "INR", "PKR", "NGN", "KES", "ZAR", "AUD", "CAD")


@dataclass(frozen=True)
class ClinicDetails:
    name: str
    address: str
    phone: str
    time_zone: str
    currency: str
    idle_lock_minutes: int = 10


def clinic_profile(s: Session) -> ClinicProfile:
    return s.scalars(select(ClinicProfile)).one()


def clinic_zone(s: Session) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(clinic_profile(s).time_zone)


def clinic_day(s: Session, moment: datetime) -> date:
    """The clinic's local date at ``moment``."""
    return moment.astimezone(clinic_zone(s)).date()


def validate_details(d: ClinicDetails) -> ClinicDetails:
    d = ClinicDetails(
        d.name.strip(),
        d.address.strip(),
        d.phone.strip(),
        d.time_zone.strip(),
        d.currency.strip().upper(),
        d.idle_lock_minutes,
    )
    problems = {
        "name": check.required(d.name, 200),
        "address": check.at_most(d.address, check.MAX_ADDRESS),
        "phone": check.phone(d.phone),
        "time_zone": (
            None
            if d.time_zone in zoneinfo.available_timezones()
            else f"{d.time_zone!r} is not a known time zone (for example Europe/Berlin)"
        ),
        "currency": (
            None
            if re.fullmatch(r"[A-Z]{3}", d.currency)
            else "must be a three-letter ISO code such as EUR or USD"
        ),
        "idle_lock_minutes": (
            None if 1 <= d.idle_lock_minutes <= 240 else "must be between 1 and 240 minutes"
        ),
    }
    problems = {k: v for k, v in problems.items() if v}
    if problems:
        raise ValidationError(problems)
    return d


def mrn_prefix(name: str) -> str:
    """'Sunrise Family Clinic' -> 'SFC'."""
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", name)).upper()
    return (initials or "MRN")[:4]


class ClinicService:
    def __init__(self, store: Store, slots: KeySlotFile) -> None:
        self.store = store
        self.slots = slots

    def details(self) -> ClinicDetails:
        """Readable by every signed-in user: the letterhead and status bar need it."""
        with self.store.read() as s:
            row = clinic_profile(s)
            return ClinicDetails(**{f.name: getattr(row, f.name) for f in fields(ClinicDetails)})

    def update(self, actor: Actor, details: ClinicDetails) -> ClinicDetails:
        actor.require(P.CLINIC_CONFIGURE)
        details = validate_details(details)
        with self.store.write(actor) as s:
            row = clinic_profile(s)
            for f in fields(ClinicDetails):
                setattr(row, f.name, getattr(details, f.name))
            audit.append(s, actor, "clinic.update", "clinic", row.id)
            if self.slots.clinic_name != details.name:
                self.slots.change(lambda f: setattr(f, "clinic_name", details.name))
        return details

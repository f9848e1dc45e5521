"""Setting up the schedule (admins): specializations, services, doctors, hours, days off.

Times are whole 5-minute steps, so that every booking lines up with the claim cells that keep
double bookings out (see clinicdesk.scheduling.slots.CELL).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P, Role
from clinicdesk.scheduling.policy import CancellationPolicy
from clinicdesk.services import doctor_profiles
from clinicdesk.services import validation as check
from clinicdesk.services.booking import flag_affected
from clinicdesk.services.clinic import clinic_profile
from clinicdesk.services.doctor_profiles import DoctorDetails
from clinicdesk.services.users import parse_roles
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    CareService,
    ClinicHoliday,
    ClinicProfile,
    DoctorAbsence,
    DoctorLeave,
    DoctorProfile,
    DoctorService,
    Specialization,
    User,
    VisitingHours,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class HoursInput:
    weekday: int
    start_minute: int
    end_minute: int
    service_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DoctorInfo:
    id: str
    user_id: str
    name: str
    specialization_id: str
    specialization: str
    licence_number: str
    languages: tuple[str, ...]
    room: str
    service_ids: frozenset[str]


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    name: str
    duration_minutes: int
    buffer_minutes: int
    fee_minor: int


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def validate_hours(windows: list[HoursInput]) -> None:
    """Each window on a 5-minute step, ending after it starts, none overlapping another."""
    problems: dict[str, str] = {}
    for n, w in enumerate(windows, start=1):
        label = f"hours {n}"
        if not 0 <= w.weekday <= 6:
            problems[label] = "has no valid weekday"
        elif not (0 <= w.start_minute < 1440 and 0 < w.end_minute <= 1440):
            problems[label] = "must lie within one day (00:00 to 24:00)"
        elif w.start_minute % 5 or w.end_minute % 5:
            problems[label] = "must start and end on a 5-minute step"
        elif w.end_minute <= w.start_minute:
            problems[label] = (
                f"ends ({clock(w.end_minute)}) before it starts "
                f"({clock(w.start_minute)}) on {WEEKDAYS[w.weekday]}"
            )
    if not problems:
        ordered = sorted(windows, key=lambda w: (w.weekday, w.start_minute))
        for a, b in itertools.pairwise(ordered):
            if a.weekday == b.weekday and b.start_minute < a.end_minute:
                problems["hours"] = (
                    f"{WEEKDAYS[a.weekday]} {clock(a.start_minute)}–{clock(a.end_minute)} and "
                    f"{clock(b.start_minute)}–{clock(b.end_minute)} overlap"
                )
                break
    if problems:
        raise ValidationError(problems)


@dataclass(frozen=True)
class ScheduleChanges:
    """What the schedule screen saves at once; None: leave that part as it is."""

    doctor_id: str | None = None
    hours: tuple[HoursInput, ...] | None = None  # the doctor's whole week
    booking_rules: tuple[bool, int] | None = None  # needs approval, no-show after minutes
    policy: CancellationPolicy | None = None


class ScheduleSetup:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- specializations and services ----

    def add_specialization(self, actor: Actor, name: str) -> str:
        actor.require(P.SCHEDULE_CONFIGURE)
        name = name.strip()
        if problem := check.required(name, 120):
            raise ValidationError({"name": problem})
        with self.store.write(actor) as s:
            return doctor_profiles.add_specialization(s, actor, name)

    def specializations(self, actor: Actor) -> list[tuple[str, str]]:
        with self.store.read() as s:
            rows = s.scalars(
                select(Specialization)
                .where(Specialization.deleted_at.is_(None))
                .order_by(Specialization.name)
            )
            return [(r.id, r.name) for r in rows]

    def add_service(
        self, actor: Actor, name: str, duration_minutes: int, buffer_minutes: int, fee_minor: int
    ) -> ServiceInfo:
        actor.require(P.SCHEDULE_CONFIGURE)
        name = name.strip()
        problems = {
            "name": check.required(name, 120),
            "duration": (
                None
                if 5 <= duration_minutes <= 480 and duration_minutes % 5 == 0
                else "must be 5 to 480 minutes, in steps of 5"
            ),
            "buffer": (
                None
                if 0 <= buffer_minutes <= 120 and buffer_minutes % 5 == 0
                else "must be 0 to 120 minutes, in steps of 5"
            ),
            "fee": None if fee_minor >= 0 else "cannot be negative",
        }
        if problems := {k: v for k, v in problems.items() if v}:
            raise ValidationError(problems)
        with self.store.write(actor) as s:
            if s.scalar(select(CareService).where(CareService.name == name)):
                raise Conflict(f"A service called {name!r} already exists.")
            row = CareService(
                name=name,
                duration_minutes=duration_minutes,
                buffer_minutes=buffer_minutes,
                fee_minor=fee_minor,
            )
            s.add(row)
            s.flush()
            audit.append(s, actor, "service.add", "care_services", row.id, name=name)
            return _service_info(row)

    def services(self, actor: Actor) -> list[ServiceInfo]:
        with self.store.read() as s:
            rows = s.scalars(
                select(CareService)
                .where(CareService.deleted_at.is_(None))
                .order_by(CareService.name)
            )
            return [_service_info(r) for r in rows]

    # ---- doctors ----

    def make_doctor(
        self,
        actor: Actor,
        user_id: str,
        specialization_id: str,
        licence_number: str,
        service_ids: set[str],
        languages: tuple[str, ...] = (),
        room: str = "",
    ) -> DoctorInfo:
        """Give a doctor's account a profile: what they practise and which services they offer."""
        details = DoctorDetails(
            licence_number,
            frozenset(service_ids),
            specialization_id,
            languages=languages,
            room=room,
        )
        return self.make_profile(actor, user_id, details)

    def make_profile(self, actor: Actor, user_id: str, details: DoctorDetails) -> DoctorInfo:
        """As make_doctor; a new specialization named in ``details`` is added in the same
        change."""
        actor.require(P.SCHEDULE_CONFIGURE)
        doctor_profiles.validate(details)
        with self.store.write(actor) as s:
            user = s.get(User, user_id)
            if user is None or Role.DOCTOR not in parse_roles(user.roles):
                raise ValidationError({"user": "must be an account with the doctor role"})
            return _doctor_info(s, doctor_profiles.add_profile(s, actor, user_id, details))

    def doctors(self, actor: Actor) -> list[DoctorInfo]:
        with self.store.read() as s:
            rows = s.scalars(select(DoctorProfile).where(DoctorProfile.deleted_at.is_(None)))
            return sorted((_doctor_info(s, r) for r in rows), key=lambda d: d.name)

    def hours(self, actor: Actor, doctor_id: str) -> list[HoursInput]:
        """The doctor's weekly hours, Monday first, as set_hours takes them."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            rows = s.scalars(
                select(VisitingHours)
                .where(VisitingHours.doctor_id == doctor_id, VisitingHours.deleted_at.is_(None))
                .order_by(VisitingHours.weekday, VisitingHours.start_minute)
            )
            return [
                HoursInput(
                    r.weekday,
                    r.start_minute,
                    r.end_minute,
                    frozenset(x for x in r.service_ids.split(",") if x),
                )
                for r in rows
            ]

    def set_hours(self, actor: Actor, doctor_id: str, windows: list[HoursInput]) -> int:
        """Replace the doctor's weekly hours; returns how many bookings no longer fit.

        Those are marked for reception (AppointmentService.needing_attention) with offers.
        """
        return self.save(actor, ScheduleChanges(doctor_id, tuple(windows)))

    def save(self, actor: Actor, changes: ScheduleChanges) -> int:
        """Every change of the schedule screen in one unit of work: all of it is checked first
        (every reason at once) and saved, or nothing is. Returns how many bookings the new
        hours no longer fit."""
        actor.require(P.SCHEDULE_CONFIGURE)
        problems: dict[str, str] = {}
        if changes.hours is not None:
            problems |= _problems(validate_hours, list(changes.hours))
        if changes.booking_rules is not None and not 5 <= changes.booking_rules[1] <= 240:
            problems["no_show_after"] = "must be 5 to 240 minutes"
        if changes.policy is not None:
            problems |= _problems(changes.policy.validated)
        if problems:
            raise ValidationError(problems)
        affected = 0
        with self.store.write(actor) as s:
            if changes.hours is not None:
                assert changes.doctor_id is not None
                affected = _set_hours(s, actor, changes.doctor_id, list(changes.hours))
            profile = clinic_profile(s)
            if changes.booking_rules is not None:
                needs_approval, no_show_after = changes.booking_rules
                profile.booking_needs_approval = needs_approval
                profile.no_show_after_minutes = no_show_after
                audit.append(
                    s,
                    actor,
                    "clinic.booking_rules",
                    "clinic",
                    profile.id,
                    needs_approval=needs_approval,
                    no_show_after=no_show_after,
                )
            if changes.policy is not None:
                profile.cancellation_policy = changes.policy.to_json()
                audit.append(s, actor, "clinic.cancellation_policy", "clinic", None)
        return affected

    def booking_rules(self, actor: Actor) -> tuple[bool, int]:
        """Whether bookings wait for approval, and the no-show grace in minutes."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            profile = clinic_profile(s)
            return profile.booking_needs_approval, profile.no_show_after_minutes

    def set_booking_rules(
        self, actor: Actor, needs_approval: bool, no_show_after_minutes: int
    ) -> None:
        """Whether new bookings wait for an admin's approval; when a late patient is a no-show."""
        self.save(actor, ScheduleChanges(booking_rules=(needs_approval, no_show_after_minutes)))

    def cancellation_policy(self, actor: Actor) -> CancellationPolicy:
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            text = s.scalars(select(ClinicProfile.cancellation_policy)).one()
        return CancellationPolicy.from_json(text)

    def set_cancellation_policy(self, actor: Actor, policy: CancellationPolicy) -> None:
        self.save(actor, ScheduleChanges(policy=policy))

    def add_holiday(self, actor: Actor, day: date, name: str) -> int:
        actor.require(P.SCHEDULE_CONFIGURE)
        if problem := check.required(name, 120):
            raise ValidationError({"name": problem})
        with self.store.write(actor) as s:
            if s.scalar(select(ClinicHoliday).where(ClinicHoliday.day == day)):
                raise Conflict(f"{day:%d/%m/%Y} is already a clinic holiday.")
            s.add(ClinicHoliday(day=day, name=name.strip()))
            s.flush()
            audit.append(s, actor, "clinic.holiday", "clinic_holidays", None, day=day)
            doctors = list(s.scalars(select(DoctorProfile.id)))
            return flag_affected(
                s,
                actor,
                doctors,
                f"The clinic is closed on {day:%d/%m/%Y} ({name.strip()}).",
                utcnow(),
            )

    def add_leave(
        self, actor: Actor, doctor_id: str, first_day: date, last_day: date, reason: str = ""
    ) -> int:
        actor.require(P.SCHEDULE_CONFIGURE)
        if last_day < first_day:
            raise ValidationError({"last_day": "is before the first day"})
        with self.store.write(actor) as s:
            _doctor(s, doctor_id)
            s.add(
                DoctorLeave(
                    doctor_id=doctor_id,
                    first_day=first_day,
                    last_day=last_day,
                    reason=reason.strip(),
                )
            )
            s.flush()
            audit.append(
                s,
                actor,
                "doctor.leave",
                "doctors",
                doctor_id,
                first_day=first_day,
                last_day=last_day,
            )
            return flag_affected(
                s,
                actor,
                [doctor_id],
                f"The doctor is on leave from {first_day:%d/%m} to {last_day:%d/%m/%Y}.",
                utcnow(),
            )

    def add_absence(
        self, actor: Actor, doctor_id: str, starts_at: datetime, ends_at: datetime, reason: str = ""
    ) -> int:
        """Unavailable from ``starts_at`` (usually now, in an emergency) until ``ends_at``."""
        actor.require(P.APPOINTMENTS_MANAGE)
        if ends_at <= starts_at:
            raise ValidationError({"ends_at": "must be after the start"})
        with self.store.write(actor) as s:
            _doctor(s, doctor_id)
            s.add(
                DoctorAbsence(
                    doctor_id=doctor_id, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
                )
            )
            s.flush()
            audit.append(s, actor, "doctor.absence", "doctors", doctor_id)
            return flag_affected(
                s,
                actor,
                [doctor_id],
                f"The doctor is unavailable{': ' + reason.strip() if reason.strip() else ''}.",
                utcnow(),
            )


def _set_hours(s: Session, actor: Actor, doctor_id: str, windows: list[HoursInput]) -> int:
    _doctor(s, doctor_id)
    now = utcnow()
    for old in s.scalars(
        select(VisitingHours).where(
            VisitingHours.doctor_id == doctor_id, VisitingHours.deleted_at.is_(None)
        )
    ):
        old.deleted_at = now
    for w in windows:
        s.add(
            VisitingHours(
                doctor_id=doctor_id,
                weekday=w.weekday,
                start_minute=w.start_minute,
                end_minute=w.end_minute,
                service_ids=",".join(sorted(w.service_ids)),
            )
        )
    audit.append(s, actor, "doctor.hours", "doctors", doctor_id, windows=len(windows))
    return flag_affected(s, actor, [doctor_id], "The doctor's visiting hours changed.", utcnow())


def _problems(check_fn, *args) -> dict[str, str]:
    try:
        check_fn(*args)
    except ValidationError as error:
        return error.fields
    return {}


def _doctor(s: Session, doctor_id: str) -> DoctorProfile:
    row = s.get(DoctorProfile, doctor_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That doctor does not exist.")
    return row


def _service_info(row: CareService) -> ServiceInfo:
    return ServiceInfo(row.id, row.name, row.duration_minutes, row.buffer_minutes, row.fee_minor)


def _doctor_info(s: Session, row: DoctorProfile) -> DoctorInfo:
    user = s.get(User, row.user_id)
    spec = s.get(Specialization, row.specialization_id)
    services = s.scalars(
        select(DoctorService.service_id).where(
            DoctorService.doctor_id == row.id, DoctorService.deleted_at.is_(None)
        )
    )
    return DoctorInfo(
        row.id,
        row.user_id,
        user.display_name if user else "?",
        row.specialization_id,
        spec.name if spec else "",
        row.licence_number,
        tuple(x for x in row.languages.split(",") if x),
        row.room,
        frozenset(services),
    )

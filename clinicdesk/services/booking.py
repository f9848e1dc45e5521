"""Inside a booking transaction: the checks, the claims on time, status changes and views.

A booking claims the doctor's 5-minute cells from its start to the end of its buffer, and the
patient's cells for the appointment itself (``DoctorTimeClaim``, ``PatientTimeClaim``). The
claims' primary keys make an overlapping second booking impossible to write, from any desk or
process; the checks before the insert only turn the refusal into a clear sentence. Every function
here runs in the caller's session, so it commits or rolls back with the rest of the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, delete, insert, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.permissions import Actor
from clinicdesk.scheduling.slots import (
    DoctorCalendar,
    Interval,
    Window,
    ceil_cell,
    cells,
    fits_hours,
    local_moment,
)
from clinicdesk.scheduling.status import FREES_TIME, MOVABLE, AppointmentStatus, refusal
from clinicdesk.services.clinic import clinic_day, clinic_zone
from clinicdesk.store import audit
from clinicdesk.store.models import (
    Appointment,
    AppointmentEvent,
    CareService,
    ClinicHoliday,
    DoctorAbsence,
    DoctorLeave,
    DoctorProfile,
    DoctorService,
    DoctorTimeClaim,
    Patient,
    PatientTimeClaim,
    SlotHold,
    User,
    VisitingHours,
)


@dataclass(frozen=True)
class AppointmentView:
    id: str
    patient_id: str
    patient_name: str
    doctor_id: str
    doctor_name: str
    service_id: str
    service_name: str
    starts_at: datetime
    ends_at: datetime
    status: AppointmentStatus  # given as the stored text, kept as the enum
    version: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", AppointmentStatus(self.status))

    @property
    def status_label(self) -> str:
        return self.status.label


class SlotUnavailable(Conflict):
    """The time asked for cannot be booked; the message says why."""


class PatientBusy(SlotUnavailable):
    """The patient is booked elsewhere then; a permitted role may book anyway, with a reason."""


def change_status(
    s: Session, actor: Actor, row: Appointment, status: AppointmentStatus | str, **detail
) -> None:
    """Move an appointment on (the caller checked the move is allowed), with its history."""
    status = AppointmentStatus(status)
    before = row.status
    row.status = status
    if status.frees_time:
        free_time(s, row)
    record_event(s, actor, row, before, status, **detail)
    audit.append(s, actor, f"appointment.{status}", "appointments", row.id)


def minutes_of(n: int) -> timedelta:
    return timedelta(minutes=n)


def get_service(s: Session, service_id: str) -> CareService:
    row = s.get(CareService, service_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That service does not exist.")
    return row


def get_appointment(s: Session, appointment_id: str) -> Appointment:
    row = s.get(Appointment, appointment_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That appointment does not exist.")
    return row


def patient_name(s: Session, patient_id: str) -> str:
    patient = s.get(Patient, patient_id)
    return f"{patient.given_name} {patient.family_name}"


def doctor_name(s: Session, doctor: DoctorProfile) -> str:
    user = s.get(User, doctor.user_id)
    return user.display_name if user else "?"


def flag_affected(
    s: Session, actor: Actor, doctor_ids: list[str], reason: str, now: datetime
) -> int:
    """After a change of hours or days off: mark the future bookings that no longer fit.

    Runs inside the transaction that made the change, so the marks and the change go together.
    """
    tz = clinic_zone(s)
    count = 0
    for row in s.scalars(
        select(Appointment).where(
            Appointment.doctor_id.in_(doctor_ids),
            Appointment.status.in_(MOVABLE),
            Appointment.attention == "",  # already marked: the first reason stands
            Appointment.starts_at >= now,
        )
    ):
        day = row.starts_at.astimezone(tz).date()
        calendar = load_calendar(s, row.doctor_id, day, day, tz, now, with_busy=False)
        absent = s.scalar(
            select(DoctorAbsence.id).where(
                DoctorAbsence.doctor_id == row.doctor_id,
                DoctorAbsence.deleted_at.is_(None),
                DoctorAbsence.starts_at < row.ends_at,
                DoctorAbsence.ends_at > row.starts_at,
            )
        )
        fits = not calendar.day_off(day) and fits_hours(
            calendar, row.service_id, row.starts_at, row.ends_at - row.starts_at, tz
        )
        if absent or not fits:
            row.attention = reason
            record_event(s, actor, row, row.status, row.status, attention=reason)
            count += 1
    return count


def check_move(s: Session, row: Appointment, status: AppointmentStatus, now: datetime) -> None:
    """Refuse, in words, a move the rules do not allow today (``clinicdesk.scheduling.status``)."""
    why = refusal(row.status, status, clinic_day(s, row.starts_at), clinic_day(s, now))
    if why:
        raise Conflict(why)


LONGEST_BLOCK = timedelta(minutes=480 + 120)  # a service's longest duration plus buffer


def load_calendars(
    s: Session,
    doctor_ids: list[str],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    now: datetime,
    *,
    with_busy: bool = True,
) -> dict[str, DoctorCalendar]:
    """Hours, days off and (unless ``with_busy`` is false) busy time of several doctors at once:
    one query per kind for all of them, and columns rather than ORM objects, because a calendar
    view asks for ten doctors over four weeks on every refresh."""
    start = local_moment(first_day, 0, tz) - timedelta(days=1)
    end = local_moment(last_day, 24 * 60, tz) + timedelta(days=1)
    windows: dict[str, list[Window]] = {d: [] for d in doctor_ids}
    for doctor_id, weekday, first, last, services in s.execute(
        select(
            VisitingHours.doctor_id,
            VisitingHours.weekday,
            VisitingHours.start_minute,
            VisitingHours.end_minute,
            VisitingHours.service_ids,
        ).where(VisitingHours.doctor_id.in_(doctor_ids), VisitingHours.deleted_at.is_(None))
    ):
        windows[doctor_id].append(
            Window(weekday, first, last, frozenset(x for x in services.split(",") if x))
        )
    holidays = set(
        s.scalars(
            select(ClinicHoliday.day).where(
                ClinicHoliday.day.between(first_day, last_day), ClinicHoliday.deleted_at.is_(None)
            )
        )
    )
    leave: dict[str, list[tuple[date, date]]] = {d: [] for d in doctor_ids}
    for doctor_id, a, b in s.execute(
        select(DoctorLeave.doctor_id, DoctorLeave.first_day, DoctorLeave.last_day).where(
            DoctorLeave.doctor_id.in_(doctor_ids),
            DoctorLeave.deleted_at.is_(None),
            DoctorLeave.first_day <= last_day,
            DoctorLeave.last_day >= first_day,
        )
    ):
        leave[doctor_id].append((a, b))
    busy: dict[str, list[Interval]] = {d: [] for d in doctor_ids}
    if with_busy:
        queries = (
            select(
                Appointment.doctor_id, _raw(Appointment.starts_at), _raw(Appointment.blocked_until)
            ).where(
                Appointment.doctor_id.in_(doctor_ids),
                Appointment.status.not_in(FREES_TIME),
                # both bounds, so the index skips every appointment long past
                Appointment.starts_at >= start - LONGEST_BLOCK,
                Appointment.starts_at < end,
                Appointment.blocked_until > start,
            ),
            select(SlotHold.doctor_id, _raw(SlotHold.starts_at), _raw(SlotHold.ends_at)).where(
                SlotHold.doctor_id.in_(doctor_ids),
                SlotHold.expires_at > now,
                SlotHold.starts_at < end,
                SlotHold.ends_at > start,
            ),
            select(
                DoctorAbsence.doctor_id, _raw(DoctorAbsence.starts_at), _raw(DoctorAbsence.ends_at)
            ).where(
                DoctorAbsence.doctor_id.in_(doctor_ids),
                DoctorAbsence.deleted_at.is_(None),
                DoctorAbsence.starts_at < end,
                DoctorAbsence.ends_at > start,
            ),
        )
        conn = s.connection()  # plain rows: no ORM result handling for thousands of them
        for query in queries:
            for doctor_id, a, b in conn.execute(query):
                busy[doctor_id].append(Interval(_utc(a), _utc(b)))
    return {d: DoctorCalendar(windows[d], holidays, leave[d], busy[d]) for d in doctor_ids}


def _raw(column):
    """The column as the database stores it, skipping the per-value type conversion."""
    return type_coerce(column, String())


def _utc(value) -> datetime:
    """A stored UTC time: SQLite gives text ('2026-12-07 09:00:00.000000'), others datetimes."""
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_calendar(
    s: Session,
    doctor_id: str,
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    now: datetime,
    *,
    with_busy: bool = True,
) -> DoctorCalendar:
    return load_calendars(s, [doctor_id], first_day, last_day, tz, now, with_busy=with_busy)[
        doctor_id
    ]


def check_bookable(
    s: Session, doctor_id: str, service_id: str, starts_at: datetime, now: datetime
) -> CareService:
    """The doctor offers the service then, in their hours, on a working day, not in the past."""
    doctor = s.get(DoctorProfile, doctor_id)
    if doctor is None or doctor.deleted_at is not None:
        raise NotFound("That doctor does not exist.")
    service = get_service(s, service_id)
    name = doctor_name(s, doctor)
    if (
        s.scalar(
            select(DoctorService.id).where(
                DoctorService.doctor_id == doctor_id,
                DoctorService.service_id == service_id,
                DoctorService.deleted_at.is_(None),
            )
        )
        is None
    ):
        raise SlotUnavailable(f"{name} does not offer {service.name}.")
    if starts_at.tzinfo is None or ceil_cell(starts_at) != starts_at:
        raise ValidationError({"starts_at": "must be a time on a 5-minute step"})
    if starts_at < now:
        raise SlotUnavailable("That time has already passed; choose a time from now on.")
    tz = clinic_zone(s)
    local = starts_at.astimezone(tz)
    calendar = load_calendar(s, doctor_id, local.date(), local.date(), tz, now, with_busy=False)
    duration = minutes_of(service.duration_minutes)
    if calendar.day_off(local.date()):
        raise SlotUnavailable(f"{name} is not working on {local:%A %d/%m/%Y} (holiday or leave).")
    if not fits_hours(calendar, service_id, starts_at, duration, tz):
        raise SlotUnavailable(
            f"{local:%H:%M} on {local:%A %d/%m} is outside {name}'s visiting hours for "
            f"{service.name}."
        )
    for absence in s.scalars(
        select(DoctorAbsence).where(
            DoctorAbsence.doctor_id == doctor_id,
            DoctorAbsence.deleted_at.is_(None),
            DoctorAbsence.starts_at < starts_at + duration,
            DoctorAbsence.ends_at > starts_at,
        )
    ):
        raise SlotUnavailable(
            f"{name} is unavailable then{': ' + absence.reason if absence.reason else ''}."
        )
    return service


def check_free(
    s: Session, doctor_id: str, starts_at: datetime, ends_at: datetime, own_hold: str | None
) -> None:
    """Say who has the time, if anyone: a booking, or a hold at another desk."""
    taken = s.scalars(
        select(DoctorTimeClaim).where(
            DoctorTimeClaim.doctor_id == doctor_id,
            DoctorTimeClaim.cell.in_(cells(starts_at, ends_at)),
        )
    ).all()
    for claim in taken:
        if claim.appointment_id:
            other = s.get(Appointment, claim.appointment_id)
            tz = clinic_zone(s)
            raise SlotUnavailable(
                f"That time is already booked ({other.starts_at.astimezone(tz):%H:%M}–"
                f"{other.ends_at.astimezone(tz):%H:%M}). Choose another slot."
            )
        if claim.hold_id != own_hold:
            hold = s.get(SlotHold, claim.hold_id)
            raise SlotUnavailable(
                f"{hold.held_by_name} is holding that time for a patient at another desk "
                f"(until {hold.expires_at.astimezone(clinic_zone(s)):%H:%M})."
            )


def take_time(s: Session, row: Appointment, hold_id: str | None) -> None:
    check_free(s, row.doctor_id, row.starts_at, row.blocked_until, hold_id)
    if hold_id:
        s.execute(delete(SlotHold).where(SlotHold.id == hold_id))
    if not row.overlap_reason:
        busy = s.scalars(
            select(PatientTimeClaim.appointment_id).where(
                PatientTimeClaim.patient_id == row.patient_id,
                PatientTimeClaim.cell.in_(cells(row.starts_at, row.ends_at)),
            )
        ).first()
        if busy:
            other = s.get(Appointment, busy)
            tz = clinic_zone(s)
            raise PatientBusy(
                f"The patient already has an appointment then "
                f"({other.starts_at.astimezone(tz):%H:%M}–{other.ends_at.astimezone(tz):%H:%M}"
                f" with {doctor_name(s, s.get(DoctorProfile, other.doctor_id))})."
            )
    if row not in s:
        s.add(row)
    s.flush()
    claim_time(s, row)


def claim_time(s: Session, row: Appointment) -> None:
    """The doctor's cells of the appointment (and the patient's, unless they may overlap)."""
    claim_cells(
        s,
        DoctorTimeClaim,
        [
            {"doctor_id": row.doctor_id, "cell": c, "appointment_id": row.id, "hold_id": None}
            for c in cells(row.starts_at, row.blocked_until)
        ],
    )
    if not row.overlap_reason:
        claim_cells(
            s,
            PatientTimeClaim,
            [
                {"patient_id": row.patient_id, "cell": c, "appointment_id": row.id}
                for c in cells(row.starts_at, row.ends_at)
            ],
        )


def claim_cells(s: Session, model, rows: list[dict]) -> None:
    try:
        s.execute(insert(model), rows)
    except IntegrityError:
        raise SlotUnavailable(
            "That time was just taken at another desk. Choose another slot."
        ) from None


def free_time(s: Session, row: Appointment) -> None:
    s.execute(delete(DoctorTimeClaim).where(DoctorTimeClaim.appointment_id == row.id))
    s.execute(delete(PatientTimeClaim).where(PatientTimeClaim.appointment_id == row.id))


def reclaim_time(s: Session, row: Appointment) -> None:
    """The claims of an appointment as it now is (one that arrived by sync): its cells while
    it holds time, none once it frees it. SlotUnavailable when the time is taken here."""
    free_time(s, row)
    if not AppointmentStatus(row.status).frees_time:
        claim_time(s, row)


def drop_expired_holds(s: Session, now: datetime) -> None:
    s.execute(delete(SlotHold).where(SlotHold.expires_at <= now))


def record_event(
    s: Session, actor: Actor, row: Appointment, before: str, after: str, **detail
) -> None:
    s.add(
        AppointmentEvent(
            appointment_id=row.id,
            actor_id=actor.user_id,
            actor_name=actor.display_name,
            from_status=before,
            to_status=after,
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
    )


def views_where(s: Session, *conditions) -> list[AppointmentView]:
    """Appointments matching ``conditions`` in time order, names joined in one query (a day of
    ten doctors is 400 rows: one query, not four per row)."""
    stmt = (
        select(
            Appointment.id,
            Appointment.patient_id,
            Patient.given_name,
            Patient.family_name,
            Appointment.doctor_id,
            User.display_name,
            Appointment.service_id,
            CareService.name,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.status,
            Appointment.version,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(DoctorProfile, DoctorProfile.id == Appointment.doctor_id)
        .join(User, User.id == DoctorProfile.user_id)
        .join(CareService, CareService.id == Appointment.service_id)
        .where(*conditions)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return [AppointmentView(r[0], r[1], f"{r[2]} {r[3]}", *r[4:]) for r in s.execute(stmt)]


def view_of(s: Session, row: Appointment) -> AppointmentView:
    doctor = s.get(DoctorProfile, row.doctor_id)
    service = s.get(CareService, row.service_id)
    return AppointmentView(
        row.id,
        row.patient_id,
        patient_name(s, row.patient_id),
        row.doctor_id,
        doctor_name(s, doctor),
        row.service_id,
        service.name,
        row.starts_at,
        row.ends_at,
        row.status,
        row.version,
    )

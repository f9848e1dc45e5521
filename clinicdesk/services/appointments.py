"""Appointments: free slots, holds, booking without double bookings, and the lifecycle.

A booking claims the doctor's 5-minute cells from its start to the end of its buffer, and the
patient's cells for the appointment itself (``DoctorTimeClaim``, ``PatientTimeClaim``). The
claims' primary keys make an overlapping second booking impossible to write, from any desk or
process; the checks before the insert only turn the refusal into a clear sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import new_id, utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.scheduling.policy import CancellationPolicy
from clinicdesk.scheduling.slots import (
    DoctorCalendar,
    Interval,
    Window,
    ceil_cell,
    cells,
    fits_hours,
    free_slots,
    local_moment,
)
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    Appointment,
    AppointmentEvent,
    CareService,
    ClinicHoliday,
    ClinicProfile,
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
    WaitlistEntry,
)

HOLD_MINUTES = 5
STATUS_LABELS = {
    "pending": "Awaiting approval",
    "awaiting_payment": "Awaiting payment",
    "confirmed": "Confirmed",
    "checked_in": "Checked in",
    "in_consultation": "In consultation",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
    "no_show": "No-show",
}
NEXT = {
    "pending": {"confirmed", "rejected", "cancelled"},
    "awaiting_payment": {"confirmed", "cancelled"},
    "confirmed": {"checked_in", "cancelled", "no_show"},
    "checked_in": {"in_consultation", "cancelled"},
    "in_consultation": {"completed"},
}
FREES_TIME = {"cancelled", "rejected"}  # these give the slot back
MOVABLE = ("pending", "awaiting_payment", "confirmed")  # not yet started


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
    status: str
    version: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Hold:
    id: str
    doctor_id: str
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class SlotOffer:
    doctor_id: str
    doctor_name: str
    starts_at: datetime


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    by: str
    from_status: str
    to_status: str
    detail: dict


@dataclass(frozen=True)
class Affected:
    """A booking hit by a change of hours or days off, with two ways to rebook it."""

    appointment: AppointmentView
    reason: str
    same_doctor: SlotOffer | None
    other_doctor: SlotOffer | None


class SlotUnavailable(Conflict):
    """The time asked for cannot be booked; the message says why."""


class AppointmentService:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock  # tests set the time of day

    # ---- finding time ----

    def free_slots(
        self,
        actor: Actor,
        doctor_id: str,
        service_id: str,
        first_day: date,
        days: int = 1,
        now: datetime | None = None,
    ) -> list[datetime]:
        actor.require(P.PATIENT_READ)
        now = now or self.clock()
        with self.store.read() as s:
            tz = _zone(s)
            service = _service(s, service_id)
            last_day = first_day + timedelta(days=days - 1)
            calendar = _calendar(s, doctor_id, first_day, last_day, tz, now)
            return list(
                free_slots(
                    calendar,
                    service_id,
                    _minutes(service.duration_minutes),
                    _minutes(service.buffer_minutes),
                    first_day,
                    last_day,
                    tz,
                    now,
                )
            )

    def next_free(
        self,
        actor: Actor,
        service_id: str,
        *,
        doctor_id: str | None = None,
        specialization_id: str | None = None,
        after: datetime | None = None,
        horizon_days: int = 60,
    ) -> SlotOffer | None:
        """The earliest free slot: for one doctor, a specialization, or any doctor offering it."""
        actor.require(P.PATIENT_READ)
        after = after or self.clock()
        with self.store.read() as s:
            tz = _zone(s)
            service = _service(s, service_id)
            stmt = (
                select(DoctorProfile)
                .join(DoctorService, DoctorService.doctor_id == DoctorProfile.id)
                .where(
                    DoctorService.service_id == service_id,
                    DoctorService.deleted_at.is_(None),
                    DoctorProfile.deleted_at.is_(None),
                )
            )
            if doctor_id:
                stmt = stmt.where(DoctorProfile.id == doctor_id)
            if specialization_id:
                stmt = stmt.where(DoctorProfile.specialization_id == specialization_id)
            first_day = after.astimezone(tz).date()
            best: SlotOffer | None = None
            for doctor in s.scalars(stmt):
                for week in range(0, horizon_days, 7):  # a week at a time: most find it at once
                    start = first_day + timedelta(days=week)
                    end = min(start + timedelta(days=6), first_day + timedelta(horizon_days))
                    calendar = _calendar(s, doctor.id, start, end, tz, after)
                    slot = next(
                        free_slots(
                            calendar,
                            service_id,
                            _minutes(service.duration_minutes),
                            _minutes(service.buffer_minutes),
                            start,
                            end,
                            tz,
                            after,
                        ),
                        None,
                    )
                    if slot is not None:
                        if best is None or slot < best.starts_at:
                            best = SlotOffer(doctor.id, _doctor_name(s, doctor), slot)
                        break
            return best

    # ---- holding and booking ----

    def hold(
        self,
        actor: Actor,
        doctor_id: str,
        service_id: str,
        starts_at: datetime,
        minutes: int = HOLD_MINUTES,
    ) -> Hold:
        """Keep a slot for a few minutes while reception talks to the patient."""
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            now = self.clock()
            _drop_expired_holds(s, now)
            service = _check_bookable(s, doctor_id, service_id, starts_at, now)
            ends_at = starts_at + _minutes(service.duration_minutes + service.buffer_minutes)
            _check_free(s, doctor_id, starts_at, ends_at, None)
            hold = SlotHold(
                id=new_id(),
                doctor_id=doctor_id,
                starts_at=starts_at,
                ends_at=ends_at,
                held_by=actor.user_id,
                held_by_name=actor.display_name,
                expires_at=now + timedelta(minutes=minutes),
            )
            s.add(hold)
            s.flush()
            _claim(
                s,
                DoctorTimeClaim,
                [
                    {"doctor_id": doctor_id, "cell": c, "hold_id": hold.id}
                    for c in cells(starts_at, ends_at)
                ],
            )
            return Hold(hold.id, doctor_id, starts_at, ends_at, hold.expires_at)

    def release(self, actor: Actor, hold_id: str) -> None:
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            s.execute(delete(SlotHold).where(SlotHold.id == hold_id))

    def book(
        self,
        actor: Actor,
        patient_id: str,
        doctor_id: str,
        service_id: str,
        starts_at: datetime,
        *,
        hold_id: str | None = None,
        overlap_reason: str = "",
        note: str = "",
        follow_up_of: str | None = None,
    ) -> AppointmentView:
        """Book a slot once and for all; the patient may not be double-booked either.

        ``overlap_reason`` lets a permitted role book a patient who is already booked at that
        time (say, two services one after the other in the same room); the reason is kept.
        """
        actor.require(P.APPOINTMENTS_MANAGE)
        if overlap_reason.strip():
            actor.require(P.APPOINTMENTS_OVERRIDE)
        with self.store.write(actor) as s:
            now = self.clock()
            _drop_expired_holds(s, now)
            service = _check_bookable(s, doctor_id, service_id, starts_at, now)
            patient = s.get(Patient, patient_id)
            if patient is None or patient.deleted_at is not None:
                raise NotFound("That patient record does not exist or was removed.")
            row = Appointment(
                id=new_id(),
                patient_id=patient_id,
                doctor_id=doctor_id,
                service_id=service_id,
                starts_at=starts_at,
                ends_at=starts_at + _minutes(service.duration_minutes),
                blocked_until=starts_at
                + _minutes(service.duration_minutes + service.buffer_minutes),
                status="pending" if _profile(s).booking_needs_approval else "confirmed",
                fee_minor=service.fee_minor,
                note=note.strip(),
                booked_by=actor.user_id,
                overlap_reason=overlap_reason.strip(),
                follow_up_of=follow_up_of,
            )
            _take_time(s, row, hold_id)
            _event(s, actor, row, "", row.status, service=service.name)
            audit.append(
                s,
                actor,
                "appointment.book",
                "appointments",
                row.id,
                patient_id=patient_id,
                doctor_id=doctor_id,
            )
            return view_of(s, row)

    def reschedule(
        self, actor: Actor, appointment_id: str, starts_at: datetime, doctor_id: str | None = None
    ) -> AppointmentView:
        """Move an appointment; if the new time is not free, nothing changes."""
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            now = self.clock()
            _drop_expired_holds(s, now)
            row = _appointment(s, appointment_id)
            if row.status not in MOVABLE:
                raise Conflict(
                    f"An appointment that is {STATUS_LABELS[row.status].lower()} cannot be moved."
                )
            doctor_id = doctor_id or row.doctor_id
            service = _check_bookable(s, doctor_id, row.service_id, starts_at, now)
            before = (row.doctor_id, row.starts_at)
            _free_time(s, row)
            row.doctor_id, row.starts_at = doctor_id, starts_at
            row.ends_at = starts_at + _minutes(service.duration_minutes)
            row.blocked_until = row.ends_at + _minutes(service.buffer_minutes)
            _take_time(s, row, None)
            row.attention = ""  # rebooked: nothing left to tell
            _event(
                s,
                actor,
                row,
                row.status,
                row.status,
                moved_from=before[1].isoformat(),
                doctor_from=before[0],
            )
            audit.append(s, actor, "appointment.reschedule", "appointments", row.id)
            return view_of(s, row)

    # ---- follow-ups and the waitlist ----

    def book_follow_up(
        self, actor: Actor, appointment_id: str, after_days: int, service_id: str | None = None
    ) -> AppointmentView:
        """From a completed or missed visit: the doctor's first free slot after the interval."""
        actor.require(P.APPOINTMENTS_MANAGE)
        if not 1 <= after_days <= 365:
            raise ValidationError({"interval": "must be 1 to 365 days"})
        with self.store.read() as s:
            row = _appointment(s, appointment_id)
        if row.status not in ("completed", "no_show"):
            raise Conflict("A follow-up is booked from a completed or missed appointment.")
        service_id = service_id or row.service_id
        after = max(row.starts_at + timedelta(days=after_days), self.clock())
        offer = self.next_free(actor, service_id, doctor_id=row.doctor_id, after=after)
        if offer is None:
            raise SlotUnavailable(
                "The doctor has no free slot in the 60 days after that; "
                "add the patient to the waitlist instead."
            )
        return self.book(
            actor, row.patient_id, row.doctor_id, service_id, offer.starts_at, follow_up_of=row.id
        )

    def add_to_waitlist(
        self,
        actor: Actor,
        patient_id: str,
        service_id: str,
        first_day: date,
        last_day: date,
        doctor_id: str | None = None,
        note: str = "",
    ) -> str:
        actor.require(P.APPOINTMENTS_MANAGE)
        if last_day < first_day:
            raise ValidationError({"last_day": "is before the first day"})
        with self.store.write(actor) as s:
            _service(s, service_id)
            row = WaitlistEntry(
                patient_id=patient_id,
                service_id=service_id,
                doctor_id=doctor_id,
                first_day=first_day,
                last_day=last_day,
                note=note.strip(),
            )
            s.add(row)
            s.flush()
            audit.append(s, actor, "waitlist.add", "waitlist", row.id, patient_id=patient_id)
            return row.id

    def waitlist_matches(
        self, actor: Actor, doctor_id: str, service_id: str, starts_at: datetime
    ) -> list[tuple[str, str, str]]:
        """Who on the waitlist could take this slot: (entry id, patient id, patient name)."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            day = starts_at.astimezone(_zone(s)).date()
            rows = s.scalars(
                select(WaitlistEntry)
                .where(
                    WaitlistEntry.status == "waiting",
                    WaitlistEntry.service_id == service_id,
                    WaitlistEntry.first_day <= day,
                    WaitlistEntry.last_day >= day,
                    or_(WaitlistEntry.doctor_id.is_(None), WaitlistEntry.doctor_id == doctor_id),
                )
                .order_by(WaitlistEntry.created_at)
            )
            return [(r.id, r.patient_id, _patient_name(s, r.patient_id)) for r in rows]

    def book_from_waitlist(
        self, actor: Actor, entry_id: str, doctor_id: str, starts_at: datetime
    ) -> AppointmentView:
        with self.store.read() as s:
            entry = s.get(WaitlistEntry, entry_id)
            if entry is None or entry.status != "waiting":
                raise Conflict("That waitlist entry is no longer waiting.")
            patient_id, service_id = entry.patient_id, entry.service_id
        view = self.book(actor, patient_id, doctor_id, service_id, starts_at)
        with self.store.write(actor) as s:
            s.get(WaitlistEntry, entry_id).status = "booked"
        return view

    # ---- bookings hit by a change of hours, leave or absence ----

    def needing_attention(self, actor: Actor) -> list[Affected]:
        """Future bookings whose patient must be told and rebooked, with offers for each."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            rows = s.scalars(
                select(Appointment)
                .where(
                    Appointment.attention != "",
                    Appointment.status.in_(MOVABLE),
                    Appointment.starts_at >= self.clock(),
                )
                .order_by(Appointment.starts_at)
            ).all()
            views = [(view_of(s, r), r.attention) for r in rows]
        return [self._offers(actor, view, reason) for view, reason in views]

    def mark_told(self, actor: Actor, appointment_id: str) -> None:
        """Reception told the patient (and the booking stays as it is)."""
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            row = _appointment(s, appointment_id)
            _event(s, actor, row, row.status, row.status, told=row.attention)
            row.attention = ""
            audit.append(s, actor, "appointment.told", "appointments", row.id)

    def _offers(self, actor: Actor, view: AppointmentView, reason: str) -> Affected:
        same = self.next_free(actor, view.service_id, doctor_id=view.doctor_id)
        with self.store.read() as s:
            doctor = s.get(DoctorProfile, view.doctor_id)
            colleagues = s.scalars(
                select(DoctorProfile.id).where(
                    DoctorProfile.specialization_id == doctor.specialization_id,
                    DoctorProfile.id != doctor.id,
                    DoctorProfile.deleted_at.is_(None),
                )
            ).all()
        offers = [self.next_free(actor, view.service_id, doctor_id=c) for c in colleagues]
        other = min((o for o in offers if o), key=lambda o: o.starts_at, default=None)
        return Affected(view, reason, same, other)

    # ---- lifecycle ----

    def cancel(
        self, actor: Actor, appointment_id: str, reason: str, now: datetime | None = None
    ) -> int:
        """Cancel with a reason; returns the refund due under the clinic's policy (minor units)."""
        actor.require(P.APPOINTMENTS_MANAGE)
        if not reason.strip():
            raise ValidationError({"reason": "is required: say why it is cancelled"})
        with self.store.write(actor) as s:
            row = _appointment(s, appointment_id)
            if row.status == "cancelled":
                who = s.get(User, row.cancelled_by) if row.cancelled_by else None
                raise Conflict(
                    f"This appointment was already cancelled"
                    f"{' by ' + who.display_name if who else ''}: {row.cancel_reason}"
                )
            _check_move(row, "cancelled")
            policy = CancellationPolicy.from_json(_profile(s).cancellation_policy)
            refund = policy.refund(row.fee_minor, row.starts_at, now or self.clock())
            row.cancel_reason, row.cancelled_by = reason.strip(), actor.user_id
            row.attention = ""
            change_status(s, actor, row, "cancelled", reason=reason.strip(), refund_minor=refund)
            return refund

    def set_status(
        self, actor: Actor, appointment_id: str, status: str, reason: str = ""
    ) -> AppointmentView:
        """Approve, reject, check in, start, complete, or mark a no-show."""
        actor.require(P.APPOINTMENTS_MANAGE)
        if status == "cancelled":
            raise ValueError("use cancel(), which needs a reason and applies the policy")
        if status == "rejected" and not reason.strip():
            raise ValidationError({"reason": "is required: say why it is rejected"})
        with self.store.write(actor) as s:
            row = _appointment(s, appointment_id)
            _check_move(row, status)
            change_status(s, actor, row, status, reason=reason.strip())
            return view_of(s, row)

    def flag_no_shows(self, actor: Actor, now: datetime | None = None) -> int:
        """Confirmed appointments whose grace period has passed become no-shows (idempotent)."""
        actor.require(P.APPOINTMENTS_MANAGE)
        now = now or self.clock()
        with self.store.write(actor) as s:
            grace = timedelta(minutes=_profile(s).no_show_after_minutes)
            late = s.scalars(
                select(Appointment).where(
                    Appointment.status == "confirmed", Appointment.starts_at < now - grace
                )
            )
            count = 0
            for row in late:
                change_status(s, actor, row, "no_show")
                count += 1
            return count

    def history(self, actor: Actor, appointment_id: str) -> list[StatusChange]:
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            rows = s.scalars(
                select(AppointmentEvent)
                .where(AppointmentEvent.appointment_id == appointment_id)
                .order_by(AppointmentEvent.created_at, AppointmentEvent.id)
            )
            return [
                StatusChange(
                    r.created_at, r.actor_name, r.from_status, r.to_status, json.loads(r.detail)
                )
                for r in rows
            ]

    def day(
        self, actor: Actor, day: date, doctor_ids: list[str] | None = None
    ) -> list[AppointmentView]:
        """Everything booked on a local day, in time order (cancelled ones included)."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            tz = _zone(s)
            start, end = local_moment(day, 0, tz), local_moment(day, 24 * 60, tz)
            stmt = select(Appointment).where(
                Appointment.starts_at >= start, Appointment.starts_at < end
            )
            if doctor_ids:
                stmt = stmt.where(Appointment.doctor_id.in_(doctor_ids))
            return [view_of(s, r) for r in s.scalars(stmt.order_by(Appointment.starts_at))]


# ---- helpers (all inside the caller's transaction) ----


def change_status(s: Session, actor: Actor, row: Appointment, status: str, **detail) -> None:
    """Move an appointment on (the caller checked the move is allowed), with its history."""
    before = row.status
    row.status = status
    if status in FREES_TIME:
        _free_time(s, row)
    _event(s, actor, row, before, status, **detail)
    audit.append(s, actor, f"appointment.{status}", "appointments", row.id)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def _profile(s: Session) -> ClinicProfile:
    return s.scalars(select(ClinicProfile)).one()


def _zone(s: Session) -> ZoneInfo:
    return ZoneInfo(_profile(s).time_zone)


def _service(s: Session, service_id: str) -> CareService:
    row = s.get(CareService, service_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That service does not exist.")
    return row


def _appointment(s: Session, appointment_id: str) -> Appointment:
    row = s.get(Appointment, appointment_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That appointment does not exist.")
    return row


def _patient_name(s: Session, patient_id: str) -> str:
    patient = s.get(Patient, patient_id)
    return f"{patient.given_name} {patient.family_name}"


def _doctor_name(s: Session, doctor: DoctorProfile) -> str:
    user = s.get(User, doctor.user_id)
    return user.display_name if user else "?"


def flag_affected(
    s: Session, actor: Actor, doctor_ids: list[str], reason: str, now: datetime
) -> int:
    """After a change of hours or days off: mark the future bookings that no longer fit.

    Runs inside the transaction that made the change, so the marks and the change go together.
    """
    tz = _zone(s)
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
        calendar = _calendar(s, row.doctor_id, day, day, tz, now)
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
            _event(s, actor, row, row.status, row.status, attention=reason)
            count += 1
    return count


def _check_move(row: Appointment, status: str) -> None:
    if status not in NEXT.get(row.status, set()):
        raise Conflict(
            f"An appointment that is {STATUS_LABELS[row.status].lower()} cannot "
            f"become {STATUS_LABELS[status].lower()}."
        )


def _calendar(
    s: Session, doctor_id: str, first_day: date, last_day: date, tz: ZoneInfo, now: datetime
) -> DoctorCalendar:
    start = local_moment(first_day, 0, tz) - timedelta(days=1)
    end = local_moment(last_day, 24 * 60, tz) + timedelta(days=1)
    windows = [
        Window(
            h.weekday,
            h.start_minute,
            h.end_minute,
            frozenset(x for x in h.service_ids.split(",") if x),
        )
        for h in s.scalars(
            select(VisitingHours).where(
                VisitingHours.doctor_id == doctor_id, VisitingHours.deleted_at.is_(None)
            )
        )
    ]
    holidays = set(
        s.scalars(
            select(ClinicHoliday.day).where(
                ClinicHoliday.day.between(first_day, last_day), ClinicHoliday.deleted_at.is_(None)
            )
        )
    )
    leave = [
        (row.first_day, row.last_day)
        for row in s.scalars(
            select(DoctorLeave).where(
                DoctorLeave.doctor_id == doctor_id,
                DoctorLeave.deleted_at.is_(None),
                DoctorLeave.first_day <= last_day,
                DoctorLeave.last_day >= first_day,
            )
        )
    ]
    busy = [
        Interval(a, b)
        for a, b in s.execute(
            select(Appointment.starts_at, Appointment.blocked_until).where(
                Appointment.doctor_id == doctor_id,
                Appointment.status.not_in(FREES_TIME),
                Appointment.starts_at < end,
                Appointment.blocked_until > start,
            )
        )
    ]
    busy += [
        Interval(a, b)
        for a, b in s.execute(
            select(SlotHold.starts_at, SlotHold.ends_at).where(
                SlotHold.doctor_id == doctor_id,
                SlotHold.expires_at > now,
                SlotHold.starts_at < end,
                SlotHold.ends_at > start,
            )
        )
    ]
    busy += [
        Interval(a, b)
        for a, b in s.execute(
            select(DoctorAbsence.starts_at, DoctorAbsence.ends_at).where(
                DoctorAbsence.doctor_id == doctor_id,
                DoctorAbsence.deleted_at.is_(None),
                DoctorAbsence.starts_at < end,
                DoctorAbsence.ends_at > start,
            )
        )
    ]
    return DoctorCalendar(windows, holidays, leave, busy)


def _check_bookable(
    s: Session, doctor_id: str, service_id: str, starts_at: datetime, now: datetime
) -> CareService:
    """The doctor offers the service then, in their hours, on a working day, not in the past."""
    doctor = s.get(DoctorProfile, doctor_id)
    if doctor is None or doctor.deleted_at is not None:
        raise NotFound("That doctor does not exist.")
    service = _service(s, service_id)
    name = _doctor_name(s, doctor)
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
    tz = _zone(s)
    local = starts_at.astimezone(tz)
    calendar = _calendar(s, doctor_id, local.date(), local.date(), tz, now)
    duration = _minutes(service.duration_minutes)
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


def _check_free(
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
            tz = _zone(s)
            raise SlotUnavailable(
                f"That time is already booked ({other.starts_at.astimezone(tz):%H:%M}–"
                f"{other.ends_at.astimezone(tz):%H:%M}). Choose another slot."
            )
        if claim.hold_id != own_hold:
            hold = s.get(SlotHold, claim.hold_id)
            raise SlotUnavailable(
                f"{hold.held_by_name} is holding that time for a patient at another desk "
                f"(until {hold.expires_at.astimezone(_zone(s)):%H:%M})."
            )


def _take_time(s: Session, row: Appointment, hold_id: str | None) -> None:
    _check_free(s, row.doctor_id, row.starts_at, row.blocked_until, hold_id)
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
            tz = _zone(s)
            raise SlotUnavailable(
                f"The patient already has an appointment then "
                f"({other.starts_at.astimezone(tz):%H:%M}–{other.ends_at.astimezone(tz):%H:%M}"
                f" with {_doctor_name(s, s.get(DoctorProfile, other.doctor_id))})."
            )
    if row not in s:
        s.add(row)
    s.flush()
    _claim(
        s,
        DoctorTimeClaim,
        [
            {"doctor_id": row.doctor_id, "cell": c, "appointment_id": row.id, "hold_id": None}
            for c in cells(row.starts_at, row.blocked_until)
        ],
    )
    if not row.overlap_reason:
        _claim(
            s,
            PatientTimeClaim,
            [
                {"patient_id": row.patient_id, "cell": c, "appointment_id": row.id}
                for c in cells(row.starts_at, row.ends_at)
            ],
        )


def _claim(s: Session, model, rows: list[dict]) -> None:
    try:
        s.execute(insert(model), rows)
    except IntegrityError:
        raise SlotUnavailable(
            "That time was just taken at another desk. Choose another slot."
        ) from None


def _free_time(s: Session, row: Appointment) -> None:
    s.execute(delete(DoctorTimeClaim).where(DoctorTimeClaim.appointment_id == row.id))
    s.execute(delete(PatientTimeClaim).where(PatientTimeClaim.appointment_id == row.id))


def _drop_expired_holds(s: Session, now: datetime) -> None:
    s.execute(delete(SlotHold).where(SlotHold.expires_at <= now))


def _event(s: Session, actor: Actor, row: Appointment, before: str, after: str, **detail) -> None:
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


def view_of(s: Session, row: Appointment) -> AppointmentView:
    doctor = s.get(DoctorProfile, row.doctor_id)
    service = s.get(CareService, row.service_id)
    return AppointmentView(
        row.id,
        row.patient_id,
        _patient_name(s, row.patient_id),
        row.doctor_id,
        _doctor_name(s, doctor),
        row.service_id,
        service.name,
        row.starts_at,
        row.ends_at,
        row.status,
        row.version,
    )

"""Appointments: free slots, holds, booking without double bookings, the lifecycle, follow-ups,
the waitlist, and bookings hit by a change of hours. How a booking keeps its time is in
clinicdesk.services.booking.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import new_id, utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.scheduling.policy import CancellationPolicy
from clinicdesk.scheduling.slots import (
    cells,
    free_slots,
    local_moment,
)
from clinicdesk.scheduling.status import FREES_TIME, MOVABLE, AppointmentStatus, moves
from clinicdesk.services.booking import (
    AppointmentView,
    SlotUnavailable,
    change_status,
    check_bookable,
    check_free,
    check_move,
    claim_cells,
    doctor_name,
    drop_expired_holds,
    free_time,
    get_appointment,
    get_service,
    load_calendars,
    minutes_of,
    patient_name,
    record_event,
    take_time,
    view_of,
    views_where,
)
from clinicdesk.services.clinic import clinic_day, clinic_profile, clinic_zone
from clinicdesk.services.queue import LEFT, WAITING
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    Appointment,
    AppointmentEvent,
    ClinicHoliday,
    DoctorLeave,
    DoctorProfile,
    DoctorService,
    DoctorTimeClaim,
    Patient,
    QueueEntry,
    SlotHold,
    User,
    VisitingHours,
    WaitlistEntry,
)

HOLD_MINUTES = 5


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
        return self.free_slots_for(actor, [doctor_id], service_id, first_day, days, now)[doctor_id]

    def free_slots_for(
        self,
        actor: Actor,
        doctor_ids: list[str],
        service_id: str,
        first_day: date,
        days: int = 1,
        now: datetime | None = None,
    ) -> dict[str, list[datetime]]:
        """Free start times of several doctors over ``days`` days, read in one transaction."""
        actor.require(P.PATIENT_READ)
        now = now or self.clock()
        last_day = first_day + timedelta(days=days - 1)
        with self.store.read() as s:
            tz = clinic_zone(s)
            service = get_service(s, service_id)
            calendars = load_calendars(s, doctor_ids, first_day, last_day, tz, now)
        duration = minutes_of(service.duration_minutes)
        buffer = minutes_of(service.buffer_minutes)
        return {
            doctor_id: list(
                free_slots(calendar, service_id, duration, buffer, first_day, last_day, tz, now)
            )
            for doctor_id, calendar in calendars.items()
        }

    def closures(
        self, actor: Actor, doctor_ids: list[str], first_day: date, last_day: date
    ) -> dict[tuple[str, date], str]:
        """Why each doctor sees nobody on the days they do not work, keyed by (doctor, day):
        "Clinic holiday: <name>", "<doctor> on leave" or "Closed: <weekday>" (no hours then)."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            holidays = dict(
                s.execute(
                    select(ClinicHoliday.day, ClinicHoliday.name).where(
                        ClinicHoliday.day.between(first_day, last_day),
                        ClinicHoliday.deleted_at.is_(None),
                    )
                ).all()
            )
            leave = s.execute(
                select(DoctorLeave.doctor_id, DoctorLeave.first_day, DoctorLeave.last_day).where(
                    DoctorLeave.doctor_id.in_(doctor_ids),
                    DoctorLeave.deleted_at.is_(None),
                    DoctorLeave.first_day <= last_day,
                    DoctorLeave.last_day >= first_day,
                )
            ).all()
            working = set(
                s.execute(
                    select(VisitingHours.doctor_id, VisitingHours.weekday).where(
                        VisitingHours.doctor_id.in_(doctor_ids),
                        VisitingHours.deleted_at.is_(None),
                    )
                ).all()
            )
            names = {
                d.id: doctor_name(s, d)
                for d in s.scalars(select(DoctorProfile).where(DoctorProfile.id.in_(doctor_ids)))
            }
        closed: dict[tuple[str, date], str] = {}
        for offset in range((last_day - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            for doctor_id in doctor_ids:
                if day in holidays:
                    closed[doctor_id, day] = f"Clinic holiday: {holidays[day]}"
                elif any(d == doctor_id and a <= day <= b for d, a, b in leave):
                    closed[doctor_id, day] = f"{names.get(doctor_id, 'The doctor')} on leave"
                elif (doctor_id, day.weekday()) not in working:
                    closed[doctor_id, day] = f"Closed: {day:%A}"
        return closed

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
            tz = clinic_zone(s)
            service = get_service(s, service_id)
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
            names = {d.id: doctor_name(s, d) for d in s.scalars(stmt)}
            first_day = after.astimezone(tz).date()
            duration = minutes_of(service.duration_minutes)
            buffer = minutes_of(service.buffer_minutes)
            for week in range(0, horizon_days, 7):  # a week at a time: most find it at once
                start = first_day + timedelta(days=week)
                end = min(start + timedelta(days=6), first_day + timedelta(horizon_days))
                calendars = load_calendars(s, list(names), start, end, tz, after)
                offers = [
                    SlotOffer(d, names[d], slot)
                    for d, calendar in calendars.items()
                    if (
                        slot := next(
                            free_slots(
                                calendar, service_id, duration, buffer, start, end, tz, after
                            ),
                            None,
                        )
                    )
                    is not None
                ]
                if offers:
                    return min(offers, key=lambda o: o.starts_at)
            return None

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
            drop_expired_holds(s, now)
            service = check_bookable(s, doctor_id, service_id, starts_at, now)
            ends_at = starts_at + minutes_of(service.duration_minutes + service.buffer_minutes)
            check_free(s, doctor_id, starts_at, ends_at, None)
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
            claim_cells(
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
            drop_expired_holds(s, now)
            service = check_bookable(s, doctor_id, service_id, starts_at, now)
            patient = s.get(Patient, patient_id)
            if patient is None or patient.deleted_at is not None:
                raise NotFound("That patient record does not exist or was removed.")
            row = Appointment(
                id=new_id(),
                patient_id=patient_id,
                doctor_id=doctor_id,
                service_id=service_id,
                starts_at=starts_at,
                ends_at=starts_at + minutes_of(service.duration_minutes),
                blocked_until=starts_at
                + minutes_of(service.duration_minutes + service.buffer_minutes),
                status=(
                    AppointmentStatus.PENDING
                    if clinic_profile(s).booking_needs_approval
                    else AppointmentStatus.CONFIRMED
                ),
                fee_minor=service.fee_minor,
                note=note.strip(),
                booked_by=actor.user_id,
                overlap_reason=overlap_reason.strip(),
                follow_up_of=follow_up_of,
            )
            take_time(s, row, hold_id)
            record_event(s, actor, row, "", row.status, service=service.name)
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
            drop_expired_holds(s, now)
            row = get_appointment(s, appointment_id)
            status = AppointmentStatus(row.status)
            if not status.movable:
                raise Conflict(f"An appointment that is {status.label.lower()} cannot be moved.")
            doctor_id = doctor_id or row.doctor_id
            service = check_bookable(s, doctor_id, row.service_id, starts_at, now)
            before = (row.doctor_id, row.starts_at)
            free_time(s, row)
            row.doctor_id, row.starts_at = doctor_id, starts_at
            row.ends_at = starts_at + minutes_of(service.duration_minutes)
            row.blocked_until = row.ends_at + minutes_of(service.buffer_minutes)
            take_time(s, row, None)
            row.attention = ""  # rebooked: nothing left to tell
            record_event(
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
            row = get_appointment(s, appointment_id)
        if not AppointmentStatus(row.status).finished:
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
            get_service(s, service_id)
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
            day = starts_at.astimezone(clinic_zone(s)).date()
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
            return [(r.id, r.patient_id, patient_name(s, r.patient_id)) for r in rows]

    def book_from_waitlist(
        self, actor: Actor, entry_id: str, doctor_id: str, starts_at: datetime
    ) -> AppointmentView:
        actor.require(P.APPOINTMENTS_MANAGE)  # before the entry is read: a refusal tells nothing
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
            row = get_appointment(s, appointment_id)
            record_event(s, actor, row, row.status, row.status, told=row.attention)
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
            row = get_appointment(s, appointment_id)
            if row.status == AppointmentStatus.CANCELLED:
                who = s.get(User, row.cancelled_by) if row.cancelled_by else None
                raise Conflict(
                    f"This appointment was already cancelled"
                    f"{' by ' + who.display_name if who else ''}: {row.cancel_reason}"
                )
            now = now or self.clock()
            check_move(s, row, AppointmentStatus.CANCELLED, now)
            policy = CancellationPolicy.from_json(clinic_profile(s).cancellation_policy)
            refund = policy.refund(row.fee_minor, row.starts_at, now)
            row.cancel_reason, row.cancelled_by = reason.strip(), actor.user_id
            row.attention = ""
            change_status(
                s,
                actor,
                row,
                AppointmentStatus.CANCELLED,
                reason=reason.strip(),
                refund_minor=refund,
            )
            # a checked-in patient whose booking is cancelled is no longer waiting to be called
            for entry in s.scalars(
                select(QueueEntry).where(
                    QueueEntry.appointment_id == row.id, QueueEntry.status == WAITING
                )
            ):
                entry.status = LEFT
            return refund

    def set_status(
        self, actor: Actor, appointment_id: str, status: str, reason: str = ""
    ) -> AppointmentView:
        """Approve, reject, check in, start, complete, or mark a no-show."""
        actor.require(P.APPOINTMENTS_MANAGE)
        try:
            target = AppointmentStatus(status)
        except ValueError:
            raise ValidationError({"status": f"“{status}” is not an appointment status"}) from None
        if target == AppointmentStatus.CANCELLED:
            raise Conflict(
                "An appointment is cancelled with Cancel, which asks for the reason and applies "
                "the clinic's cancellation policy."
            )
        if target == AppointmentStatus.REJECTED and not reason.strip():
            raise ValidationError({"reason": "is required: say why it is rejected"})
        with self.store.write(actor) as s:
            row = get_appointment(s, appointment_id)
            check_move(s, row, target, self.clock())
            change_status(s, actor, row, target, reason=reason.strip())
            return view_of(s, row)

    def moves(self, actor: Actor, appointment_id: str) -> tuple[AppointmentStatus, ...]:
        """What the appointment may become now, by the clinic's rules: the screens offer these."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            row = get_appointment(s, appointment_id)
            return moves(row.status, clinic_day(s, row.starts_at), clinic_day(s, self.clock()))

    def flag_no_shows(self, actor: Actor, now: datetime | None = None) -> int:
        """Confirmed appointments whose grace period has passed become no-shows (idempotent)."""
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            return mark_no_shows(s, actor, now or self.clock())

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

    def patient_bookings(
        self, actor: Actor, patient_id: str, first_day: date, last_day: date
    ) -> list[AppointmentView]:
        """The patient's bookings still standing on these local days, in time order."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            tz = clinic_zone(s)
            return views_where(
                s,
                Appointment.patient_id == patient_id,
                Appointment.status.not_in(FREES_TIME),
                Appointment.starts_at >= local_moment(first_day, 0, tz),
                Appointment.starts_at < local_moment(last_day + timedelta(days=1), 0, tz),
            )

    def day(
        self, actor: Actor, day: date, doctor_ids: list[str] | None = None
    ) -> list[AppointmentView]:
        """Everything booked on a local day, in time order (cancelled ones included)."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            tz = clinic_zone(s)
            start, end = local_moment(day, 0, tz), local_moment(day, 24 * 60, tz)
            conditions = [Appointment.starts_at >= start, Appointment.starts_at < end]
            if doctor_ids:
                conditions.append(Appointment.doctor_id.in_(doctor_ids))
            return views_where(s, *conditions)


def mark_no_shows(s: Session, actor: Actor, now: datetime) -> int:
    """In ``s``: confirmed appointments whose grace period has passed become no-shows; returns
    how many."""
    grace = timedelta(minutes=clinic_profile(s).no_show_after_minutes)
    late = s.scalars(
        select(Appointment).where(
            Appointment.status == AppointmentStatus.CONFIRMED,
            Appointment.starts_at < now - grace,
        )
    )
    count = 0
    for row in late:
        change_status(s, actor, row, AppointmentStatus.NO_SHOW)
        count += 1
    return count

"""The demo clinic's today, whenever it is opened: appointments around the present hour (some
seen, some waiting, some still to come) and a queue, on the day it is created and again on each
later day it is reused.

A demo tried late in the evening, at a weekend or on a bank holiday still shows a working day:
one demo doctor works around the clock (see schedule.DOCTORS), the demo clinic opens on its
bank holidays, and today's bookings are made around ``now`` rather than in office hours. Only
free slots are booked, through the booking service, so opening the demo again tops today up
without a double booking.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor
from clinicdesk.scheduling.slots import local_moment
from clinicdesk.scheduling.status import FREES_TIME, AppointmentStatus
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.appointments import AppointmentService, SlotUnavailable
from clinicdesk.services.clinic import clinic_day, clinic_zone
from clinicdesk.services.queue import CALLED, WAITING, QueueService
from clinicdesk.store.models import Appointment, ClinicHoliday, Patient, QueueEntry

AROUND_NOW = timedelta(hours=3)  # today's bookings run from this long before now to after it
BOOKED_SHARE = 0.7  # of the free slots around now
ARRIVED_EARLY = timedelta(minutes=15)  # a booked patient this early is already waiting
WANTED_WAITING = 3  # walk-ins join until this many wait
SERVICE = "Consultation"
PLAYED_OUT = (  # a visit that took place, step by step
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_CONSULTATION,
    AppointmentStatus.COMPLETED,
)


def open_today(session: ClinicSession, seed: int, now: datetime | None = None) -> None:
    """Give the demo clinic's today appointments around ``now`` and a waiting queue."""
    now = now or utcnow()
    actor = session.actor
    with session.store.read() as s:
        today = clinic_day(s, now)
        tz = clinic_zone(s)
    rng = random.Random(seed * 1009 + today.toordinal())
    _open_on_holiday(session, today)
    day_start, day_end = local_moment(today, 0, tz), local_moment(today, 24 * 60, tz)
    first, last = max(day_start, now - AROUND_NOW), min(day_end, now + AROUND_NOW)
    appointments = AppointmentService(session.store, clock=lambda: first)
    queue = QueueService(session.store, clock=lambda: now)
    service_id = next(s.id for s in session.schedule.services(actor) if s.name == SERVICE)
    patients = _free_patients(session, today, rng)
    for doctor in session.schedule.doctors(actor):
        if service_id not in doctor.service_ids:
            continue
        for start in appointments.free_slots(actor, doctor.id, service_id, today, now=first):
            if start >= last or rng.random() > BOOKED_SHARE or not patients:
                continue
            try:
                booked = appointments.book(actor, patients.pop(), doctor.id, service_id, start)
            except SlotUnavailable:
                continue
            _play_out(appointments, queue, actor, rng, booked.id, start, booked.ends_at, now)
    _walk_ins(queue, actor, patients)
    for doctor in session.schedule.doctors(actor):
        if _working_now(session, doctor.id, now.astimezone(tz)) and not _someone_called(
            session, today, doctor.id
        ):
            queue.call_next(actor, doctor.id)


def _open_on_holiday(session: ClinicSession, today: date) -> None:
    """The demo clinic has no day off today (its bank holidays are for the calendar to show)."""
    with session.store.write(session.actor) as s:
        for holiday in s.scalars(
            select(ClinicHoliday).where(
                ClinicHoliday.day == today, ClinicHoliday.deleted_at.is_(None)
            )
        ):
            holiday.deleted_at = utcnow()


def _free_patients(session: ClinicSession, today: date, rng: random.Random) -> list[str]:
    """Patients neither booked nor queued today, shuffled: each comes in once."""
    with session.store.read() as s:
        tz = clinic_zone(s)
        busy = set(
            s.scalars(
                select(Appointment.patient_id).where(
                    Appointment.starts_at >= local_moment(today, 0, tz),
                    Appointment.starts_at < local_moment(today, 24 * 60, tz),
                    Appointment.status.not_in(FREES_TIME),
                )
            )
        )
        busy |= set(s.scalars(select(QueueEntry.patient_id).where(QueueEntry.day == today)))
        free = sorted(set(s.scalars(select(Patient.id).where(Patient.deleted_at.is_(None)))) - busy)
    rng.shuffle(free)
    return free


def _play_out(
    appointments: AppointmentService,
    queue: QueueService,
    actor: Actor,
    rng: random.Random,
    appointment_id: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> None:
    """Seen already, waiting (arrived, or due about now), or still to come."""
    if ends_at <= now:
        if rng.random() < 0.1:
            appointments.set_status(actor, appointment_id, AppointmentStatus.NO_SHOW)
            return
        for status in PLAYED_OUT:
            appointments.set_status(actor, appointment_id, status)
    elif starts_at <= now + ARRIVED_EARLY:
        queue.check_in(actor, appointment_id)


def _walk_ins(queue: QueueService, actor: Actor, patients: list[str]) -> None:
    """Walk-ins join until a few wait; the second is urgent."""
    waiting = sum(1 for entry in queue.board(actor) if entry.status == WAITING)
    for n in range(max(0, WANTED_WAITING - waiting)):
        if not patients:
            return
        queue.add_walk_in(actor, patients.pop(), priority=1 if n == 1 else 0)


def _working_now(session: ClinicSession, doctor_id: str, local: datetime) -> bool:
    minute = local.hour * 60 + local.minute
    return any(
        w.weekday == local.weekday() and w.start_minute <= minute < w.end_minute
        for w in session.schedule.hours(session.actor, doctor_id)
    )


def _someone_called(session: ClinicSession, today: date, doctor_id: str) -> bool:
    with session.store.read() as s:
        called = select(QueueEntry.id).where(
            QueueEntry.day == today,
            QueueEntry.status == CALLED,
            QueueEntry.called_doctor_id == doctor_id,
        )
        return s.scalar(called) is not None

"""The demo clinic's schedule: services, the two doctors' hours, ten days of bookings behind
and two weeks ahead in office hours, bank holidays, and today (today.py), all reproducible
from the seed.

Past bookings are made through the same services with the clock set back, so their history
(checked in, completed, no-show, cancelled) is what the real flow would have written.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from clinicdesk.demo.today import PLAYED_OUT, open_today
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor
from clinicdesk.scheduling.slots import local_moment
from clinicdesk.scheduling.status import AppointmentStatus
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.appointments import AppointmentService, SlotUnavailable
from clinicdesk.services.schedule_setup import HoursInput

SERVICES = (  # name, minutes, buffer, fee in pence
    ("Consultation", 15, 5, 4500),
    ("Long consultation", 30, 5, 8000),
    ("Vaccination", 10, 0, 2500),
    ("Child health check", 20, 5, 5000),
)
# user name -> specialization, licence, languages, room, services, weekly hours
DOCTORS = {
    "dr.okafor": (
        "General practice",
        "GMC 7034512",
        ("English", "Igbo"),
        "Room 1",
        ("Consultation", "Long consultation", "Vaccination"),
        # around the clock, every day: whenever the demo is opened, a doctor is at work
        [(d, 0, 24 * 60) for d in range(7)],
    ),
    "dr.lindqvist": (
        "Paediatrics",
        "GMC 7120988",
        ("English", "Swedish"),
        "Room 3",
        ("Consultation", "Child health check", "Vaccination"),
        [(d, 9 * 60, 13 * 60) for d in range(5)]
        + [(d, 14 * 60, 17 * 60) for d in (0, 2, 4)]
        + [(5, 9 * 60, 12 * 60)],
    ),
}
PAST_DAYS, AHEAD_DAYS = 10, 14
OFFICE_HOURS = (8 * 60, 18 * 60)  # the days behind and ahead are booked in these local hours
BANK_HOLIDAYS = {
    date(2026, 12, 25): "Christmas Day",
    date(2026, 12, 28): "Boxing Day (moved)",
    date(2027, 1, 1): "New Year's Day",
    date(2027, 3, 26): "Good Friday",
    date(2027, 3, 29): "Easter Monday",
}


def add_schedule(
    session: ClinicSession, seed: int, patient_ids: list[str], now: datetime | None = None
) -> None:
    rng = random.Random(seed)
    actor = session.actor
    now = now or utcnow()
    tz = ZoneInfo(session.clinic.details().time_zone)
    setup = session.schedule
    services = {
        name: setup.add_service(actor, name, minutes, buffer, fee).id
        for name, minutes, buffer, fee in SERVICES
    }
    users = {u.username: u.id for u in session.users.list(actor)}
    specializations: dict[str, str] = {}
    doctors = []
    for username, (spec, licence, languages, room, offered, hours) in DOCTORS.items():
        if spec not in specializations:
            specializations[spec] = setup.add_specialization(actor, spec)
        doctor = setup.make_doctor(
            actor,
            users[username],
            specializations[spec],
            licence,
            {services[n] for n in offered},
            languages,
            room,
        )
        setup.set_hours(actor, doctor.id, [HoursInput(*h) for h in hours])
        doctors.append((doctor.id, [services[n] for n in offered]))
    for day, name in BANK_HOLIDAYS.items():
        if day > now.astimezone(tz).date():  # today is a working day (today.py)
            setup.add_holiday(actor, day, name)

    today = now.astimezone(tz).date()
    past = AppointmentService(
        session.store, clock=lambda: local_moment(today - timedelta(days=PAST_DAYS + 1), 0, tz)
    )
    _book_days(
        past,
        actor,
        rng,
        doctors,
        patient_ids,
        today - timedelta(days=PAST_DAYS),
        today,
        tz,
        fill=0.6,
        finish_at=now,
    )
    ahead = AppointmentService(session.store, clock=lambda: now)
    _book_days(
        ahead,
        actor,
        rng,
        doctors,
        patient_ids,
        today,
        today + timedelta(days=AHEAD_DAYS),
        tz,
        fill=0.5,
    )
    open_today(session, seed, now)


def _book_days(
    appointments: AppointmentService,
    actor: Actor,
    rng: random.Random,
    doctors,
    patient_ids: list[str],
    first: date,
    last: date,
    tz: ZoneInfo,
    fill: float,
    finish_at: datetime | None = None,
) -> None:
    """Book a share of every doctor's free slots; with ``finish_at``, play the visits out."""
    for doctor_id, service_ids in doctors:
        for service_id in service_ids[:1] * 3 + service_ids[1:]:
            slots = appointments.free_slots(
                actor, doctor_id, service_id, first, days=(last - first).days
            )
            for start in slots:
                local = start.astimezone(tz)
                in_office = OFFICE_HOURS[0] <= local.hour * 60 + local.minute < OFFICE_HOURS[1]
                if not in_office or rng.random() > fill / 3:
                    continue
                try:
                    booked = appointments.book(
                        actor, rng.choice(patient_ids), doctor_id, service_id, start
                    )
                except SlotUnavailable:
                    continue  # the patient is busy then, or another service took the time
                if finish_at is not None and start < finish_at:
                    on_the_day = AppointmentService(appointments.store, clock=lambda s=start: s)
                    _play_out(on_the_day, actor, rng, booked.id)


def _play_out(
    appointments: AppointmentService, actor: Actor, rng: random.Random, appointment_id: str
) -> None:
    roll = rng.random()
    if roll < 0.06:
        appointments.set_status(actor, appointment_id, AppointmentStatus.NO_SHOW)
    elif roll < 0.12:
        appointments.cancel(
            actor,
            appointment_id,
            rng.choice(("Patient feeling better", "Clash with work", "Family emergency")),
        )
    else:
        for status in PLAYED_OUT:
            appointments.set_status(actor, appointment_id, status)

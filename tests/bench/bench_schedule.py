"""The scheduling core: free slots and booking, at a year of appointments for 10 doctors.

Two figures, each on SQLCipher (the real clinic, signed in as the receptionist) against the same
clinic on plain SQLite, measured in the same run:

1. free slots for 10 doctors over 4 weeks: one repetition is one call of
   ``AppointmentService.free_slots_for(ten doctors, ..., days=28)`` (what the calendar asks
   for: a consultation, from tomorrow); median and p95 over the repetitions;
2. booking through the service layer: ``AppointmentService.book`` into free slots spread over the
   year ahead, one transaction each; p50/p95/p99 over the bookings.

The clinic: 10 doctors in 4 specializations with realistic weekly hours (two windows a day, some
Saturdays, some windows only for some services), England's bank holidays, a staff training day
and leave inside the measured weeks, a few emergency absences, and about 20 appointments per
doctor per working day for the next 52 weeks (~50,000), written in bulk in exactly the shape
``book()`` writes them (appointment + its event + outbox rows, doctor and patient time claims).
Both clinics are built once a week (the year starts tomorrow) and kept under the bench directory;
each run works on copies, so the bookings it makes do not accumulate in the cache.

    uv run python tests/bench/bench_schedule.py [--reps 30] [--bookings 500] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KDF,
    PASSWORD,
    RECEPTION,
    REPO,
    Stopwatch,
    add_plain_staff,
    bench_root,
    cached_build,
    copy_clinic,
    create_plain_clinic,
    fingerprint_with,
    machine_note,
    median,
    open_plain_clinic,
    percentile,
    ratio,
    remove_folder,
    summary,
    table,
    verdict,
)
from sqlalchemy import func, select

from clinicdesk.demo.clinic import DEMO_CLINIC, DEMO_STAFF
from clinicdesk.demo.people import PeopleGenerator
from clinicdesk.errors import Conflict
from clinicdesk.ids import new_id
from clinicdesk.permissions import Actor, Role
from clinicdesk.scheduling.slots import cells, local_moment
from clinicdesk.services.access import AdminAccount, create_clinic, sign_in
from clinicdesk.services.schedule_setup import HoursInput
from clinicdesk.store import audit, outbox
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    Appointment,
    AppointmentEvent,
    DoctorTimeClaim,
    Patient,
    PatientTimeClaim,
    User,
)

TARGET_FREE_MS = 20.0
TARGET_BOOK_P95_MS = 15.0
BUILD_VERSION = "1"  # bump when the clinic built below changes
TZ = ZoneInfo(DEMO_CLINIC.time_zone)
YEAR_DAYS = 364
WINDOW_DAYS = 28
CANCELLED_SHARE = 0.03
OWNER = DEMO_STAFF[0][1]

# ---------------------------------------------------------------- the clinic's set-up

# (key, name, duration, buffer, fee in pence)
SERVICES = [
    ("consult", "Consultation", 15, 5, 6000),
    ("long", "Long consultation", 30, 5, 9000),
    ("vacc", "Vaccination", 10, 0, 2500),
    ("ecg", "ECG", 20, 10, 8000),
]
SPECIALIZATIONS = ["General practice", "Paediatrics", "Dermatology", "Cardiology"]
# The demo clinic's two doctors, then eight more.
EXTRA_DOCTORS = [
    (Role.DOCTOR, "dr.haddad", "Dr Layla Haddad"),
    (Role.DOCTOR, "dr.brennan", "Dr Ciarán Brennan"),
    (Role.DOCTOR, "dr.mensah", "Dr Kwame Mensah"),
    (Role.DOCTOR, "dr.kowalska", "Dr Ewa Kowalska"),
    (Role.DOCTOR, "dr.iyer", "Dr Anjali Iyer"),
    (Role.DOCTOR, "dr.fletcher", "Dr Tom Fletcher"),
    (Role.DOCTOR, "dr.moreau", "Dr Claire Moreau"),
    (Role.DOCTOR, "dr.demir", "Dr Emre Demir"),
]
DOCTOR_USERNAMES = [u for r, u, _ in DEMO_STAFF if r is Role.DOCTOR] + [
    u for _, u, _ in EXTRA_DOCTORS
]
# Per doctor: specialization, services offered, weekly windows (weekday, from, to, services or
# None for all), with a mix of services booked (weights).
GP_MIX = {"consult": 70, "long": 18, "vacc": 12}


def _week(days, windows) -> list[tuple[int, int, int, tuple[str, ...] | None]]:
    return [(d, a, b, only) for d in days for a, b, only in windows]


def _gp(saturday: bool = False, short_wednesday: bool = False) -> dict:
    hours = _week(range(5), [(510, 750, None), (810, 1050, None)])  # 08:30-12:30, 13:30-17:30
    if short_wednesday:
        hours = [h for h in hours if not (h[0] == 2 and h[1] == 810)]
    if saturday:
        hours += [(5, 540, 720, None)]  # Saturday 09:00-12:00
    return {"spec": 0, "services": ("consult", "long", "vacc"), "hours": hours, "mix": GP_MIX}


DOCTOR_PLANS = [
    _gp(),
    _gp(saturday=True),
    _gp(),
    _gp(),
    _gp(saturday=True),
    _gp(short_wednesday=True),
    {  # paediatrics: afternoons are consultations and vaccinations only
        "spec": 1,
        "services": ("consult", "long", "vacc"),
        "hours": _week(range(5), [(540, 780, None), (840, 1020, ("consult", "vacc"))]),
        "mix": {"consult": 60, "long": 10, "vacc": 30},
    },
    {
        "spec": 1,
        "services": ("consult", "long", "vacc"),
        "hours": _week(range(5), [(540, 780, None), (840, 1020, ("consult", "vacc"))]),
        "mix": {"consult": 60, "long": 10, "vacc": 30},
    },
    {  # dermatology, Monday to Thursday
        "spec": 2,
        "services": ("consult", "long"),
        "hours": _week(range(4), [(540, 780, None), (840, 1080, None)]),
        "mix": {"consult": 65, "long": 35},
    },
    {  # cardiology: afternoons are ECGs only
        "spec": 3,
        "services": ("consult", "long", "ecg"),
        "hours": _week(range(5), [(480, 720, None), (780, 960, ("ecg",))]),
        "mix": {"consult": 55, "long": 25, "ecg": 20},
    },
]


def easter(year: int) -> date:
    """Anonymous Gregorian algorithm."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def bank_holidays(year: int) -> dict[date, str]:
    def mondays(month: int) -> list[date]:
        first = date(year, month, 1)
        out = []
        day = first + timedelta(days=(7 - first.weekday()) % 7)
        while day.month == month:
            out.append(day)
            day += timedelta(days=7)
        return out

    e = easter(year)
    return {
        date(year, 1, 1): "New Year's Day",
        e - timedelta(days=2): "Good Friday",
        e + timedelta(days=1): "Easter Monday",
        mondays(5)[0]: "Early May bank holiday",
        mondays(5)[-1]: "Spring bank holiday",
        mondays(8)[-1]: "Summer bank holiday",
        date(year, 12, 25): "Christmas Day",
        date(year, 12, 26): "Boxing Day",
    }


@dataclass(frozen=True)
class Booking:
    doctor: int  # index into DOCTOR_PLANS
    service: str  # key into SERVICES
    patient: int  # index into the patients ordered by MRN
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    cancelled: bool


@dataclass(frozen=True)
class Calendar:
    first_day: date  # tomorrow when built: the year of bookings starts here
    holidays: dict[date, str]
    leave: list[tuple[int, date, date, str]]
    absences: list[tuple[int, datetime, datetime, str]]
    bookings: list[Booking]


@cache
def plan_calendar(first_day: date, patients: int, seed: int) -> Calendar:
    """The whole year, decided from the seed alone, so that both clinics get the same one."""
    rng = random.Random(seed)
    last_day = first_day + timedelta(days=YEAR_DAYS - 1)
    holidays = {
        d: n
        for y in range(first_day.year, last_day.year + 1)
        for d, n in bank_holidays(y).items()
        if first_day <= d <= last_day
    }
    # A staff training day on the Wednesday of next week: inside the measured four weeks.
    training = first_day + timedelta(days=7 + (2 - first_day.weekday()) % 7)
    holidays.setdefault(training, "Staff training day")

    leave = []
    for d in range(len(DOCTOR_PLANS)):
        for _ in range(3):  # three spells of 5 to 12 days over the year
            start = first_day + timedelta(days=rng.randrange(35, YEAR_DAYS - 14))
            leave.append((d, start, start + timedelta(days=rng.randint(4, 11)), "Annual leave"))
    # Two doctors away inside the measured four weeks.
    leave.append((2, first_day + timedelta(days=8), first_day + timedelta(days=12), "Conference"))
    leave.append((6, first_day + timedelta(days=15), first_day + timedelta(days=17), "Leave"))

    absences = []
    for _ in range(12):
        d = rng.randrange(len(DOCTOR_PLANS))
        day = first_day + timedelta(days=rng.randrange(1, YEAR_DAYS))
        start = local_moment(day, rng.choice((600, 660, 840)), TZ)
        length = timedelta(minutes=rng.choice((60, 90, 120)))
        absences.append((d, start, start + length, "Called away"))

    services = {key: (dur, buf) for key, _, dur, buf, _ in SERVICES}
    taken: set[tuple[int, datetime]] = set()  # (patient, cell): nobody in two places at once
    bookings: list[Booking] = []
    for offset in range(YEAR_DAYS):
        day = first_day + timedelta(days=offset)
        if day in holidays:
            continue
        for d, plan in enumerate(DOCTOR_PLANS):
            if any(who == d and a <= day <= b for who, a, b, _ in leave):
                continue
            away = [(a, b) for who, a, b, _ in absences if who == d]
            for weekday, start_min, end_min, only in plan["hours"]:
                if weekday != day.weekday():
                    continue
                allowed = [k for k in plan["services"] if only is None or k in only]
                weights = [plan["mix"].get(k, 0) or 1 for k in allowed]
                t = local_moment(day, start_min, TZ)
                end = local_moment(day, end_min, TZ)
                while True:
                    if rng.random() < 0.08:  # some time stays free
                        t += timedelta(minutes=rng.choice((5, 10, 15, 20, 30)))
                    key = rng.choices(allowed, weights)[0]
                    dur, buf = services[key]
                    ends, blocked = t + timedelta(minutes=dur), t + timedelta(minutes=dur + buf)
                    if ends > end:
                        break
                    clash = next(((a, b) for a, b in away if a < blocked and t < b), None)
                    if clash:
                        t = clash[1]
                        continue
                    cancelled = rng.random() < CANCELLED_SHARE
                    patient_cells = cells(t, ends)
                    while True:
                        patient = rng.randrange(patients)
                        if not any((patient, c) in taken for c in patient_cells):
                            break
                    if not cancelled:
                        taken.update((patient, c) for c in patient_cells)
                    bookings.append(Booking(d, key, patient, t, ends, blocked, cancelled))
                    t = blocked
    return Calendar(first_day, holidays, leave, absences, bookings)


# ---------------------------------------------------------------- building a clinic


@dataclass
class Ids:
    doctors: list[str]
    services: dict[str, str]
    patients: list[str]  # ordered by MRN: the same index is the same person in both clinics


def set_up_schedule(schedule, owner: Actor, calendar: Calendar, store: Store) -> Ids:
    """Specializations, services, doctors, hours, holidays, leave, absences: via the services."""
    specs = [schedule.add_specialization(owner, name) for name in SPECIALIZATIONS]
    services = {
        key: schedule.add_service(owner, name, dur, buf, fee).id
        for key, name, dur, buf, fee in SERVICES
    }
    with store.read() as s:
        users = {u.username: u.id for u in s.scalars(select(User))}
        patients = list(s.scalars(select(Patient.id).order_by(Patient.mrn)))
    doctors = []
    for n, (username, plan) in enumerate(zip(DOCTOR_USERNAMES, DOCTOR_PLANS, strict=True)):
        info = schedule.make_doctor(
            owner,
            users[username],
            specs[plan["spec"]],
            f"GMC {7_100_000 + n * 7919}",
            {services[k] for k in plan["services"]},
            languages=("English",),
            room=f"Room {n + 1}",
        )
        windows = [
            HoursInput(wd, a, b, frozenset(services[k] for k in only) if only else frozenset())
            for wd, a, b, only in plan["hours"]
        ]
        schedule.set_hours(owner, info.id, windows)
        doctors.append(info.id)
    for day, name in sorted(calendar.holidays.items()):
        schedule.add_holiday(owner, day, name)
    for d, first, last, reason in calendar.leave:
        schedule.add_leave(owner, doctors[d], first, last, reason)
    for d, start, end, reason in calendar.absences:
        schedule.add_absence(owner, doctors[d], start, end, reason)
    return Ids(doctors, services, patients)


def insert_year(store: Store, ids: Ids, calendar: Calendar, booker: Actor) -> dict:
    """The year of bookings, in bulk, in exactly the shape ``book()`` (and ``cancel()``) write.

    Per booking: the Appointment row and its AppointmentEvent ("" -> confirmed), each with its
    sync columns and outbox row (``outbox.bulk_insert``, the capture ``book()`` gets from the
    session hook); a DoctorTimeClaim per 5-minute cell from the start to the end of the buffer
    and a PatientTimeClaim per cell of the appointment itself (``_take_time``). A cancelled one
    has its second event (confirmed -> cancelled, with the refund) and no claims (``_free_time``).
    One audit entry per month's batch instead of one per booking.
    """
    names = {key: name for key, name, *_ in SERVICES}
    fees = {key: fee for key, *_, fee in SERVICES}
    counts = {"appointments": 0, "doctor_claims": 0, "patient_claims": 0, "events": 0}
    chunk = 4000
    for first in range(0, len(calendar.bookings), chunk):
        batch = calendar.bookings[first : first + chunk]
        appts, events, dclaims, pclaims = [], [], [], []
        for b in batch:
            appt_id = new_id()
            appts.append(
                {
                    "id": appt_id,
                    "patient_id": ids.patients[b.patient],
                    "doctor_id": ids.doctors[b.doctor],
                    "service_id": ids.services[b.service],
                    "starts_at": b.starts_at,
                    "ends_at": b.ends_at,
                    "blocked_until": b.blocked_until,
                    "status": "cancelled" if b.cancelled else "confirmed",
                    "fee_minor": fees[b.service],
                    "note": "",
                    "booked_by": booker.user_id,
                    "overlap_reason": "",
                    "cancel_reason": "Patient called to cancel" if b.cancelled else "",
                    "cancelled_by": booker.user_id if b.cancelled else None,
                }
            )
            steps = [("", "confirmed", {"service": names[b.service]})]
            if b.cancelled:
                steps.append(
                    (
                        "confirmed",
                        "cancelled",
                        {"reason": "Patient called to cancel", "refund_minor": fees[b.service]},
                    )
                )
            for before, after, detail in steps:
                events.append(
                    {
                        "appointment_id": appt_id,
                        "actor_id": booker.user_id,
                        "actor_name": booker.display_name,
                        "from_status": before,
                        "to_status": after,
                        "detail": json.dumps(detail, default=str, sort_keys=True),
                    }
                )
            if b.cancelled:
                continue
            dclaims += [
                {
                    "doctor_id": ids.doctors[b.doctor],
                    "cell": c,
                    "appointment_id": appt_id,
                    "hold_id": None,
                }
                for c in cells(b.starts_at, b.blocked_until)
            ]
            pclaims += [
                {"patient_id": ids.patients[b.patient], "cell": c, "appointment_id": appt_id}
                for c in cells(b.starts_at, b.ends_at)
            ]
        with store.write(booker) as s:
            outbox.bulk_insert(s, Appointment, appts)
            outbox.bulk_insert(s, AppointmentEvent, events)
            conn = s.connection()
            conn.execute(DoctorTimeClaim.__table__.insert(), dclaims)
            conn.execute(PatientTimeClaim.__table__.insert(), pclaims)
            audit.append(s, booker, "appointment.import", "appointments", None, count=len(appts))
        counts["appointments"] += len(appts)
        counts["events"] += len(events)
        counts["doctor_claims"] += len(dclaims)
        counts["patient_claims"] += len(pclaims)
    return counts


def _fill(schedule, store: Store, owner: Actor, reception: Actor, calendar: Calendar) -> dict:
    ids = set_up_schedule(schedule, owner, calendar, store)
    with Stopwatch() as bulk:
        counts = insert_year(store, ids, calendar, reception)
    with store.write(owner) as s:
        s.connection().exec_driver_sql("ANALYZE")
    return {**counts, "bulk_s": bulk.seconds}


def build_cipher(folder: Path, first_day: date, patients: int, seed: int) -> dict:
    """The demo clinic's people and staff (not its demo schedule: this one replaces it)."""
    clinic = folder / "clinic"
    with Stopwatch() as whole:
        _, owner, owner_name = DEMO_STAFF[0]
        create_clinic(clinic, DEMO_CLINIC, AdminAccount(owner, owner_name, PASSWORD), kdf=BENCH_KDF)
        session = sign_in(clinic, OWNER, PASSWORD)
        try:
            for role, username, name in [*DEMO_STAFF[1:], *EXTRA_DOCTORS]:
                session.users.create(
                    session.actor, username, name, {role}, PASSWORD, must_change_password=False
                )
            session.patients.import_many(session.actor, PeopleGenerator(seed).patients(patients))
            reception = _actor_of(session.store, RECEPTION)
            info = _fill(
                session.schedule,
                session.store,
                session.actor,
                reception,
                plan_calendar(first_day, patients, seed),
            )
        finally:
            session.close()
    return {**info, "build_s": whole.seconds, "first_day": first_day.isoformat()}


def build_plain(folder: Path, first_day: date, patients: int, seed: int) -> dict:
    clinic = folder / "clinic"
    with Stopwatch() as whole:
        create_plain_clinic(clinic)
        add_plain_staff(clinic, EXTRA_DOCTORS)
        plain = open_plain_clinic(clinic)
        try:
            plain.patients.import_many(plain.owner, PeopleGenerator(seed).patients(patients))
            info = _fill(
                plain.schedule,
                plain.store,
                plain.owner,
                plain.reception,
                plan_calendar(first_day, patients, seed),
            )
        finally:
            plain.close()
    return {**info, "build_s": whole.seconds, "first_day": first_day.isoformat()}


def _actor_of(store: Store, username: str) -> Actor:
    from clinicdesk.services.users import parse_roles

    with store.read() as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        return Actor(u.id, u.username, u.display_name, parse_roles(u.roles))


# ---------------------------------------------------------------- measuring


@dataclass
class Side:
    label: str
    store: Store
    appointments: object
    actor: Actor
    doctors: list[str]
    services: dict[str, str]
    patients: list[str]


def side_of(label: str, store: Store, appointments, actor: Actor) -> Side:
    with store.read() as s:
        from clinicdesk.store.models import CareService, DoctorProfile

        by_user = {d.user_id: d.id for d in s.scalars(select(DoctorProfile))}
        users = {u.username: u.id for u in s.scalars(select(User))}
        doctors = [by_user[users[name]] for name in DOCTOR_USERNAMES]
        names = {c.name: c.id for c in s.scalars(select(CareService))}
        services = {key: names[name] for key, name, *_ in SERVICES}
        patients = list(s.scalars(select(Patient.id).order_by(Patient.mrn)))
    return Side(label, store, appointments, actor, doctors, services, patients)


def count_rows(store: Store) -> dict[str, int]:
    with store.read() as s:
        return {
            "appointments": s.scalar(select(func.count()).select_from(Appointment)),
            "live": s.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(Appointment.status.not_in(("cancelled", "rejected")))
            ),
            "doctor claims": s.scalar(select(func.count()).select_from(DoctorTimeClaim)),
            "patients": s.scalar(select(func.count()).select_from(Patient)),
        }


def free_slots_round(side: Side, first_day: date) -> tuple[float, list[list[datetime]]]:
    start = time.perf_counter()
    by_doctor = side.appointments.free_slots_for(
        side.actor, side.doctors, side.services["consult"], first_day, WINDOW_DAYS
    )
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, [by_doctor[d] for d in side.doctors]


def measure_free_slots(sides: list[Side], first_day: date, reps: int) -> dict:
    for _ in range(3):  # warm the page cache, as a running front desk has it
        for side in sides:
            free_slots_round(side, first_day)
    times: dict[str, list[float]] = {side.label: [] for side in sides}
    per_call: dict[str, list[float]] = {side.label: [] for side in sides}
    differ, slots = 0, 0
    for rep in range(reps):
        order = sides if rep % 2 == 0 else sides[::-1]
        found = {}
        for side in order:
            ms, found[side.label] = free_slots_round(side, first_day)
            times[side.label].append(ms)
            per_call[side.label].append(ms / len(side.doctors))
        a, b = (found[s.label] for s in sides)
        differ += a != b
        slots = sum(len(x) for x in a)
    per_doctor = [len(x) for x in found[sides[0].label]]
    return {
        "times": times,
        "per_call": per_call,
        "differ": differ,
        "slots": slots,
        "per_doctor": per_doctor,
    }


@dataclass(frozen=True)
class Target:
    doctor: int
    service: str
    day: date
    pick: float  # where among the day's free slots
    patient: int


def booking_targets(count: int, first_day: date, patients: int, seed: int) -> list[Target]:
    rng = random.Random(seed + 11)
    mix = {"consult": 70, "long": 20, "vacc": 10, "ecg": 10}
    out = []
    for _ in range(count):
        d = rng.randrange(len(DOCTOR_PLANS))
        offered = DOCTOR_PLANS[d]["services"]
        service = rng.choices(offered, [mix[k] for k in offered])[0]
        # Tomorrow or later (booking refuses the past), anywhere in the year already booked.
        day = first_day + timedelta(days=rng.randrange(1, YEAR_DAYS - 7))
        out.append(Target(d, service, day, rng.random(), rng.randrange(patients)))
    return out


def measure_bookings(sides: list[Side], targets: list[Target], first_day: date) -> dict:
    times: dict[str, list[float]] = {side.label: [] for side in sides}
    ahead: list[int] = []
    skipped = refused = 0
    rng = random.Random(5)
    for n, t in enumerate(targets):
        # Find the free slot untimed (the front desk has it on screen); the same on both sides.
        base = sides[0]
        doctor = base.doctors[t.doctor]
        day, free = t.day, []
        for _ in range(30):
            free = base.appointments.free_slots(
                base.actor, doctor, base.services[t.service], day, 1
            )
            if free:
                break
            day += timedelta(days=1)  # a holiday, leave, a weekend or a full day: the next one
        if not free:
            skipped += 1
            continue
        starts_at = free[int(t.pick * len(free))]
        patient = t.patient
        order = sides if n % 2 == 0 else sides[::-1]
        done: dict[str, float] = {}
        for _ in range(5):
            try:
                for side in order:
                    if side.label in done:
                        continue
                    t0 = time.perf_counter()
                    side.appointments.book(
                        side.actor,
                        side.patients[patient],
                        side.doctors[t.doctor],
                        side.services[t.service],
                        starts_at,
                    )
                    done[side.label] = (time.perf_counter() - t0) * 1000
                break
            except Conflict:  # the patient is booked elsewhere then: another patient
                refused += 1
                if done:  # one side booked, the other refused: the clinics differ
                    raise
                patient = rng.randrange(len(base.patients))
        if len(done) != len(sides):
            skipped += 1
            continue
        for label, ms in done.items():
            times[label].append(ms)
        ahead.append((day - first_day).days)
    return {"times": times, "ahead": ahead, "skipped": skipped, "refused": refused}


# ---------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).astimezone(TZ).date()
    first_day = today + timedelta(days=1)
    week = today - timedelta(days=today.weekday())
    print(
        f"Scheduling benchmark: 10 doctors, a year of bookings from {first_day:%d/%m/%Y}, "
        f"{args.patients:,} patients, seed {args.seed}"
    )
    print(machine_note())
    sources = [
        REPO / "clinicdesk" / "services" / "appointments.py",
        REPO / "clinicdesk" / "services" / "schedule_setup.py",
        REPO / "clinicdesk" / "scheduling" / "slots.py",
        REPO / "clinicdesk" / "store" / "outbox.py",
    ]
    key = (
        f"schedule-week{week:%Y%m%d}-n{args.patients}-seed{args.seed}-"
        f"{fingerprint_with(*sources, extra=BUILD_VERSION)}"
    )
    for old in bench_root().glob("schedule-week*"):
        if not old.name.startswith(f"schedule-week{week:%Y%m%d}-"):  # earlier weeks': unused
            remove_folder(old)
    # The year starts the day after the build; a reuse later in the week starts a little later.
    built_first = first_day
    probe = bench_root() / key / "cipher" / "bench-build.json"
    if probe.exists() and not args.rebuild:
        built_first = date.fromisoformat(json.loads(probe.read_text())["first_day"])
    with Stopwatch() as planning:
        calendar = plan_calendar(built_first, args.patients, args.seed)
    cipher_build = cached_build(
        f"{key}/cipher",
        lambda f: build_cipher(f, built_first, args.patients, args.seed),
        args.rebuild,
    )
    plain_build = cached_build(
        f"{key}/plain",
        lambda f: build_plain(f, built_first, args.patients, args.seed),
        args.rebuild,
    )
    for label, build in (("SQLCipher", cipher_build), ("plain SQLite", plain_build)):
        state = "reused from an earlier run" if build.reused else "built now"
        info = build.info
        print(
            f"{label} clinic: {build.folder / 'clinic'} ({state}; built in "
            f"{info['build_s']:.0f} s, the year's bookings in bulk in {info['bulk_s']:.1f} s)"
        )
    info = cipher_build.info
    print(
        f"The year ({built_first:%d/%m/%Y} + {YEAR_DAYS} days, planned in "
        f"{planning.seconds:.1f} s): "
        f"{info['appointments']:,} appointments ({CANCELLED_SHARE:.0%} cancelled), "
        f"{info['doctor_claims']:,} doctor and {info['patient_claims']:,} patient time claims, "
        f"{len(calendar.holidays)} clinic holidays, {len(calendar.leave)} spells of leave, "
        f"{len(calendar.absences)} absences"
    )

    work = bench_root() / f"schedule-run-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        copy_clinic(cipher_build.folder / "clinic", work / "cipher")
        copy_clinic(plain_build.folder / "clinic", work / "plain")
        session = sign_in(work / "cipher", RECEPTION, PASSWORD)
        plain = open_plain_clinic(work / "plain")
        try:
            sides = [
                side_of("cipher", session.store, session.appointments, session.actor),
                side_of("plain", plain.store, plain.appointments, plain.reception),
            ]
            before = {s.label: count_rows(s.store) for s in sides}
            days = (first_day - built_first).days
            per_day = before["cipher"]["live"] / max(
                1, len({(b.doctor, b.starts_at.date()) for b in calendar.bookings})
            )
            print(
                f"In the clinic: {before['cipher']['appointments']:,} appointments "
                f"({before['cipher']['live']:,} live, ~{per_day:.0f} per doctor per working day), "
                f"{before['cipher']['patients']:,} patients; plain SQLite: "
                f"{before['plain']['appointments']:,} appointments"
                + (f"; the year started {days} days ago" if days else "")
            )
            fs = measure_free_slots(sides, first_day, args.reps)
            # The same four weeks' work late in the year: ~11 months of bookings lie before the
            # window, as a clinic's past appointments will (does the cost grow with history?).
            late_day = built_first + timedelta(days=YEAR_DAYS - WINDOW_DAYS - 7)
            late = measure_free_slots(sides, late_day, max(10, args.reps // 3))
            targets = booking_targets(args.bookings, first_day, args.patients, args.seed)
            with Stopwatch() as booking_wall:
                bk = measure_bookings(sides, targets, first_day)
            after = {s.label: count_rows(s.store)["appointments"] for s in sides}
        finally:
            session.close()
            plain.close()
    finally:
        remove_folder(work)

    # ---- free slots
    ft, fc = fs["times"], fs["per_call"]
    print()
    print(
        table(
            ("", "n", "cipher p50", "p95", "max", "plain p50", "p95", "max", "p50 ratio"),
            [
                (
                    label,
                    len(data["cipher"]),
                    f"{median(data['cipher']):.2f}",
                    f"{percentile(data['cipher'], 95):.2f}",
                    f"{max(data['cipher']):.2f}",
                    f"{median(data['plain']):.2f}",
                    f"{percentile(data['plain'], 95):.2f}",
                    f"{max(data['plain']):.2f}",
                    ratio(median(data["cipher"]), median(data["plain"])),
                )
                for label, data in (
                    ("10 doctors x 28 days (one repetition)", ft),
                    ("one doctor x 28 days (repetition / 10)", fc),
                    (f"10 doctors x 28 days from {late_day:%d/%m/%Y}", late["times"]),
                )
            ],
            f"Free slots, ms (consultation, {first_day:%d/%m/%Y} + {WINDOW_DAYS} days, "
            f"{args.reps} repetitions)",
        )
    )
    print(
        f"Free consultation slots found: {fs['slots']:,} over the 10 doctors "
        f"(per doctor: {', '.join(map(str, fs['per_doctor']))}); "
        f"repetitions where SQLCipher and plain SQLite differ: {fs['differ'] + late['differ']}"
    )
    print(
        f"The last row is the same work 11 months ahead ({late['slots']:,} free slots): the "
        "appointments before the window stand in for the past ones a clinic accumulates."
    )

    # ---- booking
    bc, bp, ahead = bk["times"]["cipher"], bk["times"]["plain"], bk["ahead"]
    rows = []
    for label, lo, hi in (
        ("within 4 weeks", 0, 28),
        ("4 weeks to 3 months", 29, 91),
        ("3 to 12 months", 92, 10_000),
        ("all", 0, 10_000),
    ):
        idx = [i for i, a in enumerate(ahead) if lo <= a <= hi]
        c, p = [bc[i] for i in idx], [bp[i] for i in idx]
        if not c:
            continue
        rows.append(
            (
                label,
                len(c),
                f"{median(c):.2f}",
                f"{percentile(c, 95):.2f}",
                f"{percentile(c, 99):.2f}",
                f"{median(p):.2f}",
                f"{percentile(p, 95):.2f}",
                f"{percentile(p, 99):.2f}",
                ratio(percentile(c, 95), percentile(p, 95)),
            )
        )
    print()
    print(
        table(
            ("days ahead", "n", "cipher p50", "p95", "p99", "plain p50", "p95", "p99", "p95 ratio"),
            rows,
            "Booking through AppointmentService.book, ms (one transaction each)",
        )
    )
    print(
        f"{len(bc)} bookings on each side in {booking_wall.seconds:.1f} s (with the untimed slot "
        f"look-ups); patient already booked then, another patient taken: {bk['refused']}; "
        f"targets skipped: {bk['skipped']}; appointments afterwards: SQLCipher "
        f"{after['cipher']:,}, plain SQLite {after['plain']:,}"
    )
    est = median(bc) * info["appointments"] / 1000
    print(
        f"For scale: the year's {info['appointments']:,} appointments through book() one by one "
        f"would take ~{est / 60:.1f} min on SQLCipher (at its median); they were written in bulk "
        f"in {info['bulk_s']:.1f} s."
    )

    c50, c95 = median(ft["cipher"]), percentile(ft["cipher"], 95)
    p50, p95 = median(ft["plain"]), percentile(ft["plain"], 95)
    print()
    print(
        summary(
            [
                (
                    "free slots, 10 doctors x 4 weeks, median ms",
                    f"{c50:.2f}",
                    f"{p50:.2f}",
                    ratio(c50, p50),
                    f"<= {TARGET_FREE_MS:.0f} ms",
                    verdict(c50 <= TARGET_FREE_MS),
                ),
                (
                    "free slots, 10 doctors x 4 weeks, p95 ms",
                    f"{c95:.2f}",
                    f"{p95:.2f}",
                    ratio(c95, p95),
                    f"<= {TARGET_FREE_MS:.0f} ms",
                    verdict(c95 <= TARGET_FREE_MS),
                ),
                (
                    "booking p50, ms",
                    f"{median(bc):.2f}",
                    f"{median(bp):.2f}",
                    ratio(median(bc), median(bp)),
                    "",
                    "",
                ),
                (
                    f"booking p95 at {info['appointments'] // 1000}k appointments, ms",
                    f"{percentile(bc, 95):.2f}",
                    f"{percentile(bp, 95):.2f}",
                    ratio(percentile(bc, 95), percentile(bp, 95)),
                    f"<= {TARGET_BOOK_P95_MS:.0f} ms",
                    verdict(percentile(bc, 95) <= TARGET_BOOK_P95_MS),
                ),
                (
                    "booking p99, ms",
                    f"{percentile(bc, 99):.2f}",
                    f"{percentile(bp, 99):.2f}",
                    ratio(percentile(bc, 99), percentile(bp, 99)),
                    "",
                    "",
                ),
            ],
            "SUMMARY: scheduling at a year of appointments for 10 doctors "
            "(value = SQLCipher, baseline = plain SQLite)",
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="free-slot repetitions")
    parser.add_argument("--bookings", type=int, default=500, help="bookings timed on each side")
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached clinics")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

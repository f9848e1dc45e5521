"""What the scheduling screens load, and how they show times.

The ``load_*`` and ``offered_slots`` functions call several services in a row; they run on a
worker thread through the task runner (never on the UI thread), so a screen gets one answer.
Times come from the services as UTC and are shown in the clinic's own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from clinicdesk.services.appointments import AppointmentView
from clinicdesk.services.schedule_setup import DoctorInfo, ServiceInfo

WORKING_DAYS = 7


@dataclass(frozen=True)
class Column:
    """One column of the calendar: a doctor on a day."""

    doctor_id: str
    doctor_name: str
    day: date
    title: str
    subtitle: str


@dataclass
class CalendarData:
    columns: list[Column]
    appointments: list[AppointmentView]
    free: dict[int, list[datetime]] = field(default_factory=dict)  # per column: free starts
    slot_minutes: dict[int, int] = field(default_factory=dict)  # per column: shortest service
    closed: dict[int, str] = field(default_factory=dict)  # per column: why nobody is seen


@dataclass(frozen=True)
class Slot:
    doctor_id: str
    doctor_name: str
    starts_at: datetime


@dataclass(frozen=True)
class Directory:
    """The clinic's doctors, services and specializations, loaded once per screen."""

    doctors: list[DoctorInfo]
    services: list[ServiceInfo]
    specializations: list[tuple[str, str]]

    def service(self, service_id: str) -> ServiceInfo | None:
        return next((s for s in self.services if s.id == service_id), None)

    def doctor(self, doctor_id: str) -> DoctorInfo | None:
        return next((d for d in self.doctors if d.id == doctor_id), None)

    def shortest(self, doctor: DoctorInfo) -> ServiceInfo | None:
        offered = [s for s in self.services if s.id in doctor.service_ids]
        return min(offered, key=lambda s: s.duration_minutes, default=None)


def load_directory(session, actor) -> Directory:
    return Directory(
        session.schedule.doctors(actor),
        session.schedule.services(actor),
        session.schedule.specializations(actor),
    )


def load_day(session, actor, directory: Directory, day: date) -> CalendarData:
    """One column per doctor on ``day``."""
    columns = [
        Column(d.id, d.name, day, d.name, " · ".join(x for x in (d.specialization, d.room) if x))
        for d in directory.doctors
    ]
    appointments = session.appointments.day(actor, day)
    return _with_free_time(session, actor, directory, columns, appointments)


def load_week(session, actor, directory: Directory, doctor_id: str, day: date) -> CalendarData:
    """One doctor, Monday to Sunday of the week holding ``day``."""
    doctor = directory.doctor(doctor_id)
    monday = day - timedelta(days=day.weekday())
    columns, appointments = [], []
    for offset in range(WORKING_DAYS):
        current = monday + timedelta(days=offset)
        columns.append(
            Column(doctor_id, doctor.name, current, f"{current:%a} {current.day}", f"{current:%B}")
        )
        appointments += session.appointments.day(actor, current, [doctor_id])
    return _with_free_time(session, actor, directory, columns, appointments)


def _with_free_time(session, actor, directory, columns, appointments) -> CalendarData:
    """Free starts of each doctor's shortest service: the calendar shows them as open time.

    Doctors sharing a service and a day are asked for together (one read for a whole day view).
    """
    data = CalendarData(columns, appointments)
    if columns:
        days = [c.day for c in columns]
        closures = session.appointments.closures(
            actor, sorted({c.doctor_id for c in columns}), min(days), max(days)
        )
        data.closed = {
            i: closures[c.doctor_id, c.day]
            for i, c in enumerate(columns)
            if (c.doctor_id, c.day) in closures
        }
    wanted: dict[tuple[str, date], list[int]] = {}
    for index, column in enumerate(columns):
        doctor = directory.doctor(column.doctor_id)
        service = directory.shortest(doctor) if doctor else None
        if service is None:
            continue
        data.slot_minutes[index] = service.duration_minutes
        wanted.setdefault((service.id, column.day), []).append(index)
    for (service_id, day), indexes in wanted.items():
        doctors = [columns[i].doctor_id for i in indexes]
        found = session.appointments.free_slots_for(actor, doctors, service_id, day)
        for i in indexes:
            data.free[i] = found[columns[i].doctor_id]
    return data


def offered_slots(
    session,
    actor,
    service_id: str,
    doctors: list[DoctorInfo],
    first_day: date,
    after: datetime | None = None,
    days: int = 14,
    limit: int = 12,
) -> list[Slot]:
    """The earliest free slots for the service among ``doctors``, soonest first."""
    found: list[Slot] = []
    for doctor in doctors:
        if service_id not in doctor.service_ids:
            continue
        starts = session.appointments.free_slots(actor, doctor.id, service_id, first_day, days)
        mine = [t for t in starts if after is None or t >= after][:limit]
        found += [Slot(doctor.id, doctor.name, t) for t in mine]
    found.sort(key=lambda s: (s.starts_at, s.doctor_name))
    return found[:limit]


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_now(zone: ZoneInfo) -> datetime:
    return datetime.now(UTC).astimezone(zone)


def at_minute(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC moment of a wall-clock minute of a local day."""
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return local.astimezone(UTC)


def minute_of(moment: datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return local.hour * 60 + local.minute


def clock_text(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def slot_text(moment: datetime, zone: ZoneInfo, today: date | None = None) -> str:
    """'Today 09:10', 'Tomorrow 14:00' or 'Mon 12 Oct 09:10', in the clinic's time."""
    local = moment.astimezone(zone)
    today = today or local_now(zone).date()
    if local.date() == today:
        day = "Today"
    elif local.date() == today + timedelta(days=1):
        day = "Tomorrow"
    else:
        day = f"{local:%a} {local.day} {local:%b}"
    return f"{day} {local:%H:%M}"

"""A practice for the scheduling screens: one GP with weekday hours and a consultation.

The same set-up as tests/scheduling/practice.py (which this folder cannot import), made
through the services, plus a clock for tests that need "today" to be a given day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.patients import PatientInput, PatientRecord
from clinicdesk.services.queue import QueueService
from clinicdesk.services.schedule_setup import HoursInput

LONDON = ZoneInfo("Europe/London")  # the time zone of tests/conftest.py's clinic
WEEKDAY_HOURS = [
    HoursInput(day, start, end)
    for day in range(5)
    for start, end in ((9 * 60, 12 * 60 + 30), (14 * 60, 17 * 60))
]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Practice:
    session: ClinicSession
    doctor_id: str
    consultation_id: str  # 20 minutes + 5 buffer
    specialization_id: str
    monday: date  # a Monday at least a week ahead

    def at(self, day: date, hhmm: str) -> datetime:
        hour, minute = map(int, hhmm.split(":"))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)

    def patient(self, given: str, family: str = "Berg") -> PatientRecord:
        return self.session.patients.register(
            self.session.actor,
            PatientInput(given, family, date(1980, 1, 1), "female", phone="0161 496 0000"),
            not_a_duplicate=True,
        )

    def book(self, patient: PatientRecord, day: date, hhmm: str):
        return self.session.appointments.book(
            self.session.actor, patient.id, self.doctor_id, self.consultation_id, self.at(day, hhmm)
        )

    def add_doctor(self, username: str, name: str, room: str) -> str:
        return add_doctor(
            self.session, username, name, self.specialization_id, {self.consultation_id}, room
        )

    def freeze(self, day: date, hhmm: str) -> Clock:
        """From now on the services believe it is ``hhmm`` on ``day`` (for check-in)."""
        clock = Clock(self.at(day, hhmm))
        store = self.session.store
        self.session.appointments = AppointmentService(store, clock)
        self.session.queue = QueueService(store, clock)
        return clock


def add_doctor(
    admin: ClinicSession,
    username: str,
    name: str,
    specialization_id: str,
    service_ids: set[str],
    room: str,
) -> str:
    user = admin.users.create(
        admin.actor, username, name, {Role.DOCTOR}, "doctor password 1", must_change_password=False
    )
    doctor = admin.schedule.make_doctor(
        admin.actor, user.id, specialization_id, "GMC 7012345", service_ids, ("English",), room=room
    )
    admin.schedule.set_hours(admin.actor, doctor.id, WEEKDAY_HOURS)
    return doctor.id


def make_practice(admin: ClinicSession) -> Practice:
    gp = admin.schedule.add_specialization(admin.actor, "General practice")
    consultation = admin.schedule.add_service(admin.actor, "Consultation", 20, 5, 4500)
    doctor = add_doctor(admin, "dr.hale", "Dr Maya Hale", gp, {consultation.id}, "Room 2")
    today = datetime.now(LONDON).date()
    monday = today + timedelta(days=7 - today.weekday() + 7)
    return Practice(admin, doctor, consultation.id, gp, monday)

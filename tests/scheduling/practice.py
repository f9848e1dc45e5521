"""The test practice: a general practitioner who works weekday mornings and afternoons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.patients import PatientInput
from clinicdesk.services.schedule_setup import HoursInput

LONDON = ZoneInfo("Europe/London")
WEEKDAY_HOURS = [
    HoursInput(day, start, end)
    for day in range(5)
    for start, end in ((9 * 60, 12 * 60 + 30), (14 * 60, 17 * 60))
]


@dataclass
class Practice:
    session: ClinicSession
    doctor_id: str
    consultation_id: str  # 20 minutes + 5 buffer, 45.00
    specialization_id: str
    monday: date  # a Monday at least a week ahead

    def at(self, day: date, hhmm: str) -> datetime:
        """A wall-clock time in the clinic's zone, as the UTC moment services take."""
        hour, minute = map(int, hhmm.split(":"))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)

    def patient(self, given: str, family: str = "Berg") -> str:
        record = self.session.patients.register(
            self.session.actor,
            PatientInput(given, family, date(1980, 1, 1), "female"),
            not_a_duplicate=True,
        )
        return record.id


def add_doctor(
    admin: ClinicSession,
    username: str,
    name: str,
    specialization_id: str,
    service_ids: set[str],
    hours: list[HoursInput],
) -> str:
    user = admin.users.create(
        admin.actor, username, name, {Role.DOCTOR}, "doctor password 1", must_change_password=False
    )
    doctor = admin.schedule.make_doctor(
        admin.actor,
        user.id,
        specialization_id,
        "GMC 7012345",
        service_ids,
        ("English",),
        room="Room 2",
    )
    admin.schedule.set_hours(admin.actor, doctor.id, hours)
    return doctor.id


def make_practice(admin: ClinicSession) -> Practice:
    gp = admin.schedule.add_specialization(admin.actor, "General practice")
    consultation = admin.schedule.add_service(admin.actor, "Consultation", 20, 5, 4500)
    doctor = add_doctor(admin, "dr.hale", "Dr Maya Hale", gp, {consultation.id}, WEEKDAY_HOURS)
    today = datetime.now(LONDON).date()
    monday = today + timedelta(days=7 - today.weekday() + 7)
    return Practice(admin, doctor, consultation.id, gp, monday)

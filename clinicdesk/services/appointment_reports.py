"""Looking back and exporting: appointments by date range, doctor and status; attendance;
iCalendar files for one appointment (for the patient) and for a doctor's schedule.

An exported file leaves the encrypted store by the user's choice: the patient's file names only
the doctor, service and clinic; a doctor's schedule names patients, as their paper list would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select

from clinicdesk.permissions import Actor, P
from clinicdesk.scheduling.slots import local_moment
from clinicdesk.scheduling.status import ATTENDED, FREES_TIME, AppointmentStatus
from clinicdesk.services.booking import AppointmentView, view_of, views_where
from clinicdesk.services.clinic import clinic_profile
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import Appointment, ClinicProfile


@dataclass(frozen=True)
class Attendance:
    doctor_name: str
    booked: int  # not cancelled or rejected
    attended: int
    no_shows: int
    cancelled: int

    @property
    def rate(self) -> float:
        """Share of the bookings that were due and came (no-shows count against it)."""
        due = self.attended + self.no_shows
        return self.attended / due if due else 1.0


class AppointmentReports:
    def __init__(self, store: Store) -> None:
        self.store = store

    def search(
        self,
        actor: Actor,
        first_day: date,
        last_day: date,
        doctor_id: str | None = None,
        status: str | None = None,
    ) -> list[AppointmentView]:
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            tz = ZoneInfo(s.scalars(select(ClinicProfile.time_zone)).one())
            conditions = [
                Appointment.starts_at >= local_moment(first_day, 0, tz),
                Appointment.starts_at < local_moment(last_day + timedelta(days=1), 0, tz),
            ]
            if doctor_id:
                conditions.append(Appointment.doctor_id == doctor_id)
            if status:
                conditions.append(Appointment.status == status)
            return views_where(s, *conditions)

    def attendance(self, actor: Actor, first_day: date, last_day: date) -> list[Attendance]:
        rows = self.search(actor, first_day, last_day)
        by_doctor: dict[str, Counter] = {}
        for v in rows:
            by_doctor.setdefault(v.doctor_name, Counter())[v.status] += 1
        return [
            Attendance(
                name,
                sum(c.values()) - sum(c[x] for x in FREES_TIME),
                sum(c[x] for x in ATTENDED),
                c[AppointmentStatus.NO_SHOW],
                c[AppointmentStatus.CANCELLED],
            )
            for name, c in sorted(by_doctor.items())
        ]

    def ics_for_appointment(self, actor: Actor, appointment_id: str) -> bytes:
        """The patient's calendar entry: when, with whom, where; no health details."""
        actor.require(P.PATIENT_READ)
        with self.store.write(actor) as s:
            profile = clinic_profile(s)
            view = view_of(s, s.get(Appointment, appointment_id))
            audit.append(s, actor, "appointment.export", "appointments", appointment_id)
        cal = _calendar(profile.name)
        cal.add_component(
            _event(
                view, f"{view.service_name} with {view.doctor_name}", profile.name, profile.address
            )
        )
        return cal.to_ical()

    def ics_for_doctor(
        self, actor: Actor, doctor_id: str, first_day: date, last_day: date
    ) -> bytes:
        views = [
            v for v in self.search(actor, first_day, last_day, doctor_id) if not v.status.frees_time
        ]
        with self.store.write(actor) as s:
            profile = clinic_profile(s)
            audit.append(
                s,
                actor,
                "schedule.export",
                "doctors",
                doctor_id,
                first_day=first_day,
                last_day=last_day,
                count=len(views),
            )
        cal = _calendar(profile.name)
        for v in views:
            cal.add_component(
                _event(v, f"{v.patient_name}: {v.service_name}", profile.name, profile.address)
            )
        return cal.to_ical()


def _calendar(clinic: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", f"-//ClinicDesk//{clinic}//EN")
    cal.add("version", "2.0")
    return cal


def _event(view: AppointmentView, summary: str, clinic: str, address: str) -> Event:
    event = Event()
    event.add("uid", f"{view.id}@clinicdesk")
    event.add("dtstamp", view.starts_at)
    event.add("dtstart", view.starts_at)
    event.add("dtend", view.ends_at)
    event.add("summary", summary)
    event.add("location", f"{clinic}, {address}" if address else clinic)
    event.add("status", "CONFIRMED" if view.status == AppointmentStatus.CONFIRMED else "TENTATIVE")
    event.add("sequence", view.version)
    return event

"""The walk-in queue: a token a day per patient, priorities, check-in, "call next".

Order, for a doctor calling the next patient: emergencies, then urgent, then everyone else by
when they are due: a walk-in from arrival, a booked patient from the booked time (so arriving
early does not jump the queue, and a booked patient does not wait behind walk-ins who came
after their time). A patient waits for a chosen doctor, or for whichever doctor calls first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.scheduling.status import AppointmentStatus
from clinicdesk.services.booking import change_status, check_move, doctor_name, patient_name
from clinicdesk.services.clinic import clinic_day
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    Appointment,
    CareService,
    Counter,
    DoctorProfile,
    Patient,
    QueueEntry,
)

PRIORITIES = {0: "Normal", 1: "Urgent", 2: "Emergency"}
WALK_IN_MINUTES = 15  # expected length of a walk-in consultation, for the waiting estimate
WAITING, CALLED, DONE, LEFT = "waiting", "called", "done", "left"


@dataclass(frozen=True)
class QueueView:
    id: str
    token: int
    patient_id: str
    patient_name: str
    priority: int
    doctor_id: str | None
    doctor_name: str  # the chosen doctor, or "" for the next free one
    appointment_id: str | None
    due_at: datetime
    status: str
    called_at: datetime | None
    room: str
    called_by: str
    estimated_wait_minutes: int | None  # only while waiting

    @property
    def priority_label(self) -> str:
        return PRIORITIES[self.priority]


class QueueService:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock  # tests set the time of day

    def add_walk_in(
        self,
        actor: Actor,
        patient_id: str,
        priority: int = 0,
        doctor_id: str | None = None,
        note: str = "",
    ) -> QueueView:
        actor.require(P.APPOINTMENTS_MANAGE)
        if priority not in PRIORITIES:
            raise ValidationError({"priority": "must be normal, urgent or emergency"})
        with self.store.write(actor) as s:
            now = self.clock()
            if s.get(Patient, patient_id) is None:
                raise NotFound("That patient record does not exist or was removed.")
            if doctor_id and s.get(DoctorProfile, doctor_id) is None:
                raise NotFound("That doctor does not exist.")
            _already_waiting(s, patient_id, clinic_day(s, now))
            row = _new_entry(s, now, patient_id, priority, doctor_id, None, now, note)
            audit.append(s, actor, "queue.walk_in", "queue_entries", row.id, token=row.token)
            return queue_views(s, [row], now)[0]

    def check_in(self, actor: Actor, appointment_id: str, priority: int = 0) -> QueueView:
        """A booked patient has arrived: the appointment is checked in and joins the queue."""
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            now = self.clock()
            appt = s.get(Appointment, appointment_id)
            if appt is None:
                raise NotFound("That appointment does not exist.")
            check_move(s, appt, AppointmentStatus.CHECKED_IN, now)
            _already_waiting(s, appt.patient_id, clinic_day(s, now))
            change_status(s, actor, appt, AppointmentStatus.CHECKED_IN)
            row = _new_entry(
                s, now, appt.patient_id, priority, appt.doctor_id, appt.id, appt.starts_at, ""
            )
            audit.append(s, actor, "queue.check_in", "queue_entries", row.id, token=row.token)
            return queue_views(s, [row], now)[0]

    def call_next(self, actor: Actor, doctor_id: str, leave_open: bool = False) -> QueueView | None:
        """The doctor's next patient is called to their room; None when nobody is waiting.

        Calling never finishes the patient still with the doctor: only the doctor finishing
        the visit (or reception saying they have been seen) does. While someone is still in
        consultation the call is refused with ``StillInConsultation`` unless ``leave_open``
        says to call the next one and leave that consultation open.
        """
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            now = self.clock()
            doctor = s.get(DoctorProfile, doctor_id)
            if doctor is None:
                raise NotFound("That doctor does not exist.")
            day = clinic_day(s, now)
            waiting = waiting_in_order(s, day, doctor_id)
            if not waiting:
                return None
            with_doctor = _in_consultation(s, day, doctor_id)
            if with_doctor and not leave_open:
                raise StillInConsultation(queue_views(s, with_doctor, now), doctor_name(s, doctor))
            row = waiting[0]
            call_entry(s, actor, row, doctor, now)
            return queue_views(s, [row], now)[0]

    def finish(self, actor: Actor, entry_id: str) -> None:
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            row = _entry(s, entry_id)
            if row.status != CALLED:
                raise Conflict(f"Token {row.token} has not been called yet.")
            finish_entry(s, actor, row)

    def left(self, actor: Actor, entry_id: str) -> None:
        """The patient went home without being seen."""
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.write(actor) as s:
            row = _entry(s, entry_id)
            if row.status != WAITING:
                raise Conflict(f"Token {row.token} is no longer waiting.")
            row.status = LEFT
            audit.append(s, actor, "queue.left", "queue_entries", row.id)

    def board(self, actor: Actor, day: date | None = None) -> list[QueueView]:
        """Today's queue: waiting (in calling order, with estimates), then called, then done."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            now = self.clock()
            day = day or clinic_day(s, now)
            waiting = waiting_in_order(s, day, None)
            others = list(
                s.scalars(
                    select(QueueEntry)
                    .where(QueueEntry.day == day, QueueEntry.status != WAITING)
                    .order_by(QueueEntry.called_at.desc(), QueueEntry.token)
                )
            )
            return queue_views(s, waiting + others, now)

    def called(self, limit: int = 8) -> list[tuple[int, str, str]]:
        """For the waiting-room screen: (token, room, doctor) of the latest calls, no names."""
        with self.store.read() as s:
            rows = s.scalars(
                select(QueueEntry)
                .where(QueueEntry.day == clinic_day(s, self.clock()), QueueEntry.status == CALLED)
                .order_by(QueueEntry.called_at.desc())
                .limit(limit)
            )
            return [(r.token, r.room, _doctor_name(s, r.called_doctor_id)) for r in rows]


class StillInConsultation(Conflict):
    """The doctor has not finished with a patient they called: finish that visit first, or
    call the next patient and leave it open."""

    def __init__(self, with_doctor: list[QueueView], doctor: str) -> None:
        self.with_doctor = with_doctor  # the latest called first
        names = " and ".join(q.patient_name for q in with_doctor)
        verb = "is" if len(with_doctor) == 1 else "are"
        super().__init__(
            f"{names} {verb} still in consultation with {doctor}. Finish that visit first, or "
            "call the next patient and leave it open."
        )


def _in_consultation(s: Session, day: date, doctor_id: str) -> list[QueueEntry]:
    """The patients this doctor called today and has not finished with, the latest first."""
    return list(
        s.scalars(
            select(QueueEntry)
            .where(
                QueueEntry.day == day,
                QueueEntry.status == CALLED,
                QueueEntry.called_doctor_id == doctor_id,
            )
            .order_by(QueueEntry.called_at.desc(), QueueEntry.token.desc())
        )
    )


def _entry(s: Session, entry_id: str) -> QueueEntry:
    row = s.get(QueueEntry, entry_id)
    if row is None:
        raise NotFound("That queue entry does not exist.")
    return row


def call_entry(
    s: Session, actor: Actor, row: QueueEntry, doctor: DoctorProfile, now: datetime
) -> None:
    """The patient goes to the doctor's room; a booked one is now in consultation."""
    row.status, row.called_at = CALLED, now
    row.called_doctor_id, row.room = doctor.id, doctor.room
    if row.appointment_id:
        appt = s.get(Appointment, row.appointment_id)
        if appt.status == AppointmentStatus.CHECKED_IN:
            change_status(s, actor, appt, AppointmentStatus.IN_CONSULTATION)
    audit.append(s, actor, "queue.call", "queue_entries", row.id, token=row.token)


def finish_entry(s: Session, actor: Actor, row: QueueEntry) -> None:
    row.status = DONE
    if row.appointment_id:
        appt = s.get(Appointment, row.appointment_id)
        if appt.status == AppointmentStatus.IN_CONSULTATION:
            change_status(s, actor, appt, AppointmentStatus.COMPLETED)
    audit.append(s, actor, "queue.done", "queue_entries", row.id)


def _already_waiting(s: Session, patient_id: str, day: date) -> None:
    row = s.scalar(
        select(QueueEntry).where(
            QueueEntry.day == day, QueueEntry.patient_id == patient_id, QueueEntry.status == WAITING
        )
    )
    if row is not None:
        raise Conflict(f"This patient is already waiting with token {row.token}.")


def tokens_arrived(s: Session, arrived: list[QueueEntry]) -> None:
    """Queue entries made at another desk (arrived by sync) hold their day's tokens: each day's
    counter here moves past them, so the next patient queued here gets a new one."""
    last: dict[date, int] = {}
    for entry in arrived:
        last[entry.day] = max(last.get(entry.day, 0), entry.token)
    for day, token in last.items():
        name = f"queue:{day.isoformat()}"
        counter = s.get(Counter, name) or Counter(name=name, value=0)
        s.add(counter)
        counter.value = max(counter.value, token)


def _new_entry(
    s: Session,
    now: datetime,
    patient_id: str,
    priority: int,
    doctor_id: str | None,
    appointment_id: str | None,
    due_at: datetime,
    note: str,
) -> QueueEntry:
    day = clinic_day(s, now)
    name = f"queue:{day.isoformat()}"
    counter = s.get(Counter, name) or Counter(name=name, value=0)
    s.add(counter)
    counter.value += 1
    row = QueueEntry(
        day=day,
        token=counter.value,
        patient_id=patient_id,
        priority=priority,
        doctor_id=doctor_id,
        appointment_id=appointment_id,
        due_at=due_at,
        status=WAITING,
        note=note.strip(),
    )
    s.add(row)
    s.flush()
    return row


def waiting_in_order(s: Session, day: date, doctor_id: str | None) -> list[QueueEntry]:
    """Waiting entries in calling order; for one doctor: theirs and those for any doctor."""
    stmt = select(QueueEntry).where(QueueEntry.day == day, QueueEntry.status == WAITING)
    if doctor_id:
        stmt = stmt.where(or_(QueueEntry.doctor_id == doctor_id, QueueEntry.doctor_id.is_(None)))
    rows = list(s.scalars(stmt))
    return sorted(rows, key=lambda r: (-r.priority, r.due_at, r.token))


def _minutes_for(s: Session, row: QueueEntry) -> int:
    if row.appointment_id:
        appt = s.get(Appointment, row.appointment_id)
        service = s.get(CareService, appt.service_id)
        return service.duration_minutes + service.buffer_minutes
    return WALK_IN_MINUTES


def _doctor_name(s: Session, doctor_id: str | None) -> str:
    """The doctor's name, or "" for an entry waiting for whichever doctor is free."""
    return doctor_name(s, s.get(DoctorProfile, doctor_id)) if doctor_id else ""


def queue_views(s: Session, rows: list[QueueEntry], now: datetime) -> list[QueueView]:
    """Estimated wait: the minutes of everyone ahead in line, shared among the doctors who
    could see this patient (one for a chosen doctor; all of them for "next free")."""
    doctors = max(
        1, len(s.scalars(select(DoctorProfile.id).where(DoctorProfile.deleted_at.is_(None))).all())
    )
    waiting = [r for r in rows if r.status == WAITING]
    ahead_minutes: dict[str, int] = {}
    for i, row in enumerate(waiting):
        ahead = [
            r for r in waiting[:i] if row.doctor_id is None or r.doctor_id in (None, row.doctor_id)
        ]
        share = 1 if row.doctor_id else doctors
        ahead_minutes[row.id] = sum(_minutes_for(s, r) for r in ahead) // share
    views = []
    for r in rows:
        views.append(
            QueueView(
                r.id,
                r.token,
                r.patient_id,
                patient_name(s, r.patient_id),
                r.priority,
                r.doctor_id,
                _doctor_name(s, r.doctor_id),
                r.appointment_id,
                r.due_at,
                r.status,
                r.called_at,
                r.room,
                _doctor_name(s, r.called_doctor_id),
                ahead_minutes.get(r.id),
            )
        )
    return views

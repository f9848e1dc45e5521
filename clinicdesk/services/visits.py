"""Visits: the doctor's day, the encounter and its note, signed and locked when it ends.

A visit opens for a checked-in (or later) appointment or for a walk-in called from the queue.
Until it is signed its note can be saved as often as needed (each save is versioned); signing
stores a hash of the note and locks it, and corrections after that are addenda.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.scheduling.status import ATTENDED, AppointmentStatus
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.booking import (
    AppointmentView,
    change_status,
    doctor_name,
    get_appointment,
    patient_name,
)
from clinicdesk.services.chart import CHANGED, record_change
from clinicdesk.services.clinic import clinic_day
from clinicdesk.services.queue import (
    CALLED,
    DONE,
    LEFT,
    WAITING,
    QueueService,
    QueueView,
    call_entry,
    finish_entry,
    queue_views,
    waiting_in_order,
)
from clinicdesk.services.visit_views import SIGNED
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    Appointment,
    DoctorProfile,
    DoctorService,
    QueueEntry,
    Visit,
    VisitAddendum,
)


@dataclass(frozen=True)
class VisitNote:
    complaint: str = ""
    findings: str = ""
    diagnosis: str = ""
    plan: str = ""

    def cleaned(self) -> VisitNote:
        return VisitNote(*(getattr(self, f.name).strip() for f in fields(self)))


NOTE_FIELDS = tuple(f.name for f in fields(VisitNote))
NOTE_LIMIT = 20000


@dataclass(frozen=True)
class Addendum:
    at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class VisitView:
    id: str
    patient_id: str
    patient_name: str
    doctor_id: str
    doctor_name: str
    appointment_id: str | None
    queue_entry_id: str | None
    started_at: datetime
    note: VisitNote
    status: str
    signed_at: datetime | None
    signed_by: str
    version: int
    addenda: tuple[Addendum, ...]

    @property
    def locked(self) -> bool:
        return self.status == SIGNED

    @property
    def is_walk_in(self) -> bool:
        return self.appointment_id is None


@dataclass(frozen=True)
class DoctorDay:
    """What the doctor sees first: today's booked patients and who waits for them."""

    doctor_id: str
    day: date
    appointments: list[AppointmentView]
    queue: list[QueueView]  # waiting for this doctor (or any), then called by this doctor
    open_visits: dict[str, str]  # appointment or queue entry id -> visit id


class NoteLocked(Conflict):
    def __init__(self, by: str, at: datetime) -> None:
        super().__init__(
            f"This note was signed by {by} on {at:%d %b %Y at %H:%M} UTC and can no longer be "
            "changed. Add an addendum to correct or add to it."
        )


class VisitService:
    def __init__(
        self,
        store: Store,
        appointments: AppointmentService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.appointments = appointments
        self.clock = clock

    # ---- the day ----

    def my_doctor_id(self, actor: Actor) -> str:
        with self.store.read() as s:
            return doctor_of(s, actor).id

    def doctor_day(self, actor: Actor) -> DoctorDay:
        actor.require(P.CLINICAL_READ)
        with self.store.read() as s:
            doctor = doctor_of(s, actor)
            now = self.clock()
            day = clinic_day(s, now)
            waiting = waiting_in_order(s, day, doctor.id)
            called = list(
                s.scalars(
                    select(QueueEntry)
                    .where(
                        QueueEntry.day == day,
                        QueueEntry.called_doctor_id == doctor.id,
                        QueueEntry.status.in_((CALLED, DONE)),
                    )
                    .order_by(QueueEntry.called_at.desc())
                )
            )
            queue = queue_views(s, waiting + called, now)
            visits = s.execute(
                select(Visit.id, Visit.appointment_id, Visit.queue_entry_id).where(
                    Visit.doctor_id == doctor.id, Visit.started_at >= now - timedelta(days=1)
                )
            )
            open_visits = {}
            for vid, appt_id, entry_id in visits:
                open_visits.update({k: vid for k in (appt_id, entry_id) if k})
        appts = self.appointments.day(actor, day, [doctor.id])
        return DoctorDay(doctor.id, day, appts, queue, open_visits)

    def call_next(self, actor: Actor, leave_open: bool = False) -> VisitView | None:
        """The next patient in this doctor's queue comes in: the visit opens (None: nobody).

        A visit still open is never finished here; see ``QueueService.call_next``.
        """
        actor.require(P.CLINICAL_WRITE)
        with self.store.read() as s:
            doctor_id = doctor_of(s, actor).id
        queue = QueueService(self.store, clock=self.clock)
        called = queue.call_next(actor, doctor_id, leave_open=leave_open)
        if called is None:
            return None
        return self.start_for_queue_entry(actor, called.id)

    # ---- opening ----

    def start_for_appointment(self, actor: Actor, appointment_id: str) -> VisitView:
        actor.require(P.CLINICAL_WRITE)
        with self.store.write(actor) as s:
            doctor = doctor_of(s, actor)
            appt = get_appointment(s, appointment_id)
            existing = s.scalar(select(Visit).where(Visit.appointment_id == appt.id))
            if existing is not None:
                return _view(s, existing)
            if appt.status not in ATTENDED:
                status = AppointmentStatus(appt.status).label.lower()
                raise Conflict(
                    f"This appointment is {status}: a visit is "
                    "opened once the patient has checked in."
                )
            entry = s.scalar(select(QueueEntry).where(QueueEntry.appointment_id == appt.id))
            if entry is not None and entry.status == WAITING:
                call_entry(s, actor, entry, doctor, self.clock())
            elif appt.status == AppointmentStatus.CHECKED_IN:
                change_status(s, actor, appt, AppointmentStatus.IN_CONSULTATION)
            row = Visit(
                patient_id=appt.patient_id,
                doctor_id=doctor.id,
                appointment_id=appt.id,
                queue_entry_id=entry.id if entry is not None else None,
                started_at=self.clock(),
            )
            return _opened(s, actor, row)

    def start_for_queue_entry(self, actor: Actor, entry_id: str) -> VisitView:
        actor.require(P.CLINICAL_WRITE)
        with self.store.write(actor) as s:
            doctor = doctor_of(s, actor)
            entry = s.get(QueueEntry, entry_id)
            if entry is None:
                raise NotFound("That queue entry does not exist.")
            existing = s.scalar(
                select(Visit).where(
                    or_(
                        Visit.queue_entry_id == entry.id,
                        Visit.appointment_id == entry.appointment_id
                        if entry.appointment_id
                        else False,
                    )
                )
            )
            if existing is not None:
                return _view(s, existing)
            if entry.status == LEFT:
                raise Conflict(f"Token {entry.token} left without being seen.")
            if entry.status == WAITING:
                call_entry(s, actor, entry, doctor, self.clock())
            row = Visit(
                patient_id=entry.patient_id,
                doctor_id=doctor.id,
                appointment_id=entry.appointment_id,
                queue_entry_id=entry.id,
                started_at=self.clock(),
            )
            return _opened(s, actor, row)

    def get(self, actor: Actor, visit_id: str) -> VisitView:
        actor.require(P.CLINICAL_READ)
        with self.store.write(actor) as s:
            row = _visit(s, visit_id)
            audit.append(s, actor, "visit.view", "visits", row.id)
            return _view(s, row)

    # ---- the note ----

    def save_note(
        self, actor: Actor, visit_id: str, note: VisitNote, expected_version: int
    ) -> VisitView:
        actor.require(P.CLINICAL_WRITE)
        note = _checked(note)
        with self.store.write(actor) as s:
            row = _visit(s, visit_id)
            _check_signer(s, actor, row)
            if row.version != expected_version:
                raise Conflict(
                    "This note was saved from another desk meanwhile; reopen the visit to see it."
                )
            changes = {
                k: (getattr(row, k), getattr(note, k))
                for k in NOTE_FIELDS
                if getattr(row, k) != getattr(note, k)
            }
            if changes:
                for k, (_old, new) in changes.items():
                    setattr(row, k, new)
                s.flush()  # the unit of work counts the version, once per change
                record_change(
                    s, actor, row.patient_id, "visit", row.id, row.version, CHANGED, changes
                )
                audit.append(s, actor, "visit.note", "visits", row.id)
            return _view(s, row)

    def finish(self, actor: Actor, visit_id: str, note: VisitNote | None = None) -> VisitView:
        """End the visit: the note (saved first when given) is signed and locked, the
        appointment completed and the queue entry done."""
        actor.require(P.CLINICAL_WRITE)
        if note is not None:
            with self.store.read() as s:
                row = _visit(s, visit_id)
                _check_signer(s, actor, row)  # before the note is saved: a refusal changes nothing
                version = row.version
            self.save_note(actor, visit_id, note, version)
        with self.store.write(actor) as s:
            row = _visit(s, visit_id)
            _check_signer(s, actor, row)
            if not any(getattr(row, k) for k in NOTE_FIELDS):
                raise ValidationError(
                    {"complaint": "the note is empty; write at least the complaint or diagnosis"}
                )
            row.status, row.signed_at = SIGNED, self.clock()
            row.signed_by, row.signed_by_name = actor.user_id, actor.display_name
            row.note_hash = note_hash(row)
            if row.appointment_id:
                appt = s.get(Appointment, row.appointment_id)
                if appt.status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION):
                    if appt.status == AppointmentStatus.CHECKED_IN:
                        change_status(s, actor, appt, AppointmentStatus.IN_CONSULTATION)
                    change_status(s, actor, appt, AppointmentStatus.COMPLETED)
            if row.queue_entry_id:
                entry = s.get(QueueEntry, row.queue_entry_id)
                if entry.status == CALLED:
                    finish_entry(s, actor, entry)
            audit.append(s, actor, "visit.sign", "visits", row.id, note_hash=row.note_hash)
            return _view(s, row)

    def add_addendum(self, actor: Actor, visit_id: str, text: str) -> VisitView:
        actor.require(P.CLINICAL_WRITE)
        text = text.strip()
        if not text:
            raise ValidationError({"addendum": "is empty"})
        if len(text) > NOTE_LIMIT:
            raise ValidationError({"addendum": f"is too long (at most {NOTE_LIMIT} characters)"})
        with self.store.write(actor) as s:
            row = _visit(s, visit_id)
            if row.status != SIGNED:
                raise Conflict("The note is not signed yet: change the note itself.")
            s.add(
                VisitAddendum(
                    visit_id=row.id,
                    text=text,
                    author_id=actor.user_id,
                    author_name=actor.display_name,
                )
            )
            s.flush()
            audit.append(s, actor, "visit.addendum", "visits", row.id)
            return _view(s, row)

    def book_follow_up(self, actor: Actor, visit_id: str, after_days: int) -> AppointmentView:
        """The doctor's first free slot after the interval; for a walk-in, their first service."""
        # both before the visit is read: a refusal tells nothing
        actor.require(P.PATIENT_READ)
        actor.require(P.APPOINTMENTS_MANAGE)
        with self.store.read() as s:
            row = _visit(s, visit_id)
            appt = s.get(Appointment, row.appointment_id) if row.appointment_id else None
            service_id = (
                appt.service_id
                if appt is not None
                else s.scalar(
                    select(DoctorService.service_id)
                    .where(DoctorService.doctor_id == row.doctor_id)
                    .order_by(DoctorService.created_at)
                )
            )
        if appt is not None and AppointmentStatus(appt.status).finished:
            return self.appointments.book_follow_up(actor, appt.id, after_days)
        if service_id is None:
            raise Conflict("This doctor offers no services to book a follow-up for.")
        if not 1 <= after_days <= 365:
            raise ValidationError({"interval": "must be 1 to 365 days"})
        after = max(row.started_at + timedelta(days=after_days), self.clock())
        offer = self.appointments.next_free(actor, service_id, doctor_id=row.doctor_id, after=after)
        if offer is None:
            raise Conflict("The doctor has no free slot in the 60 days after that.")
        return self.appointments.book(
            actor, row.patient_id, row.doctor_id, service_id, offer.starts_at
        )


def _check_signer(s: Session, actor: Actor, row: Visit) -> None:
    """The note is open and this is the doctor who saw the patient."""
    if row.status == SIGNED:
        raise NoteLocked(row.signed_by_name, row.signed_at)
    check_own_visit(s, actor, row)


def check_own_visit(s: Session, actor: Actor, row: Visit) -> None:
    if doctor_of(s, actor).id != row.doctor_id:
        raise Conflict(
            "This is another doctor's visit: only the doctor who saw the patient writes its "
            "note and prescriptions."
        )


def note_hash(row: Visit) -> str:
    body = {k: getattr(row, k) for k in NOTE_FIELDS} | {
        "visit": row.id,
        "signed_by": row.signed_by,
        "signed_at": row.signed_at.isoformat(),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _checked(note: VisitNote) -> VisitNote:
    note = note.cleaned()
    problems = {
        k: f"is too long (at most {NOTE_LIMIT} characters)"
        for k in NOTE_FIELDS
        if len(getattr(note, k)) > NOTE_LIMIT
    }
    if problems:
        raise ValidationError(problems)
    return note


def doctor_of(s: Session, actor: Actor) -> DoctorProfile:
    doctor = s.scalar(
        select(DoctorProfile).where(
            DoctorProfile.user_id == actor.user_id, DoctorProfile.deleted_at.is_(None)
        )
    )
    if doctor is None:
        raise Conflict(
            f"{actor.display_name} has no doctor profile; an administrator adds one under "
            "Admin → Schedule → Doctors."
        )
    return doctor


def _visit(s: Session, visit_id: str) -> Visit:
    row = s.get(Visit, visit_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That visit does not exist.")
    return row


def _opened(s: Session, actor: Actor, row: Visit) -> VisitView:
    s.add(row)
    s.flush()
    audit.append(s, actor, "visit.start", "visits", row.id, patient=row.patient_id)
    return _view(s, row)


def _view(s: Session, row: Visit) -> VisitView:
    addenda = s.scalars(
        select(VisitAddendum)
        .where(VisitAddendum.visit_id == row.id)
        .order_by(VisitAddendum.created_at, VisitAddendum.id)
    )
    return VisitView(
        row.id,
        row.patient_id,
        patient_name(s, row.patient_id),
        row.doctor_id,
        doctor_name(s, s.get(DoctorProfile, row.doctor_id)),
        row.appointment_id,
        row.queue_entry_id,
        row.started_at,
        VisitNote(*(getattr(row, k) for k in NOTE_FIELDS)),
        row.status,
        row.signed_at,
        row.signed_by_name,
        row.version,
        tuple(Addendum(a.created_at, a.author_name, a.text) for a in addenda),
    )

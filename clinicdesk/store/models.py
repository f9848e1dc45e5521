"""ORM models. Synced tables carry the sync columns and get an outbox row per change."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, synonym

from clinicdesk.ids import new_id, utcnow
from clinicdesk.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {datetime: UTCDateTime()}


class Synced:
    """Columns every synced row carries; set by the unit of work, never by hand."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Meta(Base):
    """Facts about this database: the clinic it belongs to, the audit chain's head."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class KeySlotRecord(Synced, Base):
    """One key slot of the clinic's key file (``store/keyslots.py``), as every desk keeps it:
    the slot's JSON, and the key generation its sealed keys belong to. A removed slot is a
    tombstone. Nothing in it opens without its owner's password (``store/slot_sync.py``)."""

    __tablename__ = "key_slots"
    generation: Mapped[int] = mapped_column(Integer)
    slot: Mapped[str] = mapped_column(Text)  # JSON


class KeyGeneration(Synced, Base):
    """A key change: the new generation, the older keys under its key, and every slot it
    carried over (JSON), so a desk moves to it in one step."""

    __tablename__ = "key_generations"
    generation: Mapped[int] = mapped_column(Integer, unique=True)
    history: Mapped[str] = mapped_column(Text)  # JSON list, as the key file keeps it
    slots: Mapped[str] = mapped_column(Text)  # JSON list of slots


class Counter(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class ClinicProfile(Synced, Base):
    __tablename__ = "clinic"
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    mrn_prefix: Mapped[str] = mapped_column(String(8))
    idle_lock_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # scheduling: see clinicdesk.services.scheduling
    booking_needs_approval: Mapped[bool] = mapped_column(default=False, server_default="0")
    no_show_after_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    cancellation_policy: Mapped[str] = mapped_column(Text, default="", server_default="")
    # the scheduled backup: see clinicdesk.services.backups
    backup_daily: Mapped[bool] = mapped_column(default=True, server_default="1")
    backup_at_minute: Mapped[int] = mapped_column(Integer, default=19 * 60, server_default="1140")
    backup_folder: Mapped[str] = mapped_column(Text, default="", server_default="")
    backup_keep_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")


class User(Synced, Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated Role values
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class Patient(Synced, Base):
    __tablename__ = "patients"
    mrn: Mapped[str] = mapped_column(String(20), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date, index=True)
    sex: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(40), default="")
    phone_digits: Mapped[str] = mapped_column(String(20), default="", index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    national_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    emergency_contact_name: Mapped[str] = mapped_column(String(200), default="")
    emergency_contact_phone: Mapped[str] = mapped_column(String(40), default="")
    sort_name: Mapped[str] = mapped_column(String(220))
    __table_args__ = (Index("ix_patients_sort", "sort_name", "date_of_birth", "id"),)


class PatientSearchTerm(Base):
    """Normalised words and numbers of a patient, for prefix search through an index.

    ``sort_key`` repeats the patient's sort name and birth date so that the primary key (a
    clustered index: the table has no rowid) answers a prefix in name order without reading
    each matching patient row.
    """

    __tablename__ = "patient_search_terms"
    term: Mapped[str] = mapped_column(String(120), primary_key=True)
    sort_key: Mapped[str] = mapped_column(String(240), primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    __table_args__ = (
        Index("ix_patient_search_terms_patient", "patient_id", "term"),
        {"sqlite_with_rowid": False},
    )


class PatientVersion(Synced, Base):
    """One saved edit of a patient: what changed, from what to what, by whom."""

    __tablename__ = "patient_versions"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    patient_version: Mapped[int] = mapped_column(Integer)
    changed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    changed_by_name: Mapped[str] = mapped_column(String(200))
    changes: Mapped[str] = mapped_column(Text)  # JSON {field: [old, new]}
    __table_args__ = (UniqueConstraint("patient_id", "patient_version"),)


class AuditEntry(Base):
    """Hash-chained audit log; see clinicdesk.store.audit."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # the audit screen's filters: each index ends in the row id (seq), so a filtered page is
    # read newest first straight from the index
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ix_audit_log_actor", "actor_id"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_at", "at"),
    )


class OutboxEntry(Base):
    """A change of a synced row waiting to be pushed to the sync server."""

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(8))  # insert, update, delete
    row_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pushed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class SyncConflict(Base):
    """A change from another desk that could not be applied here without writing over a change
    of this desk's (or that was made from the same version): both sides are kept, never
    dropped, until someone decides."""

    __tablename__ = "sync_conflicts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(Text)  # why it was not applied, in words
    local_version: Mapped[int] = mapped_column(Integer)  # 0: no row of that id here
    local_payload: Mapped[str] = mapped_column(Text)
    remote_version: Mapped[int] = mapped_column(Integer)
    remote_deleted: Mapped[bool] = mapped_column(Boolean)
    remote_payload: Mapped[str] = mapped_column(Text)
    remote_seq: Mapped[int] = mapped_column(Integer, unique=True)
    remote_device: Mapped[str] = mapped_column(String(36))
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)


# ---- scheduling ----


class Specialization(Synced, Base):
    __tablename__ = "specializations"
    name: Mapped[str] = mapped_column(String(120), unique=True)


class DoctorProfile(Synced, Base):
    """A doctor who sees patients: the account, what they practise, where."""

    __tablename__ = "doctors"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    specialization_id: Mapped[str] = mapped_column(ForeignKey("specializations.id"))
    licence_number: Mapped[str] = mapped_column(String(60))
    languages: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    room: Mapped[str] = mapped_column(String(40), default="")


class CareService(Synced, Base):
    """Something the clinic books time for: a consultation, a vaccination, a dressing."""

    __tablename__ = "care_services"
    name: Mapped[str] = mapped_column(String(120), unique=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    fee_minor: Mapped[int] = mapped_column(Integer, default=0)


class DoctorService(Synced, Base):
    __tablename__ = "doctor_services"
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"))
    service_id: Mapped[str] = mapped_column(ForeignKey("care_services.id"))
    __table_args__ = (UniqueConstraint("doctor_id", "service_id"),)


class VisitingHours(Synced, Base):
    """A weekly window in the clinic's local time (minutes after midnight)."""

    __tablename__ = "visiting_hours"
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    service_ids: Mapped[str] = mapped_column(Text, default="")  # empty: every service


class ClinicHoliday(Synced, Base):
    __tablename__ = "clinic_holidays"
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class DoctorLeave(Synced, Base):
    __tablename__ = "doctor_leave"
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class DoctorAbsence(Synced, Base):
    """Unavailable between two moments, e.g. called away in an emergency."""

    __tablename__ = "doctor_absences"
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")


class Appointment(Synced, Base):
    __tablename__ = "appointments"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"))
    service_id: Mapped[str] = mapped_column(ForeignKey("care_services.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked_until: Mapped[datetime]  # ends_at plus the service's buffer
    status: Mapped[str] = mapped_column(String(20))
    fee_minor: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    booked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    overlap_reason: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # set when a change of hours, leave or absence hits it: the patient must be told
    attention: Mapped[str] = mapped_column(Text, default="")
    follow_up_of: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    __table_args__ = (Index("ix_appointments_doctor_time", "doctor_id", "starts_at"),)


class AppointmentEvent(Synced, Base):
    """One step of an appointment's life: who moved it from what to what, and why."""

    __tablename__ = "appointment_events"
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="{}")


class SlotHold(Base):
    """Reception keeps a time for a patient on the phone; it lapses at ``expires_at``."""

    __tablename__ = "slot_holds"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    held_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    held_by_name: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class DoctorTimeClaim(Base):
    """One 5-minute cell of a doctor's time, taken by an appointment or a hold.

    The primary key is what makes a double booking impossible: two bookings that overlap by
    even one cell cannot both be written, whichever process writes second.
    """

    __tablename__ = "doctor_time_claims"
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"), primary_key=True)
    cell: Mapped[datetime] = mapped_column(primary_key=True)
    appointment_id: Mapped[str | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    hold_id: Mapped[str | None] = mapped_column(
        ForeignKey("slot_holds.id", ondelete="CASCADE"), index=True
    )


class PatientTimeClaim(Base):
    """The patient's side: one person cannot be in two appointments at once (unless overridden)."""

    __tablename__ = "patient_time_claims"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    cell: Mapped[datetime] = mapped_column(primary_key=True)
    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )


class WaitlistEntry(Synced, Base):
    """A patient who would take an earlier slot: shown when a matching one frees up."""

    __tablename__ = "waitlist"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("care_services.id"))
    doctor_id: Mapped[str | None] = mapped_column(ForeignKey("doctors.id"))  # None: any doctor
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting, booked, removed


class QueueEntry(Synced, Base):
    """A patient waiting today: a walk-in, or a booked patient who has checked in."""

    __tablename__ = "queue_entries"
    day: Mapped[date] = mapped_column(Date)  # the clinic's local date
    token: Mapped[int] = mapped_column(Integer)  # called out and shown on the waiting-room screen
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 0 normal, 1 urgent, 2 emergency
    doctor_id: Mapped[str | None] = mapped_column(ForeignKey("doctors.id"))  # None: next free
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    due_at: Mapped[datetime]  # arrival, or the booked time for a checked-in appointment
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    called_at: Mapped[datetime | None] = mapped_column(default=None)
    called_doctor_id: Mapped[str | None] = mapped_column(ForeignKey("doctors.id"))
    room: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        UniqueConstraint("day", "token"),
        Index("ix_queue_day_status", "day", "status"),
    )


# ---- the chart ----


class ChartRow(Synced):
    """A row of a patient's chart: each change is also kept in ``chart_changes``."""

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)


class Allergy(ChartRow, Base):
    __tablename__ = "allergies"
    substance: Mapped[str] = mapped_column(String(200))
    reaction: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(20))  # mild, moderate, severe, life-threatening
    note: Mapped[str] = mapped_column(Text, default="")


class Condition(ChartRow, Base):
    __tablename__ = "conditions"
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, resolved
    onset: Mapped[date | None] = mapped_column(Date, default=None)
    resolved_on: Mapped[date | None] = mapped_column(Date, default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class Surgery(ChartRow, Base):
    __tablename__ = "surgeries"
    procedure: Mapped[str] = mapped_column(String(200))
    performed_on: Mapped[date | None] = mapped_column(Date, default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class FamilyHistory(ChartRow, Base):
    __tablename__ = "family_history"
    relative: Mapped[str] = mapped_column(String(60))
    condition: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class Lifestyle(ChartRow, Base):
    """One per patient."""

    __tablename__ = "lifestyle"
    smoking: Mapped[str] = mapped_column(String(200), default="")
    alcohol: Mapped[str] = mapped_column(String(200), default="")
    activity: Mapped[str] = mapped_column(String(200), default="")
    diet: Mapped[str] = mapped_column(String(200), default="")
    __table_args__ = (UniqueConstraint("patient_id"),)


class VitalSigns(ChartRow, Base):
    __tablename__ = "vital_signs"
    taken_at: Mapped[datetime]
    systolic: Mapped[int | None] = mapped_column(Integer, default=None)  # mmHg
    diastolic: Mapped[int | None] = mapped_column(Integer, default=None)
    pulse: Mapped[int | None] = mapped_column(Integer, default=None)  # beats a minute
    temperature: Mapped[float | None] = mapped_column(Float, default=None)  # degrees Celsius
    spo2: Mapped[int | None] = mapped_column(Integer, default=None)  # percent
    weight: Mapped[float | None] = mapped_column(Float, default=None)  # kg
    height: Mapped[float | None] = mapped_column(Float, default=None)  # cm
    note: Mapped[str] = mapped_column(Text, default="")


class ChartDocument(ChartRow, Base):
    """A lab report, letter or image; the file itself lives in the encrypted database."""

    __tablename__ = "chart_documents"
    kind: Mapped[str] = mapped_column(String(20))  # lab, letter, image, other
    title: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    dated: Mapped[date] = mapped_column(Date)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))


class ChartChange(Synced, Base):
    """Who changed what in a chart: the entry's version and its fields' old and new values."""

    __tablename__ = "chart_changes"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    section: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[str] = mapped_column(String(36))
    entry_version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # added, changed, removed
    changes: Mapped[str] = mapped_column(Text)  # JSON {field: [old, new]}
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (Index("ix_chart_changes_patient", "patient_id", "created_at"),)


# ---- visits ----


class Visit(Synced, Base):
    """One encounter and its note; signed and locked when the visit ends."""

    __tablename__ = "visits"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"))
    appointment_id: Mapped[str | None] = mapped_column(
        ForeignKey("appointments.id"), unique=True, default=None
    )
    queue_entry_id: Mapped[str | None] = mapped_column(
        ForeignKey("queue_entries.id"), unique=True, default=None
    )
    started_at: Mapped[datetime]
    complaint: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    diagnosis: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, signed
    signed_at: Mapped[datetime | None] = mapped_column(default=None)
    signed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    signed_by_name: Mapped[str] = mapped_column(String(200), default="")
    note_hash: Mapped[str] = mapped_column(String(64), default="")  # SHA-256 of the signed note
    __table_args__ = (Index("ix_visits_patient", "patient_id", "started_at"),)


class VisitAddendum(Synced, Base):
    """A correction or addition to a signed note; notes themselves are never edited."""

    __tablename__ = "visit_addenda"
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200))


# ---- prescriptions ----


class Drug(Synced, Base):
    """An entry of the clinic's formulary."""

    __tablename__ = "drugs"
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)  # folded, for search
    ingredients: Mapped[str] = mapped_column(Text)  # comma-separated active ingredients
    drug_class: Mapped[str] = mapped_column(String(120), default="")
    forms: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    strengths: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    route: Mapped[str] = mapped_column(String(60), default="by mouth")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # stock at or below this many units raises a low-stock alert (0: no alert)
    reorder_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SigningKey(Synced, Base):
    """A prescription signing key: this clinic's own (with its private half while in use, under
    the signing-key key that doctors' and administrators' key slots hold) or one trusted from
    another clinic's trust file. Synced, so every desk of the clinic verifies what any of them
    signed; the row's id is the key id."""

    __tablename__ = "signing_keys"
    id: Mapped[str] = mapped_column("kid", String(16), primary_key=True)  # hex
    kid: Mapped[str] = synonym("id")
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The issuer: the clinic that holds the key, by its clinic id (this clinic's for its own
    # keys, the trust file's for another's; the key's own id where an older trust file named
    # none). Prescriptions are known here by issuer and prescription id, never by name.
    clinic_id: Mapped[str] = mapped_column(String(36), index=True)
    clinic_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # active, retired, revoked
    own: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The issuing clinic's date of retirement: the key is trusted for the longest validity a
    # prescription can have after it, and never for a prescription dated after it.
    retired_on: Mapped[date | None] = mapped_column(default=None)


class Prescription(Synced, Base):
    __tablename__ = "prescriptions"
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    doctor_id: Mapped[str] = mapped_column(ForeignKey("doctors.id"))
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    issued_at: Mapped[datetime]
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_by_name: Mapped[str] = mapped_column(String(200), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    kid: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(Text)  # the signed QR text, so a reprint is identical
    acknowledged: Mapped[str] = mapped_column(Text, default="[]")  # JSON warnings and reasons


class PrescriptionItem(Synced, Base):
    __tablename__ = "prescription_items"
    prescription_id: Mapped[str] = mapped_column(ForeignKey("prescriptions.id"))
    line: Mapped[int] = mapped_column(Integer)
    drug_id: Mapped[str | None] = mapped_column(ForeignKey("drugs.id"), default=None)
    drug: Mapped[str] = mapped_column(String(120))
    strength: Mapped[str] = mapped_column(String(60), default="")
    form: Mapped[str] = mapped_column(String(60), default="")
    dose: Mapped[str] = mapped_column(String(60))
    route: Mapped[str] = mapped_column(String(60))
    frequency_kind: Mapped[str] = mapped_column(String(16))
    frequency_n: Mapped[int] = mapped_column(Integer, default=0)
    frequency_times: Mapped[str] = mapped_column(String(120), default="")  # comma-separated
    duration_days: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(40))
    refills: Mapped[int] = mapped_column(Integer, default=0)
    substitution: Mapped[bool] = mapped_column(Boolean, default=True)
    instructions: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        UniqueConstraint("prescription_id", "line"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class DoseTime(Base):
    """When a dose is due, from the item's frequency and duration (for medication reminders)."""

    __tablename__ = "dose_times"
    item_id: Mapped[str] = mapped_column(
        ForeignKey("prescription_items.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(primary_key=True, index=True)


# ---- pharmacy ----


class StockBatch(Synced, Base):
    """A delivery of one drug in one strength and form, with its own expiry and prices.

    ``on_hand`` can never go below zero (a CHECK), so two counters cannot give out the same last
    packs. Prices are per unit (tablet, capsule, inhaler, bottle), in the clinic's minor units.
    """

    __tablename__ = "stock_batches"
    drug_id: Mapped[str] = mapped_column(ForeignKey("drugs.id"), index=True)
    batch_number: Mapped[str] = mapped_column(String(60))
    strength: Mapped[str] = mapped_column(String(60), default="")
    form: Mapped[str] = mapped_column(String(60), default="")
    expiry: Mapped[date] = mapped_column(Date)
    received: Mapped[int] = mapped_column(Integer)
    on_hand: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[int] = mapped_column(Integer, default=0)
    unit_price: Mapped[int] = mapped_column(Integer, default=0)
    supplier: Mapped[str] = mapped_column(String(200), default="")
    __table_args__ = (
        UniqueConstraint("drug_id", "batch_number", "strength", "form"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("unit_cost >= 0 AND unit_price >= 0", name="prices_not_negative"),
    )


class StockMovement(Synced, Base):
    """Every change of a batch's quantity: received, dispensed, adjusted (with a reason)."""

    __tablename__ = "stock_movements"
    batch_id: Mapped[str] = mapped_column(ForeignKey("stock_batches.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    change: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    dispense_id: Mapped[str | None] = mapped_column(ForeignKey("dispenses.id"), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    by_name: Mapped[str] = mapped_column(String(200))


class SignedPrescription(Synced, Base):
    """A prescription verified here, by its issuer (the signing clinic's id, from the key that
    signed it) and the prescription id inside the code, with a digest of its signed content: a
    second code with the same issuer and id but other content is refused as altered."""

    __tablename__ = "signed_prescriptions"
    issuer: Mapped[str] = mapped_column(String(36))
    prescription_id: Mapped[str] = mapped_column(String(36))
    reference: Mapped[str] = mapped_column(String(12))
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the signed content, hex
    __table_args__ = (UniqueConstraint("issuer", "prescription_id"),)


class DispenseBalance(Synced, Base):
    """What may still be given out for one item of a signed prescription, here or elsewhere.

    Keyed by the issuer (the signing clinic's id) and the prescription id inside the signed
    code, so a prescription from another clinic has a ledger of its own even if it reuses an id.
    ``allowed`` comes from the signed content (quantity for each fill); the CHECK makes
    dispensing beyond it impossible whatever the code above does.
    """

    __tablename__ = "dispense_balances"
    issuer: Mapped[str] = mapped_column(String(36))
    prescription_id: Mapped[str] = mapped_column(String(36))
    line: Mapped[int] = mapped_column(Integer)
    allowed: Mapped[int] = mapped_column(Integer)
    dispensed: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        UniqueConstraint("issuer", "prescription_id", "line"),
        CheckConstraint("dispensed >= 0 AND dispensed <= allowed", name="within_prescribed"),
    )


class Dispense(Synced, Base):
    """One handing-over at the counter: one or more items, recorded all together or not at all."""

    __tablename__ = "dispenses"
    issuer: Mapped[str] = mapped_column(String(36))  # the signing clinic's id
    prescription_id: Mapped[str] = mapped_column(String(36))
    reference: Mapped[str] = mapped_column(String(12), index=True)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), default=None)
    patient_name: Mapped[str] = mapped_column(String(200))
    patient_born: Mapped[date] = mapped_column(Date)
    issuing_clinic: Mapped[str] = mapped_column(String(200))
    doctor_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    by_name: Mapped[str] = mapped_column(String(200))
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    __table_args__ = (Index("ix_dispenses_issuer_prescription", "issuer", "prescription_id"),)


class DispenseLine(Synced, Base):
    __tablename__ = "dispense_lines"
    dispense_id: Mapped[str] = mapped_column(ForeignKey("dispenses.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)  # the prescription item's line
    prescribed: Mapped[str] = mapped_column(String(200))  # drug and strength as prescribed
    drug_id: Mapped[str] = mapped_column(ForeignKey("drugs.id"))
    given: Mapped[str] = mapped_column(String(200))  # drug, strength and form given
    substituted: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[str] = mapped_column(ForeignKey("stock_batches.id"))
    batch_number: Mapped[str] = mapped_column(String(60))
    expiry: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(40))
    unit_price: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(Integer)
    directions: Mapped[str] = mapped_column(Text)
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class PharmacyEvent(Synced, Base):
    """A scan (verified or refused) or a refusal to dispense, for the prescription's history.

    A refused code may carry no readable prescription id; then only the reason is kept.
    """

    __tablename__ = "pharmacy_events"
    issuer: Mapped[str | None] = mapped_column(String(36), default=None)
    prescription_id: Mapped[str | None] = mapped_column(String(36), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # verified, refused, rejected
    method: Mapped[str] = mapped_column(String(16))  # scanner, image, camera, reference
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    by_name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (Index("ix_pharmacy_events_issuer_prescription", "issuer", "prescription_id"),)


# ---- background work ----


class JobRun(Base):
    """One period's run of a background job, claimed by the desk that did it.

    The primary key makes the claim: two desks running the same job for the same period both
    try to insert this row in the job's own transaction, and only one can.
    """

    __tablename__ = "job_runs"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    desk: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)


class BackupRecord(Synced, Base):
    """A backup this clinic made, from the Backups screen or on the schedule (``made_by`` is
    None for a scheduled one). ``removed_at``: a scheduled backup deleted when it grew older
    than the days they are kept."""

    __tablename__ = "backups"
    made_at: Mapped[datetime] = mapped_column(index=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    made_by: Mapped[str | None] = mapped_column(String(200), default=None)
    verified: Mapped[bool] = mapped_column(default=False)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)

"""ORM models. Synced tables carry the sync columns and get an outbox row per change."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


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

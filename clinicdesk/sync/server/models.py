"""The server's tables: routing fields and ciphertext, never a patient's data in clear.

They live on their own MetaData, apart from the desk's, with migrations of their own in
``migrations/server/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clinicdesk.store.types import UTCDateTime
from clinicdesk.sync.protocol import MAX_ID, MAX_NAME

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ServerBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class ServerMeta(ServerBase):
    """Settings of the server itself; ``epoch`` is made at init and anew after a restore."""

    __tablename__ = "server_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OperatorToken(ServerBase):
    """Who may create a clinic space: only the SHA-256 of each token is kept."""

    __tablename__ = "operator_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class Clinic(ServerBase):
    """A clinic's space; ``head_seq`` is its last sequence number, and its row is the lock
    that serializes the clinic's appends."""

    __tablename__ = "clinics"
    id: Mapped[str] = mapped_column(String(MAX_ID), primary_key=True)  # the desk's clinic id
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    created_at: Mapped[datetime]
    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_link: Mapped[str] = mapped_column(String(64))  # the last change's link (``chain.py``)


class Device(ServerBase):
    """A desk of a clinic; it signs in with its id and a secret whose SHA-256 is kept here."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class Change(ServerBase):
    """A clinic's change log: one row per change a desk pushed, in sequence order."""

    __tablename__ = "changes"
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    op_id: Mapped[str] = mapped_column(String(MAX_ID))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    entity: Mapped[str] = mapped_column(String(MAX_ID))
    entity_id: Mapped[str] = mapped_column(String(MAX_ID))
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean)
    key_gen: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # empty when sent in parts
    # a payload sent in parts (``ChangePart``): its SHA-256, how many parts, its length
    parts_blob: Mapped[str | None] = mapped_column(String(64))
    parts_count: Mapped[int | None] = mapped_column(Integer)
    parts_size: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the payload as it was taken
    link: Mapped[str] = mapped_column(String(64))  # its link in the clinic's hash chain
    # A pull reads (clinic_id, seq > N) in order: the primary key's own index serves it.
    __table_args__ = (UniqueConstraint("clinic_id", "op_id", name="uq_changes_clinic_op"),)


class ChangePart(ServerBase):
    """A part of a large payload, as a desk sent it ahead of its change: ciphertext like any
    payload, kept per clinic (a device only ever reads its own clinic's parts)."""

    __tablename__ = "change_parts"
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    blob: Mapped[str] = mapped_column(String(64), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]


class JoinCode(ServerBase):
    """A code an admin's desk made for a further desk of its clinic. Only the SHA-256 of the
    code's lookup is kept; ``wrapped`` is the clinic's key bundle sealed under a key derived
    from the code, which the server never sees. Used once: ``device_id`` is the desk it made."""

    __tablename__ = "join_codes"
    lookup_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    made_by: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    device_name: Mapped[str] = mapped_column(String(MAX_NAME))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))

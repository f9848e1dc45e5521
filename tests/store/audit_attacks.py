"""What someone holding the database key can do to the audit log, outside the app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import select

from clinicdesk.services.patients import PatientInput
from clinicdesk.store import audit
from clinicdesk.store.database import Store, connect
from clinicdesk.store.keyslots import KeySlotFile
from clinicdesk.store.models import AuditEntry, Meta
from tests.conftest import ADMIN_PASSWORD


@contextmanager
def with_the_key(folder: Path) -> Iterator[Store]:
    """The clinic's database opened with its real key (as the admin's password opens it)."""
    slots = KeySlotFile.load(folder)
    slot = slots.user_slot("admin")
    key = slots.database_key(slot, slots.open_private(slot, ADMIN_PASSWORD))
    store = connect(folder, key)
    try:
        yield store
    finally:
        store.close()


def rewrite_and_rechain(store: Store, seq: int, actor_name: str) -> None:
    """Change entry ``seq``, recompute every hash after it, and the head: the chain checks out."""
    with store.write() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
        ).all()
        prev = s.get(AuditEntry, seq - 1).hash if seq > 1 else audit.GENESIS
        for entry in entries:
            if entry.seq == seq:
                entry.actor_name = actor_name
            entry.prev_hash = prev
            entry.hash = prev = audit.entry_hash(entry)
        s.get(Meta, audit.HEAD_KEY).value = f"{entries[-1].seq}:{prev}"


def cut_tail(store: Store, keep_up_to: int) -> None:
    """Delete every entry after ``keep_up_to`` and set the head back to it."""
    with store.write() as s:
        for entry in s.scalars(select(AuditEntry).where(AuditEntry.seq > keep_up_to)):
            s.delete(entry)
        s.get(Meta, audit.HEAD_KEY).value = f"{keep_up_to}:{s.get(AuditEntry, keep_up_to).hash}"


def chain_alone(store: Store) -> audit.ChainReport:
    with store.read() as s:
        return audit.verify(s)


def newest_seq(store: Store) -> int:
    with store.read() as s:
        return s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))


def seq_of(store: Store, action: str) -> int:
    with store.read() as s:
        return s.scalar(select(AuditEntry.seq).where(AuditEntry.action == action).limit(1))


def register(session, family: str = "Okafor", n: int = 1) -> None:
    for i in range(n):
        session.patients.register(
            session.actor,
            PatientInput(f"Given{i}", family, date(1970, 1, 1 + i), "female"),
            not_a_duplicate=True,
        )

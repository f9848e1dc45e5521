"""What changed, told after each commit: which rows (table and id), and for which patients.

Screens that show a patient's data (allergies above all) subscribe here instead of each
remembering which other screen might have changed it. The feed is told only after a commit, so
a listener never sees a change that rolled back; listeners are called on the committing thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

from clinicdesk.listeners import Listeners
from clinicdesk.store.models import Patient, Synced

_PENDING = "changed_rows"
_ENTITIES = "changed_entities"


@dataclass(frozen=True)
class Change:
    """One committed unit of work: (table, patient id) of every patient row it touched, and
    (table, row id) of every synced row it touched (``entities``; a change seen from another
    desk, through the outbox, knows only these)."""

    rows: frozenset[tuple[str, str]]
    entities: frozenset[tuple[str, str]] = frozenset()

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(t for t, _ in self.entities) | frozenset(t for t, _ in self.rows)

    def touches(self, patient_id: str, tables: frozenset[str] | None = None) -> bool:
        """Did this commit change ``patient_id``'s rows (of ``tables``, or of any table)?"""
        return any(p == patient_id and (tables is None or t in tables) for t, p in self.rows)


class ChangeFeed(Listeners[Change]):
    """Told after every commit that changed a synced row (``publish``), and by the watcher of
    other desks' commits."""

    def __init__(self) -> None:
        super().__init__("change")


def _patient_of(obj: Synced) -> str | None:
    if isinstance(obj, Patient):
        return obj.id
    return getattr(obj, "patient_id", None)


def _collect(session: Session, _flush_context, _instances) -> None:
    pending: set[tuple[str, str]] = session.info.setdefault(_PENDING, set())
    entities: set[tuple[str, str]] = session.info.setdefault(_ENTITIES, set())
    dirty = (o for o in session.dirty if session.is_modified(o, include_collections=False))
    for obj in (*session.new, *dirty):
        if not isinstance(obj, Synced):
            continue
        table = type(obj).__tablename__
        entities.add((table, obj.id))
        if patient_id := _patient_of(obj):
            pending.add((table, patient_id))


def install(session_class: type[Session] | Callable[[], Session], feed: ChangeFeed) -> None:
    """Collect each flush's patient rows; tell ``feed`` once the transaction commits (a unit
    of work that rolls back is never told: its session, and what it collected, are dropped)."""

    def committed(session: Session) -> None:
        rows = session.info.pop(_PENDING, None) or set()
        entities = session.info.pop(_ENTITIES, None) or set()
        if rows or entities:
            feed.publish(Change(frozenset(rows), frozenset(entities)))

    event.listen(session_class, "before_flush", _collect)
    event.listen(session_class, "after_commit", committed)

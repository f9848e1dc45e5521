"""Collects what each unit of work changed and tells the change feed once it commits."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from clinicdesk.changes import Change, ChangeFeed
from clinicdesk.store.models import Patient, Synced

_PENDING = "changed_rows"
_ENTITIES = "changed_entities"


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

"""Collects what each unit of work changed and tells the change feed once it commits.

Only what the transaction kept is told: rows collected inside a savepoint that rolls back (a
pulled change kept aside as a conflict, ``sync/apply.py``) are forgotten with it, and the end
of a savepoint is not the commit (a screen told then would read the data as it was before).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from clinicdesk.changes import Change, ChangeFeed
from clinicdesk.store.models import Patient, Synced

_PENDING = "changed_rows"
_ENTITIES = "changed_entities"
_MARKS = "changed_rows_marks"  # each open savepoint: how much was collected when it began

# rows collected so far, in order (dicts as ordered sets, so a savepoint's can be cut off)
Collected = dict[tuple[str, str], None]


def _collected(session: Session) -> tuple[Collected, Collected]:
    return session.info.setdefault(_PENDING, {}), session.info.setdefault(_ENTITIES, {})


def _collect(session: Session, _flush_context, _instances) -> None:
    dirty = (o for o in session.dirty if session.is_modified(o, include_collections=False))
    for obj in (*session.new, *dirty):
        if isinstance(obj, Synced):
            note(session, type(obj).__tablename__, [obj])


def note(session: Session, table: str, rows: Iterable[Any]) -> None:
    """Rows of ``table`` this unit of work wrote, for the change feed once it commits. Its
    flushes are noted by themselves; rows inserted in bulk are noted with this (``rows``:
    anything with the rows' fields). Noted inside a savepoint that rolls back, they are
    forgotten with it."""
    pending, entities = _collected(session)
    for row in rows:
        entities[(table, row.id)] = None
        patient_id = row.id if table == Patient.__tablename__ else getattr(row, "patient_id", None)
        if patient_id:
            pending[(table, patient_id)] = None


def _savepoint_began(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        pending, entities = _collected(session)
        session.info.setdefault(_MARKS, {})[transaction] = (len(pending), len(entities))


def _rolled_back(session: Session) -> None:
    """A savepoint rolled back (it is still the session's innermost one when told): what its
    flushes collected goes with it. The whole transaction rolled back: all of it goes."""
    savepoint = session.get_nested_transaction()
    mark = session.info.get(_MARKS, {}).get(savepoint) if savepoint is not None else (0, 0)
    if mark is None:
        return
    for collected, keep in zip(_collected(session), mark, strict=True):
        while len(collected) > keep:
            collected.popitem()  # the newest first


def _ended(session: Session, transaction: SessionTransaction) -> None:
    session.info.get(_MARKS, {}).pop(transaction, None)


def install(session_class: type[Session] | Callable[[], Session], feed: ChangeFeed) -> None:
    """Collect each flush's patient rows; tell ``feed`` once the transaction commits (never
    what a rollback, of the transaction or of a savepoint inside it, undid)."""

    def committed(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: nothing is committed yet
        rows = session.info.pop(_PENDING, None) or {}
        entities = session.info.pop(_ENTITIES, None) or {}
        if rows or entities:
            feed.publish(Change(frozenset(rows), frozenset(entities)))

    event.listen(session_class, "before_flush", _collect)
    event.listen(session_class, "after_transaction_create", _savepoint_began)
    event.listen(session_class, "after_rollback", _rolled_back)
    event.listen(session_class, "after_transaction_end", _ended)
    event.listen(session_class, "after_commit", committed)

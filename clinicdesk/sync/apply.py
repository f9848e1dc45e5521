"""Applying a page of changes pulled from the sync server to this desk's copy of the clinic.

A page is applied in one transaction with the cursor after it, so a desk stopped half-way
applies it again from the start, and applying it twice changes nothing. What arrives is
written as it was made elsewhere (its version and times), never captured into this desk's
outbox again; its derived rows (patients' search terms) are made anew, and the counters this
desk numbers from (record numbers, the day's queue tokens) move past the number it holds. The
change feed is told once the page commits, so open screens follow.

Nothing is ever written over: a change that meets a change of this desk's not yet pushed, or
that was made from the same version as this desk's, is kept beside it in ``sync_conflicts``.
A change whose payload does not open (altered on the server, or of another clinic) is reported
and the rest of the page goes on.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinicdesk.services import patient_search, patients, queue
from clinicdesk.services.booking import SlotUnavailable, reclaim_time
from clinicdesk.services.prescriptions import rebuild_dose_times
from clinicdesk.store import changes, outbox, slot_sync
from clinicdesk.store.database import Store
from clinicdesk.store.models import Base, Meta, OutboxEntry, SyncConflict, Synced
from clinicdesk.sync.payload import PayloadCipher, UnreadableChange
from clinicdesk.sync.protocol import PulledChange

CURSOR = "sync.cursor"  # the last sequence number of the server's log applied here
DEVICE = "sync.device"  # this desk's device on the server
LINK = "sync.link"  # the server log's hash-chain link at the cursor (``chain.py``)
CATCHING_UP = "sync.catching_up"  # set by a restart until the server has what it lacks


@dataclass
class Applied:
    applied: int = 0
    unchanged: int = 0
    conflicts: int = 0  # changes kept aside for review by this page (not those kept before)
    unreadable: list[str] = field(default_factory=list)


def synced_models() -> dict[str, type[Synced]]:
    return {
        m.class_.__tablename__: m.class_
        for m in Base.registry.mappers
        if issubclass(m.class_, Synced)
    }


# derived rows made anew for a row that arrived, in the page's order: an appointment's time
# claims, a prescription's dose times, this desk's key file
REBUILD: dict[str, Callable[[Session, Any], None]] = {
    "appointments": reclaim_time,
    "prescriptions": rebuild_dose_times,
    "prescription_items": rebuild_dose_times,
    "key_slots": slot_sync.follow,  # this desk's key file follows (store/slot_sync.py)
    "key_generations": slot_sync.follow,
}

# derived rows made anew for the rows of a page at once, once they are written: patients'
# search terms (they depend on the patient's own row alone)
REBUILD_PAGE: dict[str, Callable[[Session, Sequence[Any]], None]] = {
    "patients": patient_search.index_many,
}

# the counters this desk numbers rows from, moved past the numbers the rows of a page hold
NUMBERED: dict[str, Callable[[Session, list[Any]], None]] = {
    "patients": patients.mrns_arrived,
    "queue_entries": queue.tokens_arrived,
}

SLICE = 250  # changes applied together; a slice where one clashes is applied again one by one
WRITE, SAME = "write", "same"  # a change's outcome here, besides a reason it is kept aside


def cursor(store: Store) -> int:
    with store.read() as s:
        row = s.get(Meta, CURSOR)
        return int(row.value) if row else 0


@dataclass(frozen=True)
class _Opened:
    """A pulled change whose payload opened: the row's values, and its JSON as it came."""

    pulled: PulledChange
    model: type[Synced]
    plain: str
    values: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return self.pulled.change.entity, self.pulled.change.entity_id


def apply_page(
    store: Store,
    cipher: PayloadCipher,
    page: Sequence[PulledChange],
    after: int,
    link: str | None = None,
) -> Applied:
    """Apply ``page`` (in the server's order) and move the cursor to ``after`` with it, and
    the log's verified ``link`` there (``chain.follow``).

    A slice of the page is applied at once (its rows read and written a few statements at a
    time); one where a change clashes with a rule of this desk's data is undone and applied
    again change by change, each in a savepoint of its own, so the clash alone is kept aside.
    Payloads are opened in the page's order as it is applied, so a key change that arrives
    in it opens the changes after it (``PayloadCipher.learn``).
    """
    models = synced_models()
    report = Applied()
    with store.write() as s:
        s.info[outbox.APPLYING] = True
        device = s.get(Meta, DEVICE)
        desk = _Desk(
            own=device.value if device else None,
            replaying=s.get(Meta, CATCHING_UP) is not None,  # the whole log again, from the start
        )
        for start in range(0, len(page), SLICE):
            part = page[start : start + SLICE]
            try:
                with s.begin_nested():
                    done = _Slice(s, models, cipher, part, desk).apply()
            except (IntegrityError, SlotUnavailable):
                done = _apply_each(s, models, cipher, part, desk)
            report.applied += done.applied
            report.unchanged += done.unchanged
            report.conflicts += done.conflicts
            report.unreadable += done.unreadable
        set_meta(s, CURSOR, str(after))
        if link is not None:
            set_meta(s, LINK, link)
    return report


@dataclass(frozen=True)
class _Desk:
    """What the rule for a change depends on besides the row: this desk's device on the
    server, and whether the whole log is being pulled again from its start."""

    own: str | None
    replaying: bool


def _model(models: dict[str, type[Synced]], p: PulledChange) -> type[Synced]:
    model = models.get(p.change.entity)
    if model is None:
        raise UnreadableChange(
            f"it is about “{p.change.entity}”, which this version does not keep."
        )
    return model


def _open(models: dict[str, type[Synced]], cipher: PayloadCipher, p: PulledChange) -> _Opened:
    c = p.change
    model = _model(models, p)
    plain = cipher.open(c.entity, c.entity_id, c.version, c.deleted, c.key_gen, c.payload)
    return _Opened(p, model, plain.decode(), decode(model, json.loads(plain)))


def _outcome(o: _Opened, local: Synced | None, pending: bool, desk: _Desk) -> str:
    """What a change does to the row here (``local``; ``pending``: a change of it waits here
    to be pushed): WRITE it, SAME (it is here already, or built upon here), or the reason it
    is kept aside.

    In the log's order a change comes after every change it was made from, so one from another
    desk with a version below this desk's was made apart from what this desk went on from: kept
    for review, unless the log is being pulled again from its start (``replaying``)."""
    p, c = o.pulled, o.pulled.change
    if local is None:
        return WRITE
    if p.device_id == desk.own and c.version <= local.version:
        # this desk's own change come back (the puller can bring it while the next edit of the
        # row waits to be sent): it is here already, or built upon
        return SAME
    if c.version > local.version and not pending:
        return WRITE
    older = c.version < local.version and not pending and desk.replaying
    if older or o.plain == outbox.row_payload(local):
        return SAME  # the same as here, or pulled again and built upon here
    if pending:
        return "changed here too and not yet sent"
    if c.version == local.version:
        return "changed here from the same version"
    return "made from an older version, while this desk went on from another"


class _Slice:
    """Changes applied together: the rows they meet, the changes of this desk's waiting to be
    pushed and the conflicts kept before, each read in a statement or two; new rows inserted
    in bulk (those with derived rows of their own, such as appointments or key slots, one by
    one in the page's order); patients' search terms made for the slice at once."""

    def __init__(
        self,
        s: Session,
        models: dict[str, type[Synced]],
        cipher: PayloadCipher,
        part: Sequence[PulledChange],
        desk: _Desk,
    ) -> None:
        self.s, self.models, self.cipher, self.part, self.desk = s, models, cipher, part, desk
        self.report = Applied()
        self.here: dict[tuple[str, str], Synced] = {}
        ids: dict[type[Synced], list[str]] = {}
        for p in part:
            if (model := models.get(p.change.entity)) is not None:
                ids.setdefault(model, []).append(p.change.entity_id)
        for model, wanted in ids.items():
            for chunk in _chunks(list(dict.fromkeys(wanted))):
                for row in s.scalars(select(model).where(model.id.in_(chunk))):
                    self.here[(model.__tablename__, row.id)] = row
        everyone = [p.change.entity_id for p in part]
        self.pending: set[tuple[str, str]] = set()
        for chunk in _chunks(list(dict.fromkeys(everyone))):
            waiting = select(OutboxEntry.entity, OutboxEntry.entity_id).where(
                OutboxEntry.pushed_at.is_(None), OutboxEntry.entity_id.in_(chunk)
            )
            self.pending.update((entity, row_id) for entity, row_id in s.execute(waiting))
        seqs = [p.seq for p in part]
        self.kept = set(
            s.scalars(select(SyncConflict.remote_seq).where(SyncConflict.remote_seq.in_(seqs)))
        )
        self.queued: list[_Opened] = []  # new rows to insert, in order
        self.fresh: set[tuple[str, str]] = set()  # their keys
        self.written: dict[str, list[Any]] = {}

    def apply(self) -> Applied:
        for p in self.part:
            try:
                o = _open(self.models, self.cipher, p)
            except UnreadableChange as error:
                self.report.unreadable.append(f"Change {p.seq}: {error.message}")
                continue
            self._apply(o)
        self._flush()
        for entity, rows in self.written.items():
            if entity in REBUILD_PAGE:
                REBUILD_PAGE[entity](self.s, rows)
            if entity in NUMBERED:
                NUMBERED[entity](self.s, rows)
        return self.report

    def _apply(self, o: _Opened) -> None:
        s, key = self.s, o.key
        if key in self.fresh:  # a row new in this slice, changed again: read back as stored
            self._flush()
            self.fresh.discard(key)
            self.here[key] = s.get(o.model, key[1])
        local = self.here.get(key)
        outcome = _outcome(o, local, key in self.pending, self.desk)
        if outcome == SAME:
            self.report.unchanged += 1
            return
        if outcome != WRITE:
            self.report.conflicts += self._keep(o, outcome, local)
            return
        self.report.applied += 1
        entity = key[0]
        if local is None and entity not in REBUILD:
            self.queued.append(o)
            self.fresh.add(key)
            self.written.setdefault(entity, []).append(SimpleNamespace(**o.values))
            return
        row = _write(s, o, local)
        self.here[key] = row
        self.written.setdefault(entity, []).append(row)
        if entity in REBUILD:
            self._flush()
            REBUILD[entity](s, row)

    def _keep(self, o: _Opened, reason: str, local: Synced) -> bool:
        if o.pulled.seq in self.kept:
            return False
        self.kept.add(o.pulled.seq)
        _add_conflict(self.s, o, reason, local.version, outbox.row_payload(local))
        return True

    def _flush(self) -> None:
        """The new rows queued, inserted in order (a statement per run of one table), then
        what the session holds."""
        s, run = self.s, []
        for o in [*self.queued, None]:
            if run and (
                o is None or o.model is not run[0].model or o.values.keys() != run[0].values.keys()
            ):
                model = run[0].model
                s.execute(model.__table__.insert(), [_columns(model, r.values) for r in run])
                changes.note(s, model.__tablename__, [SimpleNamespace(**r.values) for r in run])
                run = []
            if o is not None:
                run.append(o)
        self.queued = []
        s.flush()


def _apply_each(
    s: Session,
    models: dict[str, type[Synced]],
    cipher: PayloadCipher,
    part: Sequence[PulledChange],
    desk: _Desk,
) -> Applied:
    """The changes one by one, each in a savepoint: one that clashes with a rule of this
    desk's data is undone alone and kept aside with the rule it meets."""
    report = Applied()
    written: dict[str, list[Synced]] = {}
    for p in part:
        try:
            o = _open(models, cipher, p)
        except UnreadableChange as error:
            report.unreadable.append(f"Change {p.seq}: {error.message}")
            continue
        entity, entity_id = o.key
        try:
            with s.begin_nested():
                local = s.get(o.model, entity_id)
                pending = local is not None and _unpushed(s, entity, entity_id)
                outcome = _outcome(o, local, pending, desk)
                if outcome == WRITE:
                    row = _write(s, o, local)
                    s.flush()
                    if entity in REBUILD:
                        REBUILD[entity](s, row)
                    if entity in REBUILD_PAGE:
                        REBUILD_PAGE[entity](s, [row])
                    s.flush()
        except IntegrityError as error:
            rule = str(error.orig).removeprefix("UNIQUE constraint failed: ")
            report.conflicts += _keep(s, o, f"clashes with a row here ({rule})")
        except SlotUnavailable:
            report.conflicts += _keep(s, o, "its time is taken by a booking here")
        else:
            if outcome == WRITE:
                report.applied += 1
                written.setdefault(entity, []).append(row)
            elif outcome == SAME:
                report.unchanged += 1
            else:
                report.conflicts += _keep(s, o, outcome, local.version, outbox.row_payload(local))
    for entity, rows in written.items():
        if entity in NUMBERED:
            NUMBERED[entity](s, rows)
    return report


def _write(s: Session, o: _Opened, local: Synced | None) -> Synced:
    """The change written over the row here, or as a new row."""
    if local is None:
        row = o.model(**o.values)
        s.add(row)
        return row
    for key, value in o.values.items():
        setattr(local, key, value)
    return local


def _keep(s: Session, o: _Opened, reason: str, local_version: int = 0, local: str = "") -> bool:
    """Both sides, once per change of the server's log; whether it was kept just now (a page
    applied again finds what it kept before, and nothing new to review)."""
    seq = o.pulled.seq
    if s.scalar(select(SyncConflict.id).where(SyncConflict.remote_seq == seq)) is not None:
        return False
    _add_conflict(s, o, reason, local_version, local)
    return True


def _add_conflict(s: Session, o: _Opened, reason: str, local_version: int, local: str) -> None:
    p, c = o.pulled, o.pulled.change
    s.add(
        SyncConflict(
            entity=c.entity,
            entity_id=c.entity_id,
            reason=reason,
            local_version=local_version,
            local_payload=local,
            remote_version=c.version,
            remote_deleted=c.deleted,
            remote_payload=o.plain,
            remote_seq=p.seq,
            remote_device=p.device_id,
        )
    )


def _unpushed(s: Session, entity: str, entity_id: str) -> bool:
    return (
        s.scalar(
            select(OutboxEntry.seq)
            .where(
                OutboxEntry.entity == entity,
                OutboxEntry.entity_id == entity_id,
                OutboxEntry.pushed_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def set_meta(s: Session, key: str, value: str) -> None:
    row = s.get(Meta, key)
    if row is None:
        s.add(Meta(key=key, value=value))
    else:
        row.value = value


def decode(model: type[Synced], values: dict[str, Any]) -> dict[str, Any]:
    """Column values from a payload's JSON (``outbox.payload``): times, dates and bytes back."""
    kinds = _kinds(model)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in kinds:
            raise UnreadableChange(f"it names a field “{key}” this version does not keep.")
        kind = kinds[key]
        out[key] = value if value is None or kind is None else _typed(kind, value)
    return out


@functools.cache
def _kinds(model: type[Synced]) -> dict[str, type | None]:
    """Each field's Python type where JSON does not carry it as it is (times, dates, bytes)."""
    kinds: dict[str, type | None] = {}
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        kind = getattr(column.type, "impl", column.type).python_type  # UTCDateTime: datetime
        kinds[attr.key] = kind if kind in (datetime, date, bytes) else None
    return kinds


@functools.cache
def _column_keys(model: type[Synced]) -> dict[str, str]:
    return {attr.key: attr.columns[0].key for attr in inspect(model).column_attrs}


def _columns(model: type[Synced], values: dict[str, Any]) -> dict[str, Any]:
    """A row's fields keyed for a Core insert into the model's table."""
    keys = _column_keys(model)
    return {keys[key]: value for key, value in values.items()}


def _typed(kind: type, value: Any) -> Any:
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return base64.b64decode(value)

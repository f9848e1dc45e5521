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
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinicdesk.services import patient_search, patients, queue
from clinicdesk.services.booking import SlotUnavailable, reclaim_time
from clinicdesk.services.prescriptions import rebuild_dose_times
from clinicdesk.store import outbox, slot_sync
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


# derived rows made anew for a row that arrived: patients' search terms, an appointment's time
# claims, a prescription's dose times
REBUILD: dict[str, Callable[[Session, Any], None]] = {
    "patients": patient_search.index,
    "appointments": reclaim_time,
    "prescriptions": rebuild_dose_times,
    "prescription_items": rebuild_dose_times,
    "key_slots": slot_sync.follow,  # this desk's key file follows (store/slot_sync.py)
    "key_generations": slot_sync.follow,
}

# the counters this desk numbers rows from, moved past the numbers the rows of a page hold
NUMBERED: dict[str, Callable[[Session, list[Any]], None]] = {
    "patients": patients.mrns_arrived,
    "queue_entries": queue.tokens_arrived,
}


def cursor(store: Store) -> int:
    with store.read() as s:
        row = s.get(Meta, CURSOR)
        return int(row.value) if row else 0


def apply_page(
    store: Store,
    cipher: PayloadCipher,
    page: Sequence[PulledChange],
    after: int,
    link: str | None = None,
) -> Applied:
    """Apply ``page`` (in the server's order) and move the cursor to ``after`` with it, and
    the log's verified ``link`` there (``chain.follow``)."""
    models = synced_models()
    report = Applied()
    with store.write() as s:
        s.info[outbox.APPLYING] = True
        device = s.get(Meta, DEVICE)
        own = device.value if device else None
        replaying = s.get(Meta, CATCHING_UP) is not None  # the whole log again, from the start
        written: dict[str, list[Synced]] = {}
        for pulled in page:
            try:
                with s.begin_nested():  # a change that clashes is undone alone
                    row = _apply(s, models, cipher, pulled, report, own, replaying)
                    s.flush()
            except UnreadableChange as error:
                report.unreadable.append(f"Change {pulled.seq}: {error.message}")
            except IntegrityError as error:
                rule = str(error.orig).removeprefix("UNIQUE constraint failed: ")
                reason = f"clashes with a row here ({rule})"
                report.conflicts += _keep_clash(s, pulled, cipher, reason)
            except SlotUnavailable:
                reason = "its time is taken by a booking here"
                report.conflicts += _keep_clash(s, pulled, cipher, reason)
            else:
                if row is not None:
                    written.setdefault(pulled.change.entity, []).append(row)
        for entity, rows in written.items():
            if entity in NUMBERED:
                NUMBERED[entity](s, rows)
        set_meta(s, CURSOR, str(after))
        if link is not None:
            set_meta(s, LINK, link)
    return report


def _apply(
    s: Session,
    models: dict[str, type[Synced]],
    cipher: PayloadCipher,
    p: PulledChange,
    report: Applied,
    own: str | None,
    replaying: bool,
) -> Synced | None:
    """Apply one change; the row it wrote, if it wrote one.

    In the log's order a change comes after every change it was made from, so one from another
    desk with a version below this desk's was made apart from what this desk went on from: kept
    for review, unless the log is being pulled again from its start (``replaying``)."""
    c = p.change
    model = models.get(c.entity)
    if model is None:
        raise UnreadableChange(f"it is about “{c.entity}”, which this version does not keep.")
    plain = cipher.open(c.entity, c.entity_id, c.version, c.deleted, c.key_gen, c.payload)
    values = decode(model, json.loads(plain))
    local = s.get(model, c.entity_id)
    if local is None:
        row = model(**values)
        s.add(row)
        _derived(s, c.entity, row)
        report.applied += 1
        return row
    pending = _unpushed(s, c.entity, c.entity_id)
    if p.device_id == own and c.version <= local.version:
        # this desk's own change come back (the puller can bring it while the next edit of the
        # row waits to be sent): it is here already, or built upon
        report.unchanged += 1
        return None
    if c.version > local.version and not pending:
        for key, value in values.items():
            setattr(local, key, value)
        _derived(s, c.entity, local)
        report.applied += 1
        return local
    mine = outbox.row_payload(local)
    if plain.decode() == mine or (c.version < local.version and not pending and replaying):
        report.unchanged += 1  # the same as here, or pulled again and built upon here
        return None
    if pending:
        reason = "changed here too and not yet sent"
    elif c.version == local.version:
        reason = "changed here from the same version"
    else:
        reason = "made from an older version, while this desk went on from another"
    report.conflicts += _keep(s, p, plain.decode(), reason, local.version, mine)
    return None


def _keep(
    s: Session, p: PulledChange, remote: str, reason: str, local_version: int = 0, local: str = ""
) -> bool:
    """Both sides, once per change of the server's log; whether it was kept just now (a page
    applied again finds what it kept before, and nothing new to review)."""
    if s.scalar(select(SyncConflict.id).where(SyncConflict.remote_seq == p.seq)) is not None:
        return False
    c = p.change
    s.add(
        SyncConflict(
            entity=c.entity,
            entity_id=c.entity_id,
            reason=reason,
            local_version=local_version,
            local_payload=local,
            remote_version=c.version,
            remote_deleted=c.deleted,
            remote_payload=remote,
            remote_seq=p.seq,
            remote_device=p.device_id,
        )
    )
    return True


def _keep_clash(s: Session, p: PulledChange, cipher: PayloadCipher, reason: str) -> bool:
    """A change that would break a rule of this desk's data (two rows where only one may be,
    such as two version 2s of one patient's history, or two bookings of one doctor's time):
    kept aside with the rule it meets."""
    c = p.change
    plain = cipher.open(c.entity, c.entity_id, c.version, c.deleted, c.key_gen, c.payload)
    return _keep(s, p, plain.decode(), reason)


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


def _derived(s: Session, entity: str, row: Synced) -> None:
    rebuild = REBUILD.get(entity)
    if rebuild is not None:
        s.flush()
        rebuild(s, row)


def set_meta(s: Session, key: str, value: str) -> None:
    row = s.get(Meta, key)
    if row is None:
        s.add(Meta(key=key, value=value))
    else:
        row.value = value


def decode(model: type[Synced], values: dict[str, Any]) -> dict[str, Any]:
    """Column values from a payload's JSON (``outbox.payload``): times, dates and bytes back."""
    columns = {a.key: a.columns[0] for a in inspect(model).column_attrs}
    out: dict[str, Any] = {}
    for key, value in values.items():
        column = columns.get(key)
        if column is None:
            raise UnreadableChange(f"it names a field “{key}” this version does not keep.")
        kind = getattr(column.type, "impl", column.type).python_type  # UTCDateTime: datetime
        out[key] = value if value is None else _typed(kind, value)
    return out


def _typed(kind: type, value: Any) -> Any:
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is bytes:
        return base64.b64decode(value)
    return value

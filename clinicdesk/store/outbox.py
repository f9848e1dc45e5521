"""Sync capture: every change of a synced row sets its sync columns and appends an outbox row.

Hooked once into the session (``before_flush``), so no service has to remember it, and the
outbox row commits or rolls back with the change itself.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from clinicdesk.ids import new_id, utcnow
from clinicdesk.store.models import OutboxEntry, Synced

#: set in ``session.info`` while changes from the sync server are applied: they keep the
#: version and times they were made with elsewhere, and go to no outbox again
APPLYING = "applying_sync"


def payload(values: dict[str, Any]) -> str:
    return json.dumps({k: _plain(v) for k, v in values.items()}, sort_keys=True)


def _plain(value: Any) -> Any:
    """JSON for a column value: dates as ISO text, files (attachments, keys) as base64."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _defaults(model: type[Synced]) -> dict[str, Any]:
    """The Python-side default of each column that has one: a payload is captured before the
    INSERT fills them in, and must hold the row as it will be stored."""
    found = {}
    for attr in inspect(model).column_attrs:
        default = attr.columns[0].default
        if default is not None and (default.is_scalar or default.is_callable):
            found[attr.key] = default
    return found


def _default_value(default) -> Any:
    return default.arg if default.is_scalar else default.arg(None)


def fill_defaults(obj: Synced) -> None:
    for key, default in _defaults(type(obj)).items():
        if getattr(obj, key) is None:
            setattr(obj, key, _default_value(default))


def row_payload(obj: Synced) -> str:
    return payload({a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs})


def bulk_insert(session: Session, model: type[Synced], rows: list[dict[str, Any]]) -> None:
    """Insert many new rows at once (imports, demo data) with their sync columns and outbox rows.

    The ORM's per-object flush is too slow for tens of thousands of rows; this is the same
    capture as ``_capture`` for inserts, done in two executemany statements.
    """
    now = utcnow()
    defaults = _defaults(model)
    for row in rows:
        row.setdefault("id", new_id())
        row.update(created_at=now, updated_at=now, version=1, deleted_at=None)
        for key, default in defaults.items():
            if row.get(key) is None:
                row[key] = _default_value(default)
    conn = session.connection()
    conn.execute(model.__table__.insert(), rows)
    conn.execute(
        OutboxEntry.__table__.insert(),
        [
            {
                "op_id": new_id(),
                "entity": model.__tablename__,
                "entity_id": row["id"],
                "op": "insert",
                "row_version": 1,
                "payload": payload(row),
                "created_at": now,
            }
            for row in rows
        ],
    )


def _capture(session: Session, flush_context, instances) -> None:
    if session.info.get(APPLYING):
        return
    now = utcnow()
    for obj in list(session.deleted):
        if isinstance(obj, Synced):
            raise RuntimeError(
                f"{type(obj).__name__} rows are synced: set deleted_at (a tombstone), never delete"
            )
    for obj in list(session.new):
        if isinstance(obj, Synced):
            obj.id = obj.id or new_id()
            fill_defaults(obj)
            obj.created_at = obj.updated_at = now
            obj.version = 1
            _append(session, obj, "insert")
    for obj in list(session.dirty):
        if isinstance(obj, Synced) and session.is_modified(obj, include_collections=False):
            obj.version = (obj.version or 0) + 1
            obj.updated_at = now
            _append(session, obj, "delete" if obj.deleted_at and _tombstoned_now(obj) else "update")


def _tombstoned_now(obj: Synced) -> bool:
    return bool(inspect(obj).attrs.deleted_at.history.added)


def _append(session: Session, obj: Synced, op: str) -> None:
    session.add(
        OutboxEntry(
            op_id=new_id(),
            entity=type(obj).__tablename__,
            entity_id=obj.id,
            op=op,
            row_version=obj.version,
            payload=row_payload(obj),
            created_at=utcnow(),
        )
    )


def install(session_class: type[Session] | Session) -> None:
    event.listen(session_class, "before_flush", _capture)

"""The hash-chained audit log, and its check against anchors kept outside the database.

Each entry stores the hash of the one before it and its own hash over its contents, so an altered
entry, a removed one or a cut-off tail (checked against the head kept in ``meta``) is detectable.
Anyone holding the database key could still rewrite an entry and recompute every hash after it,
and the head with them. An ``Anchor`` is the head (entry number and hash) as seen at one moment
and kept where such a person may not reach: a backup's manifest, each workstation's witness
(clinicdesk.store.audit_witness), a digest an admin wrote down. ``verify`` checks the chain
against every anchor it is given: the entry at the anchor's number must still have that hash,
and the log must still reach it.

A restore from a backup legitimately takes the log back to an older head. It appends a
``data.restore`` entry naming the backup's head; anchors taken before that restore (their
``epoch``, the newest restore entry when they were taken, is older) and beyond the backup's head
belong to the replaced history: they are set aside with a note saying so, not reported as
tampering. The note is the tell-tale if someone fakes a restore entry to hide a cut.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor
from clinicdesk.store.models import AuditEntry, ClinicProfile, Meta

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
RESTORE = "data.restore"

_NEWEST_SQL = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
# restore entries are filed under the entity 'clinic', so this walks a short stretch of an index
_EPOCH_SQL = f"SELECT max(seq) FROM audit_log WHERE entity = 'clinic' AND action = '{RESTORE}'"


def entry_hash(entry: AuditEntry) -> str:
    body = json.dumps(
        {
            "seq": entry.seq,
            "at": entry.at.isoformat(),
            "actor_id": entry.actor_id,
            "actor_name": entry.actor_name,
            "action": entry.action,
            "entity": entry.entity,
            "entity_id": entry.entity_id,
            "detail": entry.detail,
            "prev": entry.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None = None,
    **detail: Any,
) -> AuditEntry:
    head = session.get(Meta, HEAD_KEY)
    seq, prev = (0, GENESIS) if head is None else _parse_head(head.value)
    entry = AuditEntry(
        seq=seq + 1,
        at=utcnow(),
        actor_id=actor.user_id,
        actor_name=actor.display_name,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=json.dumps(detail, sort_keys=True, default=str),
        prev_hash=prev,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    if head is None:
        session.add(Meta(key=HEAD_KEY, value=f"{entry.seq}:{entry.hash}"))
    else:
        head.value = f"{entry.seq}:{entry.hash}"
    return entry


def _parse_head(value: str) -> tuple[int, str]:
    seq, digest = value.split(":", 1)
    return int(seq), digest


@dataclass(frozen=True)
class Anchor:
    """The chain's head as seen at ``at``: entry ``seq`` had ``hash``.

    ``epoch`` is the number of the newest restore entry at that moment (0: none). ``seen`` says
    who saw it, to end the sentence "as it was when ...": "this workstation saw it".
    """

    seq: int
    hash: str
    at: datetime
    epoch: int = 0
    seen: str = field(default="", compare=False)


def read_anchor(run: Callable[[str], Any], at: datetime) -> Anchor | None:
    """The newest entry as an anchor, or None for an empty log.

    ``run`` executes one SQL statement and returns a cursor-like result: an ORM session's
    ``lambda sql: session.execute(text(sql))`` or a raw connection's ``execute``.
    """
    newest = run(_NEWEST_SQL).fetchone()
    if newest is None:
        return None
    epoch = run(_EPOCH_SQL).fetchone()[0] or 0
    return Anchor(int(newest[0]), str(newest[1]), at, int(epoch))


def current_anchor(session: Session, at: datetime | None = None) -> Anchor | None:
    return read_anchor(lambda sql: session.execute(text(sql)), at or utcnow())


def still_holds(session: Session, anchor: Anchor) -> bool:
    """Two look-ups: does the log still hold ``anchor``'s entry as it was, or has the newest
    restore since replaced that part of the history?"""
    entry = session.get(AuditEntry, anchor.seq)
    if entry is not None and entry.hash == anchor.hash:
        return True
    epoch = session.execute(text(_EPOCH_SQL)).scalar() or 0
    restore = session.get(AuditEntry, epoch) if epoch else None
    return restore is not None and _restore_point(restore).replaced(anchor)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    problems: list[str]
    notes: list[str] = field(default_factory=list)  # restores that set older anchors aside
    anchors: int = 0  # how many anchors from outside the database were checked

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _RestorePoint:
    seq: int
    from_entry: int  # the backup's newest entry
    backup_made: datetime | None
    at: datetime

    def replaced(self, anchor: Anchor) -> bool:
        """Was ``anchor`` taken before this restore, of history the restore replaced?"""
        return anchor.epoch < self.seq and self.from_entry < anchor.seq


def verify(session: Session, anchors: Sequence[Anchor] = ()) -> ChainReport:
    """Check every link of the chain, its head, and every anchor from outside the database."""
    problems: list[str] = []
    wanted = {a.seq for a in anchors}
    found: dict[int, str] = {}
    restores: list[_RestorePoint] = []
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(2000):
        count += 1
        if entry.seq != expected_seq:
            gap = (
                f"entry {expected_seq}"
                if entry.seq == expected_seq + 1
                else f"entries {expected_seq} to {entry.seq - 1}"
            )
            problems.append(
                f"Audit {gap} removed: the log jumps from entry {expected_seq - 1} to {entry.seq}."
            )
        elif entry.prev_hash != prev_hash:
            problems.append(
                f"Audit entry {entry.seq} does not follow entry {entry.seq - 1}: "
                "the chain was rewritten."
            )
        if entry_hash(entry) != entry.hash:
            problems.append(
                f"Audit entry {entry.seq} ({entry.action} by {entry.actor_name}, "
                f"{entry.at:%Y-%m-%d %H:%M} UTC) was altered: its contents no longer "
                "match its hash."
            )
        if entry.seq in wanted:
            found[entry.seq] = entry.hash
        if entry.action == RESTORE:
            restores.append(_restore_point(entry))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    newest = expected_seq - 1
    problems += _head_problems(session.get(Meta, HEAD_KEY), count, newest, prev_hash)
    zone = _clinic_zone(session)
    kept = [a for a in anchors if not any(r.replaced(a) for r in restores)]
    problems += _anchor_problems(kept, found, newest, zone)
    notes = [
        _restore_note(r, [a for a in anchors if r.replaced(a)], zone)
        for r in restores
        if any(r.replaced(a) for a in anchors)
    ]
    return ChainReport(count, problems, notes, len(kept))


def _head_problems(head: Meta | None, count: int, newest: int, newest_hash: str) -> list[str]:
    if head is None:
        if not count:
            return []
        return [
            f"The audit log's head record is missing although the log holds {count:,} entries: "
            "it was deleted from the database, which hides entries cut off the end of the log."
        ]
    head_seq, head_hash = _parse_head(head.value)
    if head_seq > newest:
        removed = (
            f"entry {head_seq} was"
            if head_seq == newest + 1
            else f"entries {newest + 1} to {head_seq} were"
        )
        return [f"Audit {removed} removed from the end of the log."]
    if head_seq < newest:
        return [
            f"The audit log's head record names entry {head_seq}, but the log goes on to entry "
            f"{newest}: the head was set back, as when entries cut off the end are hidden."
        ]
    if head_hash != newest_hash:
        return [f"Audit entry {head_seq}, the newest, was replaced."]
    return []


def _anchor_problems(
    anchors: Sequence[Anchor], found: dict[int, str], newest: int, zone: ZoneInfo
) -> list[str]:
    """One sentence per source: its earliest anchor the log no longer agrees with."""
    problems: list[str] = []
    for seen in dict.fromkeys(a.seen for a in anchors):
        for a in sorted((a for a in anchors if a.seen == seen), key=lambda a: a.seq):
            when = f"when {a.seen} on {_moment(a.at, zone)}"
            if a.seq > newest:
                problems.append(
                    f"The audit log ends at entry {newest}, but it had reached entry {a.seq} "
                    f"{when}: the entries after {newest} were removed."
                )
            elif a.seq not in found:
                problems.append(f"Audit entry {a.seq} is missing, though it was there {when}.")
            elif found[a.seq] != a.hash:
                problems.append(
                    f"The audit log no longer holds entry {a.seq} as it was {when}: "
                    "the log was rewritten since."
                )
            else:
                continue
            break
    return problems


def _restore_note(restore: _RestorePoint, replaced: list[Anchor], zone: ZoneInfo) -> str:
    sources = "; ".join(dict.fromkeys(f"when {a.seen}" for a in replaced))
    made = _moment(restore.backup_made, zone) if restore.backup_made else "an unknown date"
    return (
        f"Restored on {_moment(restore.at, zone)} from a backup made on {made} (entry "
        f"{restore.seq}). Earlier records of the log up to entry {max(a.seq for a in replaced)} "
        f"({sources}) belong to the history that restore replaced; the backup ended at entry "
        f"{restore.from_entry}."
    )


def _restore_point(entry: AuditEntry) -> _RestorePoint:
    try:
        detail = json.loads(entry.detail)
        from_entry = int(detail["from_entry"])
        made = datetime.fromisoformat(detail["backup_made"]) if detail.get("backup_made") else None
    except (ValueError, KeyError, TypeError):
        from_entry, made = entry.seq - 1, None
    return _RestorePoint(entry.seq, from_entry, made, entry.at)


def _clinic_zone(session: Session) -> ZoneInfo:
    name = session.scalar(select(ClinicProfile.time_zone).limit(1))
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _moment(at: datetime, zone: ZoneInfo) -> str:
    local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone)
    return f"{local.day} {local:%b %Y} at {local:%H:%M}"

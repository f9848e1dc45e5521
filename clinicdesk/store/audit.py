"""The hash-chained audit log.

Each entry stores the hash of the one before it and its own hash over its contents, so an altered
entry, a removed one or a cut-off tail (checked against the head kept in ``meta``) is detectable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor
from clinicdesk.store.models import AuditEntry, Meta

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


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
class ChainReport:
    entries: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session) -> ChainReport:
    problems: list[str] = []
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
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = session.get(Meta, HEAD_KEY)
    if head is not None:
        head_seq, head_hash = _parse_head(head.value)
        if head_seq > expected_seq - 1:
            removed = (
                f"entry {head_seq} was"
                if head_seq == expected_seq
                else f"entries {expected_seq} to {head_seq} were"
            )
            problems.append(f"Audit {removed} removed from the end of the log.")
        elif head_seq == expected_seq - 1 and head_hash != prev_hash:
            problems.append(f"Audit entry {head_seq}, the newest, was replaced.")
    return ChainReport(entries=count, problems=problems)

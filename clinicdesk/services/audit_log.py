"""Reading and verifying the audit log (admins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from clinicdesk.permissions import Actor, P
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import AuditEntry


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    actor_name: str
    action: str
    entity: str
    entity_id: str | None
    detail: str


class AuditService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def recent(self, actor: Actor, limit: int = 500) -> list[AuditRow]:
        actor.require(P.AUDIT_READ)
        with self.store.read() as s:
            rows = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit))
            return [
                AuditRow(r.seq, r.at, r.actor_name, r.action, r.entity, r.entity_id, r.detail)
                for r in rows
            ]

    def verify(self, actor: Actor) -> audit.ChainReport:
        actor.require(P.AUDIT_READ)
        with self.store.read() as s:
            report = audit.verify(s)
        with self.store.write(actor) as s:
            audit.append(
                s,
                actor,
                "audit.verify",
                "audit_log",
                None,
                intact=report.intact,
                entries=report.entries,
            )
        return report

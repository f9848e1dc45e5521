"""Reading and verifying the audit log (admins), and keeping its head outside the database.

The head (newest entry and its hash) is given to this workstation's witness at sign-in,
sign-out, lock and after a backup, and after a commit when the last was more than a few minutes
ago: a file write every few minutes at most, never one per commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import ClinicDeskError, StoreError
from clinicdesk.ids import utcnow
from clinicdesk.logs import log
from clinicdesk.permissions import Actor, P
from clinicdesk.services.booking import clinic_day
from clinicdesk.store import audit, audit_digest, backup
from clinicdesk.store.audit_witness import LocalWitness, Witness, keep
from clinicdesk.store.database import Store
from clinicdesk.store.models import AuditEntry

ANCHOR_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    actor_name: str
    action: str
    entity: str
    entity_id: str | None
    detail: str


@dataclass(frozen=True)
class DigestCheck:
    matches: bool
    message: str


class AuditService:
    def __init__(
        self,
        store: Store,
        witness: Witness | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.witness = witness or LocalWitness()
        self._clock = clock
        self._clinic_id: str | None = None
        self._last_anchor_at: datetime | None = None
        store.after_commit(self._after_commit)

    def recent(self, actor: Actor, limit: int = 500) -> list[AuditRow]:
        actor.require(P.AUDIT_READ)
        with self.store.read() as s:
            rows = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit))
            return [
                AuditRow(r.seq, r.at, r.actor_name, r.action, r.entity, r.entity_id, r.detail)
                for r in rows
            ]

    def verify(self, actor: Actor, against_backup: Path | None = None) -> audit.ChainReport:
        """The chain, its head, this workstation's anchors and, if given, a backup's anchor."""
        actor.require(P.AUDIT_READ)
        anchors = [] if against_backup is None else [self._backup_anchor(against_backup)]
        witness_problem = None
        try:
            anchors += self.witness.anchors(self._clinic())
        except StoreError as exc:
            witness_problem = exc.message
        with self.store.read() as s:
            report = audit.verify(s, anchors)
        if witness_problem:
            report = replace(report, problems=[*report.problems, witness_problem])
        with self.store.write(actor) as s:
            audit.append(
                s,
                actor,
                "audit.verify",
                "audit_log",
                None,
                intact=report.intact,
                entries=report.entries,
                anchors=report.anchors,
                backup=against_backup.name if against_backup else None,
            )
        return report

    def _backup_anchor(self, path: Path) -> audit.Anchor:
        manifest = backup.read_manifest(path)
        if manifest["clinic_id"] != self._clinic():
            raise StoreError(f"{path.name} is a backup of another clinic; nothing was checked.")
        anchor = backup.manifest_anchor(manifest, path.name)
        if anchor is None:
            raise StoreError(
                f"{path.name} was made by an earlier version of ClinicDesk and records no audit "
                "anchor, so the log cannot be checked against it."
            )
        return anchor

    def digest(self, actor: Actor) -> audit_digest.Digest | None:
        """Today's digest of the head, to write down; None while the log is empty."""
        actor.require(P.AUDIT_READ)
        with self.store.read() as s:
            newest = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
            if newest is None:
                return None
            return audit_digest.Digest(
                newest.seq, clinic_day(s, newest.at), audit_digest.code_of(newest.hash)
            )

    def check_digest(self, actor: Actor, text: str) -> DigestCheck:
        """Does a digest written down earlier still match the live log?"""
        actor.require(P.AUDIT_READ)
        seq, code = audit_digest.parse(text)
        with self.store.write(actor) as s:
            entry = s.get(AuditEntry, seq)
            matches = entry is not None and audit_digest.code_of(entry.hash) == code
            if matches:
                message = f"The digest matches: entry {seq} is as it was when the digest was taken."
            elif entry is None:
                message = f"The digest does not match: the log no longer holds entry {seq}."
            else:
                message = (
                    f"The digest does not match: entry {seq} is not as it was when the digest "
                    "was taken. The log was rewritten since, or the digest was copied wrongly; "
                    "check each character."
                )
            audit.append(
                s, actor, "audit.digest_check", "audit_log", None, entry=seq, matches=matches
            )
        return DigestCheck(matches, message)

    def anchor(self, actor: Actor) -> None:
        """Give this workstation's witness the log's head now (at lock, sign-out, backup)."""
        del actor  # anyone signed in: it records two numbers outside the database, shows none
        self._anchor()

    def _clinic(self) -> str:
        if self._clinic_id is None:
            self._clinic_id = self.store.clinic_id()
        return self._clinic_id

    def _after_commit(self, _session: Session) -> None:
        if self._last_anchor_at and self._clock() - self._last_anchor_at >= ANCHOR_EVERY:
            self._anchor()

    def _anchor(self) -> None:
        """Record the head, unless the log no longer holds the witness's newest anchor: then the
        witness is left as it is, so the evidence stays for Verify to name."""
        try:
            known = self.witness.anchors(self._clinic())
        except StoreError:
            known = []  # damaged: the witness starts again
        try:
            with self.store.read() as s:
                head = audit.current_anchor(s, self._clock())
                holds = not known or audit.still_holds(s, known[-1])
        except ClinicDeskError as exc:  # never keeps anyone from working, locking, signing out
            log.warning("audit anchor not read: %s", type(exc).__name__)
            return
        if head is None:
            return
        self._last_anchor_at = head.at
        if not holds:
            log.warning("audit log disagrees with this workstation's witness; not recorded")
            return
        keep(self.witness, self._clinic(), head)

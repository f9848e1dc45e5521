"""Reading and verifying the audit log (admins), and keeping its head outside the database.

The log is read a page at a time, newest first, by keyset on ``seq`` (every entry is reachable,
and a page costs the same at the millionth entry as at the first), filtered by person, patient,
action and clinic days. Each page names what its entries are about (people, patients and their
records, drugs, stock batches, signing keys, doctors, services), resolved in one query per kind
for the page: reading the log writes no entry per row shown.

The head (newest entry and its hash) is given to this workstation's witness at sign-in,
sign-out, lock and after a backup, and after a commit when the last was more than a few minutes
ago: a file write every few minutes at most, never one per commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from clinicdesk.errors import ClinicDeskError, StoreError, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.logs import log
from clinicdesk.permissions import Actor, P
from clinicdesk.rx.keys import fingerprint
from clinicdesk.services import patient_search
from clinicdesk.services.audit_words import action_words
from clinicdesk.services.chart_sections import SECTIONS
from clinicdesk.services.clinic import clinic_day, clinic_zone
from clinicdesk.store import audit, audit_digest, backup
from clinicdesk.store.audit import ChainReport
from clinicdesk.store.audit_digest import Digest
from clinicdesk.store.audit_witness import LocalWitness, Witness, keep
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    Appointment,
    AuditEntry,
    CareService,
    ChartDocument,
    Dispense,
    DoctorProfile,
    Drug,
    Patient,
    Prescription,
    QueueEntry,
    SigningKey,
    Specialization,
    StockBatch,
    User,
    Visit,
    WaitlistEntry,
)

ANCHOR_EVERY = timedelta(minutes=5)
PAGE = 100
# records that belong to one patient: the log names that patient for them
ABOUT_PATIENT = {
    "appointments": (Appointment, "Appointment of"),
    "visits": (Visit, "Visit of"),
    "prescriptions": (Prescription, "Prescription for"),
    "queue_entries": (QueueEntry, "In the queue:"),
    "waitlist": (WaitlistEntry, "Waiting list:"),
    "chart_documents": (ChartDocument, "Document of"),
}
PATIENTS_MATCHED = 50  # a patient filter that matches more names than this is too vague


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    actor_name: str
    action: str
    entity: str
    entity_id: str | None
    detail: str
    actor_id: str | None = None
    what: str = ""  # the action in words
    record: str = ""  # what it was about, by name where the log knows one


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; empty fields filter nothing. Days are the clinic's, inclusive."""

    person_id: str | None = None
    patient: str = ""  # as typed in the patient search: a name's beginning, an MRN...
    action: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    more: bool  # older entries match too: ask again with before=rows[-1].seq


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str


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

    def page(
        self,
        actor: Actor,
        filters: AuditFilter = AuditFilter(),
        before: int | None = None,
        after: int | None = None,
        limit: int = PAGE,
    ) -> AuditPage:
        """Entries matching ``filters``, newest first, older than ``before`` and newer than
        ``after`` when given."""
        actor.require(P.AUDIT_READ)
        if filters.since and filters.until and filters.until < filters.since:
            raise ValidationError({"to": "the last day is before the first day"})
        with self.store.read() as s:
            query = self._filtered(s, filters)
            if query is None:
                return AuditPage([], False)
            if before is not None:
                query = query.where(AuditEntry.seq < before)
            if after is not None:
                query = query.where(AuditEntry.seq > after)
            entries = list(s.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
            return AuditPage(_named_rows(s, entries[:limit]), len(entries) > limit)

    def newest_seq(self, actor: Actor) -> int:
        """The newest entry's number (0 while the log is empty): a cheap look for new entries."""
        actor.require(P.AUDIT_READ)
        with self.store.read() as s:
            return s.scalar(select(func.max(AuditEntry.seq))) or 0

    def people(self, actor: Actor) -> list[Person]:
        """Everyone who has an account, present or past, by name: the log's person filter."""
        actor.require(P.AUDIT_READ)
        with self.store.read() as s:
            users = s.execute(select(User.id, User.display_name).order_by(User.display_name))
            return [Person(user_id, name) for user_id, name in users]

    def _filtered(self, s: Session, f: AuditFilter) -> Select[tuple[AuditEntry]] | None:
        """The filter as a query; None when it cannot match anything (no such patient)."""
        query = select(AuditEntry)
        if f.person_id:
            query = query.where(AuditEntry.actor_id == f.person_id)
        if f.action:
            query = query.where(AuditEntry.action == f.action)
        if f.patient.strip():
            ids = _patients_matching(s, f.patient)
            if not ids:
                return None
            # a patient's entries are few among many: read them from the index, never by
            # walking the whole log newest first in search of them; for one patient the index
            # is already in entry order, so only the page is read
            one = AuditEntry.entity_id == ids[0] if len(ids) == 1 else AuditEntry.entity_id.in_(ids)
            query = query.where(AuditEntry.entity == "patients", one).with_hint(
                AuditEntry, "INDEXED BY ix_audit_log_entity", "sqlite"
            )
        # days become entry numbers through the index on ``at`` (entries are numbered in the
        # order they are written, so their times follow), and the page then walks ``seq``
        zone = clinic_zone(s)
        if f.since:
            start = datetime.combine(f.since, time(), zone)
            first = s.scalar(
                select(AuditEntry.seq)
                .where(AuditEntry.at >= start)
                .order_by(AuditEntry.at)
                .limit(1)
            )
            if first is None:
                return None
            query = query.where(AuditEntry.seq >= first)
        if f.until:
            end = datetime.combine(f.until + timedelta(days=1), time(), zone)
            last = s.scalar(
                select(AuditEntry.seq)
                .where(AuditEntry.at < end)
                .order_by(AuditEntry.at.desc())
                .limit(1)
            )
            if last is None:
                return None
            query = query.where(AuditEntry.seq <= last)
        return query

    def verify(self, actor: Actor, against_backup: Path | None = None) -> ChainReport:
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

    def digest(self, actor: Actor) -> Digest | None:
        """Today's digest of the head, to write down; None while the log is empty."""
        actor.require(P.AUDIT_READ)
        with self.store.read() as s:
            newest = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
            if newest is None:
                return None
            return Digest(newest.seq, clinic_day(s, newest.at), audit_digest.code_of(newest.hash))

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


def _patients_matching(s: Session, text: str) -> list[str]:
    """Patients found as the patient search finds them (name, MRN, phone, date of birth)."""
    ids = [p.id for p in patient_search.find(s, text, PATIENTS_MATCHED + 1)]
    if len(ids) > PATIENTS_MATCHED:
        raise ValidationError(
            {
                "patient": f"More than {PATIENTS_MATCHED} patients match {text.strip()!r}: "
                "type more of the name, or the MRN"
            }
        )
    return ids


# how the log names a record of each kind: (session, ids) -> (id, words) for those it finds
Namer = Callable[[Session, set[str]], Iterable[tuple[str, str]]]
_PATIENT_NAMED = (Patient.given_name, Patient.family_name, Patient.mrn)


def _users(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
    for i, name in s.execute(select(User.id, User.display_name).where(User.id.in_(ids))):
        yield i, f"{name}'s account"


def _patients(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
    for i, given, family, mrn in s.execute(
        select(Patient.id, *_PATIENT_NAMED).where(Patient.id.in_(ids))
    ):
        yield i, f"Patient {given} {family} ({mrn})"


def _of_patient(model, words: str) -> Namer:
    def name(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
        rows = select(model.id, *_PATIENT_NAMED).join(Patient, Patient.id == model.patient_id)
        for i, given, family, mrn in s.execute(rows.where(model.id.in_(ids))):
            yield i, f"{words} {given} {family} ({mrn})"

    return name


def _by_name(model, words: str) -> Namer:
    def name(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
        for i, text in s.execute(select(model.id, model.name).where(model.id.in_(ids))):
            yield i, f"{words}{text}"

    return name


def _batches(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
    """'Amoxicillin 500 mg batch B123'."""
    rows = select(StockBatch.id, Drug.name, StockBatch.strength, StockBatch.batch_number).join(
        Drug, Drug.id == StockBatch.drug_id
    )
    for i, drug, strength, number in s.execute(rows.where(StockBatch.id.in_(ids))):
        yield i, " ".join(p for p in (drug, strength, "batch", number) if p)


def _dispenses(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
    """By the name on the prescription: another clinic's patient has no record here."""
    rows = select(Dispense.id, Dispense.patient_name).where(Dispense.id.in_(ids))
    for i, name in s.execute(rows):
        yield i, f"Dispensed to {name}"


def _doctors(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
    rows = select(DoctorProfile.id, User.display_name).join(User, User.id == DoctorProfile.user_id)
    for i, name in s.execute(rows.where(DoctorProfile.id.in_(ids))):
        yield i, f"{name} (doctor)"


def _signing_keys(s: Session, ids: set[str]) -> Iterable[tuple[str, str]]:
    """'Signing key of Riverside Family Practice (1a2b 3c4d…)': whose, and the beginning of the
    fingerprint Admin → Signing keys shows."""
    rows = select(SigningKey.kid, SigningKey.clinic_name, SigningKey.public_key)
    for kid, clinic, public in s.execute(rows.where(SigningKey.kid.in_(ids))):
        yield kid, f"Signing key of {clinic} ({fingerprint(public)[:9]}…)"


NAMERS: dict[str, Namer] = {
    "users": _users,
    "patients": _patients,
    **{kind: _of_patient(model, words) for kind, (model, words) in ABOUT_PATIENT.items()},
    **{key: _of_patient(section.model, f"{section.title} of") for key, section in SECTIONS.items()},
    "drugs": _by_name(Drug, ""),
    "stock_batches": _batches,
    "dispenses": _dispenses,
    "signing_keys": _signing_keys,
    "doctors": _doctors,
    "care_services": _by_name(CareService, "Service "),
    "specializations": _by_name(Specialization, "Specialization "),
}


def _subject(e: AuditEntry) -> str | None:
    """The id of the record an entry is about; a signing key's entries name its key id in the
    detail."""
    if e.entity_id or e.entity != "signing_keys":
        return e.entity_id
    kid = json.loads(e.detail or "{}").get("kid")
    return kid if isinstance(kid, str) else None


def _named_rows(s: Session, entries: list[AuditEntry]) -> list[AuditRow]:
    """The page's rows with what they are about named, one query per kind of record."""
    subjects = [(e.entity, _subject(e) or "") for e in entries]
    wanted: dict[str, set[str]] = {}
    for kind, subject in subjects:
        if kind in NAMERS and subject:
            wanted.setdefault(kind, set()).add(subject)
    names: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        names.update({(kind, i): words for i, words in NAMERS[kind](s, ids)})
    return [
        AuditRow(
            e.seq,
            e.at,
            e.actor_name,
            e.action,
            e.entity,
            e.entity_id,
            e.detail,
            actor_id=e.actor_id,
            what=action_words(e.action),
            record=names.get(subject) or _record_words(e),
        )
        for e, subject in zip(entries, subjects, strict=True)
    ]


def _record_words(e: AuditEntry) -> str:
    """What an entry naming no row here is about, from its detail where that says it."""
    detail = json.loads(e.detail or "{}")
    if e.entity == "clinic_holidays" and "day" in detail:
        return f"Clinic holiday on {date.fromisoformat(detail['day']):%d/%m/%Y}"
    if e.entity == "signing_keys" and "clinic" in detail:
        return f"Signing keys of {detail['clinic']}"
    kind = e.entity.replace("_", " ")
    return f"{kind} {e.entity_id[:8]}…" if e.entity_id else kind

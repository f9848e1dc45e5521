"""A patient's chart: allergies first, conditions, surgeries, lifestyle, family history, vitals,
documents, visits and prescriptions; every change versioned with who made it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.services import attachments
from clinicdesk.services import validation as check
from clinicdesk.services.chart_sections import SECTIONS, Section, Values
from clinicdesk.services.clinic import clinic_day
from clinicdesk.services.patients import PatientRecord, to_record
from clinicdesk.services.prescription_views import PrescriptionSummary, prescription_summaries
from clinicdesk.services.visit_views import VisitSummary, visit_summaries
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import ChartChange, ChartDocument, Patient

DOCUMENT_KINDS = {"lab": "Lab report", "letter": "Letter", "image": "Image", "other": "Other"}
ADDED, CHANGED, REMOVED = "added", "changed", "removed"


@dataclass(frozen=True)
class ChartEntry:
    id: str
    section: str
    version: int
    values: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    kind: str
    title: str
    file_name: str
    media_type: str
    size_bytes: int
    dated: date
    added_at: datetime


@dataclass(frozen=True)
class Chart:
    patient: PatientRecord
    sections: dict[str, list[ChartEntry]]
    documents: list[DocumentInfo]
    visits: list[VisitSummary]
    prescriptions: list[PrescriptionSummary]

    @property
    def allergies(self) -> list[ChartEntry]:
        return self.sections["allergies"]


@dataclass(frozen=True)
class ChartChangeView:
    at: datetime
    by: str
    section: str  # title, e.g. "Allergies"
    entry_id: str
    entry_version: int
    action: str
    changes: dict[str, tuple[Any, Any]]


def record_change(
    s: Session,
    actor: Actor,
    patient_id: str,
    section: str,
    entry_id: str,
    entry_version: int,
    action: str,
    changes: dict[str, tuple[Any, Any]],
) -> None:
    s.add(
        ChartChange(
            patient_id=patient_id,
            section=section,
            entry_id=entry_id,
            entry_version=entry_version,
            action=action,
            changes=json.dumps({k: [_plain(a), _plain(b)] for k, (a, b) in changes.items()}),
            actor_id=actor.user_id,
            actor_name=actor.display_name,
        )
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


class ChartService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def open(self, actor: Actor, patient_id: str) -> Chart:
        actor.require(P.CLINICAL_READ)
        with self.store.write(actor) as s:  # opening a chart is audited
            patient = _patient(s, patient_id)
            sections = {key: _entries(s, sec, patient_id) for key, sec in SECTIONS.items()}
            chart = Chart(
                to_record(patient),
                sections,
                _documents(s, patient_id),
                visit_summaries(s, patient_id),
                prescription_summaries(s, patient_id, clinic_day(s, utcnow())),
            )
            audit.append(s, actor, "chart.open", "patients", patient_id)
            return chart

    def allergies(self, actor: Actor, patient_id: str) -> list[ChartEntry]:
        """The patient's recorded allergies alone, for a screen that must show them first."""
        actor.require(P.CLINICAL_READ)
        with self.store.write(actor) as s:  # reading clinical data is audited
            _patient(s, patient_id)
            entries = _entries(s, SECTIONS["allergies"], patient_id)
            audit.append(s, actor, "chart.allergies", "patients", patient_id)
            return entries

    def revision(self, actor: Actor, patient_id: str) -> tuple[int, int]:
        """(changes recorded in the chart's sections, the patient record's version): it moves
        whenever an allergy, condition, vital sign or the patient's details change, from any
        desk, so an open screen can tell that it should reload. Reads nothing clinical."""
        actor.require(P.CLINICAL_READ)
        with self.store.read() as s:
            patient = _patient(s, patient_id)
            in_sections = ChartChange.section.in_(list(SECTIONS))
            changes = s.scalar(
                select(func.count())
                .select_from(ChartChange)
                .where(ChartChange.patient_id == patient_id, in_sections)
            )
            return changes or 0, patient.version

    def add(self, actor: Actor, patient_id: str, section: str, values: Values) -> ChartEntry:
        actor.require(P.CLINICAL_WRITE)
        sec = _section(section)
        with self.store.write(actor) as s:
            _patient(s, patient_id)
            clean = sec.clean(values, clinic_day(s, utcnow()))
            if sec.one_per_patient and _rows(s, sec, patient_id):
                raise Conflict(f"This patient already has a {sec.title.lower()} entry; edit it.")
            row = sec.model(patient_id=patient_id, **clean)
            s.add(row)
            s.flush()
            record_change(
                s,
                actor,
                patient_id,
                section,
                row.id,
                1,
                ADDED,
                {k: (None, v) for k, v in clean.items()},
            )
            audit.append(s, actor, "chart.add", section, row.id, patient=patient_id)
            return _entry(sec, row)

    def update(
        self, actor: Actor, section: str, entry_id: str, expected_version: int, values: Values
    ) -> ChartEntry:
        actor.require(P.CLINICAL_WRITE)
        sec = _section(section)
        with self.store.write(actor) as s:
            row = _row(s, sec, entry_id)
            if row.version != expected_version:
                raise Conflict(
                    f"Someone else changed this {sec.title.lower()} entry meanwhile; "
                    "reopen the chart to see their change."
                )
            clean = sec.clean(values, clinic_day(s, utcnow()))
            changes = {k: (getattr(row, k), v) for k, v in clean.items() if getattr(row, k) != v}
            if not changes:
                return _entry(sec, row)
            for k, (_old, new) in changes.items():
                setattr(row, k, new)
            s.flush()  # the unit of work counts the version, once per change
            record_change(s, actor, row.patient_id, section, row.id, row.version, CHANGED, changes)
            audit.append(s, actor, "chart.update", section, row.id, patient=row.patient_id)
            return _entry(sec, row)

    def set_lifestyle(self, actor: Actor, patient_id: str, values: Values) -> ChartEntry:
        """Lifestyle is one entry per patient: written the first time, changed after."""
        actor.require(P.CLINICAL_WRITE)  # before the chart is read: a refusal reads nothing
        with self.store.read() as s:
            rows = _rows(s, SECTIONS["lifestyle"], patient_id)
        if rows:
            return self.update(actor, "lifestyle", rows[0].id, rows[0].version, values)
        return self.add(actor, patient_id, "lifestyle", values)

    def remove(self, actor: Actor, section: str, entry_id: str, reason: str) -> None:
        """Entered in error: the entry leaves the chart, its history stays."""
        actor.require(P.CLINICAL_WRITE)
        sec = _section(section)
        if not reason.strip():
            raise ValidationError({"reason": "say why the entry is removed"})
        with self.store.write(actor) as s:
            row = _row(s, sec, entry_id)
            row.deleted_at = utcnow()
            s.flush()
            record_change(
                s,
                actor,
                row.patient_id,
                section,
                row.id,
                row.version,
                REMOVED,
                {"reason": (None, reason.strip())},
            )
            audit.append(s, actor, "chart.remove", section, row.id, patient=row.patient_id)

    def history(self, actor: Actor, patient_id: str) -> list[ChartChangeView]:
        """Every change to the chart, newest first."""
        actor.require(P.CLINICAL_READ)
        titles = {k: v.title for k, v in SECTIONS.items()} | {
            "documents": "Documents",
            "visit": "Visit note",
        }
        with self.store.write(actor) as s:  # reading clinical data is audited
            rows = s.scalars(
                select(ChartChange)
                .where(ChartChange.patient_id == patient_id)
                .order_by(ChartChange.created_at.desc(), ChartChange.id.desc())
            ).all()
            audit.append(s, actor, "chart.history", "patients", patient_id)
            return [
                ChartChangeView(
                    r.created_at,
                    r.actor_name,
                    titles.get(r.section, r.section),
                    r.entry_id,
                    r.entry_version,
                    r.action,
                    {k: (v[0], v[1]) for k, v in json.loads(r.changes).items()},
                )
                for r in rows
            ]

    # ---- documents ----

    def attach(
        self,
        actor: Actor,
        patient_id: str,
        kind: str,
        title: str,
        file_name: str,
        content: bytes,
        dated: date | None = None,
    ) -> DocumentInfo:
        actor.require(P.CLINICAL_WRITE)
        problems = {}
        if kind not in DOCUMENT_KINDS:
            problems["kind"] = "choose " + ", ".join(DOCUMENT_KINDS.values()).lower()
        if problem := check.required(title or file_name, 200):
            problems["title"] = problem
        if problems:
            raise ValidationError(problems)
        media_type = attachments.check_file(file_name, content)
        with self.store.write(actor) as s:
            _patient(s, patient_id)
            today = clinic_day(s, utcnow())
            if dated and dated > today:
                raise ValidationError({"dated": "is in the future"})
            row = ChartDocument(
                patient_id=patient_id,
                kind=kind,
                title=(title or file_name).strip(),
                file_name=file_name,
                media_type=media_type,
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                dated=dated or today,
                content=content,
            )
            s.add(row)
            s.flush()
            record_change(
                s,
                actor,
                patient_id,
                "documents",
                row.id,
                1,
                ADDED,
                {"title": (None, row.title), "file_name": (None, file_name)},
            )
            audit.append(s, actor, "chart.attach", "chart_documents", row.id, patient=patient_id)
            return _document_info(row)

    def document_content(self, actor: Actor, document_id: str) -> tuple[DocumentInfo, bytes]:
        actor.require(P.CLINICAL_READ)
        with self.store.write(actor) as s:
            row = s.get(ChartDocument, document_id)
            if row is None or row.deleted_at is not None:
                raise NotFound("That document does not exist or was removed.")
            audit.append(s, actor, "chart.document_view", "chart_documents", row.id)
            return _document_info(row), row.content

    def remove_document(self, actor: Actor, document_id: str, reason: str) -> None:
        actor.require(P.CLINICAL_WRITE)
        if not reason.strip():
            raise ValidationError({"reason": "say why the document is removed"})
        with self.store.write(actor) as s:
            row = s.get(ChartDocument, document_id)
            if row is None or row.deleted_at is not None:
                raise NotFound("That document does not exist or was removed.")
            row.deleted_at = utcnow()
            s.flush()
            record_change(
                s,
                actor,
                row.patient_id,
                "documents",
                row.id,
                row.version,
                REMOVED,
                {"reason": (None, reason.strip())},
            )
            audit.append(s, actor, "chart.remove", "chart_documents", row.id)


def _section(key: str) -> Section:
    try:
        return SECTIONS[key]
    except KeyError:
        raise NotFound(f"A chart has no section called {key!r}.") from None


def _patient(s: Session, patient_id: str) -> Patient:
    row = s.get(Patient, patient_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That patient record does not exist or was removed.")
    return row


def _rows(s: Session, sec: Section, patient_id: str) -> list[Any]:
    model = sec.model
    order = model.taken_at.desc() if sec.key == "vitals" else model.created_at  # type: ignore[attr-defined]
    return list(
        s.scalars(
            select(model)
            .where(model.patient_id == patient_id, model.deleted_at.is_(None))
            .order_by(order)
        )
    )


def _row(s: Session, sec: Section, entry_id: str) -> Any:
    row = s.get(sec.model, entry_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"That {sec.title.lower()} entry does not exist or was removed.")
    return row


def _entry(sec: Section, row: Any) -> ChartEntry:
    values = {k: getattr(row, k) for k in sec.labels}
    return ChartEntry(row.id, sec.key, row.version, values, row.updated_at)


def _entries(s: Session, sec: Section, patient_id: str) -> list[ChartEntry]:
    return [_entry(sec, r) for r in _rows(s, sec, patient_id)]


def _document_info(row: ChartDocument) -> DocumentInfo:
    return DocumentInfo(
        row.id,
        row.kind,
        row.title,
        row.file_name,
        row.media_type,
        row.size_bytes,
        row.dated,
        row.created_at,
    )


def _documents(s: Session, patient_id: str) -> list[DocumentInfo]:
    rows = s.scalars(
        select(ChartDocument)
        .options(load_only(*(getattr(ChartDocument, c) for c in _DOC_COLUMNS)))
        .where(ChartDocument.patient_id == patient_id, ChartDocument.deleted_at.is_(None))
        .order_by(ChartDocument.dated.desc(), ChartDocument.created_at.desc())
    )
    return [_document_info(r) for r in rows]


_DOC_COLUMNS = (
    "id",
    "kind",
    "title",
    "file_name",
    "media_type",
    "size_bytes",
    "dated",
    "created_at",
)

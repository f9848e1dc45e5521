"""Patients: registration with duplicate check, edits with history, search as you type."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from types import SimpleNamespace

from rapidfuzz import fuzz
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from clinicdesk.errors import ClinicDeskError, Conflict, NotFound, ValidationError
from clinicdesk.ids import new_id, utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.services import patient_search
from clinicdesk.services import validation as check
from clinicdesk.services.clinic import clinic_day
from clinicdesk.store import audit, outbox
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    ClinicProfile,
    Counter,
    Patient,
    PatientSearchTerm,
    PatientVersion,
)
from clinicdesk.text import digits, fold

SEXES = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Unknown"}
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class PatientInput:
    given_name: str
    family_name: str
    date_of_birth: date | None
    sex: str
    phone: str = ""
    email: str = ""
    address: str = ""
    national_id: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""

    def cleaned(self) -> PatientInput:
        return PatientInput(
            **{
                f.name: (v.strip() if isinstance(v := getattr(self, f.name), str) else v)
                for f in fields(self)
            }
        )


INPUT_FIELDS = tuple(f.name for f in fields(PatientInput))


@dataclass(frozen=True)
class PatientRecord(PatientInput):
    id: str = ""
    mrn: str = ""
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_text(self, on: date) -> str:
        """The age on the clinic's date ``on`` ('20 days', '23 months', '46 years')."""
        return age_text(self.date_of_birth, on)

    def as_input(self) -> PatientInput:
        return PatientInput(**{f.name: getattr(self, f.name) for f in fields(PatientInput)})


@dataclass(frozen=True)
class DuplicateCandidate:
    patient: PatientRecord
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PatientChange:
    version: int
    changed_at: datetime
    changed_by: str
    changes: dict[str, tuple[object, object]]


class PossibleDuplicate(ClinicDeskError):
    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        self.candidates = candidates
        names = ", ".join(f"{c.patient.full_name} ({c.patient.mrn})" for c in candidates[:3])
        super().__init__(
            f"This may be a patient who is already registered: {names}. Open the existing record, "
            "or confirm that this is a different person."
        )


def age_on(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_text(born: date | None, on: date) -> str:
    """An age as staff and parents say it: days under a month, months under two years, then
    years ('20 days', '23 months', '2 years'); '' without a birth date. ``on`` is the clinic's
    date. A month is complete on the same day of a later month, or on the 1st after a month too
    short to have that day (born 31 January: a month old on 1 March; born 29 February: two
    years old on 1 March)."""
    if born is None:
        return ""
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    if months < 1:
        return _count(max((on - born).days, 0), "day")
    if months < 24:
        return _count(months, "month")
    return _count(age_on(born, on) or 0, "year")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def validate(data: PatientInput, today: date) -> PatientInput:
    """The cleaned record, or ValidationError; ``today`` is the clinic's date."""
    data = data.cleaned()
    problems = {
        "given_name": check.required(data.given_name, 100),
        "family_name": check.required(data.family_name, 100),
        "date_of_birth": check.birth_date(data.date_of_birth, today),
        "sex": None if data.sex in SEXES else "must be one of " + ", ".join(SEXES.values()),
        "phone": check.phone(data.phone),
        "email": check.email(data.email),
        "national_id": (
            None
            if re.fullmatch(r"[A-Za-z0-9 ./-]{0,40}", data.national_id)
            else "may contain only letters, digits, spaces, . / and -"
        ),
        "emergency_contact_phone": check.phone(data.emergency_contact_phone),
        "address": check.at_most(data.address, check.MAX_ADDRESS),
    }
    problems = {k: v for k, v in problems.items() if v}
    if problems:
        raise ValidationError(problems)
    return data


def to_record(row: Patient) -> PatientRecord:
    return PatientRecord(
        **{f.name: getattr(row, f.name) for f in fields(PatientInput)},
        id=row.id,
        mrn=row.mrn,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class PatientService:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def _today(self) -> date:
        """The clinic's date, which birth dates are checked against (not this computer's)."""
        with self.store.read() as s:
            return clinic_day(s, self.clock())

    def search(self, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[PatientRecord]:
        """Prefix search over name words, phone (start or end), MRN, national id, birth date."""
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            return [to_record(p) for p in patient_search.find(s, query, limit)]

    def get(self, actor: Actor, patient_id: str) -> PatientRecord:
        actor.require(P.PATIENT_READ)
        with self.store.write(actor) as s:
            row = _load(s, patient_id)
            audit.append(s, actor, "patient.view", "patients", patient_id)
            return to_record(row)

    def find_duplicates(
        self, actor: Actor, data: PatientInput, exclude_id: str | None = None
    ) -> list[DuplicateCandidate]:
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            return _duplicates(s, data.cleaned(), exclude_id)

    def register(
        self, actor: Actor, data: PatientInput, *, not_a_duplicate: bool = False
    ) -> PatientRecord:
        """Register a patient; likely duplicates stop it unless staff confirm it is someone else."""
        actor.require(P.PATIENT_WRITE)
        data = validate(data, self._today())
        with self.store.write(actor) as s:
            candidates = _duplicates(s, data, None)
            if candidates and not not_a_duplicate:
                raise PossibleDuplicate(candidates)
            row = Patient(mrn=_next_mrn(s))
            _apply(row, data)
            s.add(row)
            s.flush()
            patient_search.index(s, row)
            audit.append(
                s,
                actor,
                "patient.register",
                "patients",
                row.id,
                duplicates_confirmed=[c.patient.id for c in candidates],
            )
            return to_record(row)

    def import_many(self, actor: Actor, records: list[PatientInput]) -> list[str]:
        """Register many patients in one transaction (a practice's existing list, demo data);
        returns their ids in the order given.

        Every record is validated first; one invalid record rejects the whole import, naming it.
        No duplicate check: the source list is taken as it is.
        """
        actor.require(P.PATIENT_WRITE)
        cleaned, today = [], self._today()
        for number, data in enumerate(records, start=1):
            try:
                cleaned.append(validate(data, today))
            except ValidationError as exc:
                raise ValidationError(
                    {f"record {number} {name}": why for name, why in exc.fields.items()}
                ) from None
        if not cleaned:
            return []
        with self.store.write(actor) as s:
            first = _reserve_mrns(s, len(cleaned))
            prefix = _mrn_prefix(s)
            rows = []
            for offset, data in enumerate(cleaned):
                row = {
                    **_fields_of(data),
                    "id": new_id(),
                    "mrn": f"{prefix}-{first + offset:06d}",
                    "phone_digits": digits(data.phone),
                    "sort_name": fold(f"{data.family_name} {data.given_name}"),
                }
                rows.append(row)
            outbox.bulk_insert(s, Patient, rows)
            views = [SimpleNamespace(**row) for row in rows]
            terms = [
                {"term": term, "patient_id": v.id, "sort_key": patient_search.row_sort_key(v)}
                for v in views
                for term in patient_search.row_terms(v)
            ]
            s.connection().execute(PatientSearchTerm.__table__.insert(), terms)
            audit.append(s, actor, "patient.import", "patients", None, count=len(rows))
        return [row["id"] for row in rows]

    def update(
        self, actor: Actor, patient_id: str, data: PatientInput, expected_version: int
    ) -> PatientRecord:
        """Save an edit; refused if someone else saved the record since it was opened."""
        actor.require(P.PATIENT_WRITE)
        data = validate(data, self._today())
        with self.store.write(actor) as s:
            row = _load(s, patient_id)
            if row.version != expected_version:
                raise Conflict(
                    f"{row.given_name} {row.family_name}'s record was changed by someone else "
                    "while you were editing. Nothing was saved; reopen it to see their changes."
                )
            before = _fields_of(row)
            _apply(row, data)
            after = _fields_of(row)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if not changes:
                return to_record(row)
            s.flush()
            s.add(
                PatientVersion(
                    patient_id=row.id,
                    patient_version=row.version,
                    changed_by=actor.user_id,
                    changed_by_name=actor.display_name,
                    changes=json.dumps(changes, default=str),
                )
            )
            patient_search.index(s, row)
            audit.append(s, actor, "patient.update", "patients", row.id, fields=sorted(changes))
            return to_record(row)

    def history(self, actor: Actor, patient_id: str) -> list[PatientChange]:
        actor.require(P.PATIENT_READ)
        with self.store.write(actor) as s:  # reading a patient's record is audited
            rows = s.scalars(
                select(PatientVersion)
                .where(PatientVersion.patient_id == patient_id)
                .order_by(PatientVersion.patient_version.desc())
            ).all()
            audit.append(s, actor, "patient.history", "patients", patient_id)
            return [
                PatientChange(
                    r.patient_version,
                    r.created_at,
                    r.changed_by_name,
                    {k: tuple(v) for k, v in json.loads(r.changes).items()},
                )
                for r in rows
            ]

    def count(self, actor: Actor) -> int:
        actor.require(P.PATIENT_READ)
        with self.store.read() as s:
            return (
                s.scalar(
                    select(func.count()).select_from(Patient).where(Patient.deleted_at.is_(None))
                )
                or 0
            )


def _load(s: Session, patient_id: str) -> Patient:
    row = s.get(Patient, patient_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That patient record does not exist or was removed.")
    return row


def _fields_of(obj: PatientInput | Patient) -> dict[str, object]:
    """The PatientInput fields of a record or a row (faster than dataclasses.asdict)."""
    return {name: getattr(obj, name) for name in INPUT_FIELDS}


def _apply(row: Patient, data: PatientInput) -> None:
    for key, value in _fields_of(data).items():
        setattr(row, key, value)
    row.phone_digits = digits(data.phone)
    row.sort_name = fold(f"{data.family_name} {data.given_name}")


def _reserve_mrns(s: Session, count: int) -> int:
    """Take ``count`` numbers from the clinic's MRN counter; returns the first."""
    counter = s.get(Counter, "mrn")
    if counter is None:
        counter = Counter(name="mrn", value=0)
        s.add(counter)
    first = counter.value + 1
    counter.value += count
    return first


def mrns_arrived(s: Session, arrived: list[Patient]) -> None:
    """Patients registered at another desk (arrived by sync) hold record numbers: the clinic's
    counter here moves past them, so the next patient registered here gets a new one."""
    prefix = _mrn_prefix(s)
    numbers = [
        int(number)
        for mrn_prefix, _, number in ((p.mrn or "").rpartition("-") for p in arrived)
        if mrn_prefix == prefix and number.isdigit()
    ]
    if not numbers:
        return
    counter = s.get(Counter, "mrn")
    if counter is None:
        counter = Counter(name="mrn", value=0)
        s.add(counter)
    counter.value = max(counter.value, *numbers)


def _mrn_prefix(s: Session) -> str:
    return s.scalar(select(ClinicProfile.mrn_prefix)) or "MRN"


def _next_mrn(s: Session) -> str:
    return f"{_mrn_prefix(s)}-{_reserve_mrns(s, 1):06d}"


def _duplicates(s: Session, data: PatientInput, exclude_id: str | None) -> list[DuplicateCandidate]:
    phone = digits(data.phone)
    matches = [Patient.date_of_birth == data.date_of_birth] if data.date_of_birth else []
    if len(phone) >= 6:
        matches.append(Patient.phone_digits == phone)
    if data.national_id:
        matches.append(Patient.national_id == data.national_id)
    if not matches:
        return []
    stmt = select(Patient).where(or_(*matches), Patient.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Patient.id != exclude_id)
    name = fold(f"{data.given_name} {data.family_name}")
    found: list[DuplicateCandidate] = []
    for row in s.scalars(stmt.limit(500)):
        score = round(fuzz.token_sort_ratio(name, fold(f"{row.given_name} {row.family_name}")))
        reasons = []
        if data.national_id and row.national_id == data.national_id:
            reasons.append("same national id")
        if score >= 80 and row.date_of_birth == data.date_of_birth:
            reasons.append("similar name and same date of birth")
        if score >= 70 and len(phone) >= 6 and row.phone_digits == phone:
            reasons.append("similar name and same phone")
        if reasons:
            found.append(DuplicateCandidate(to_record(row), score, tuple(reasons)))
    return sorted(found, key=lambda c: -c.score)

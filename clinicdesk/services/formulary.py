"""The clinic's formulary: drugs with their active ingredients, class, forms and strengths.

Seeded once with a starter list; admins edit it. Prescribers search it as they type.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.services import validation as check
from clinicdesk.services.formulary_seed import STARTER_DRUGS
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import Drug, Meta
from clinicdesk.text import fold

SEEDED_KEY = "formulary_seeded"


def split_list(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


@dataclass(frozen=True)
class DrugInput:
    name: str
    ingredients: str  # comma-separated
    drug_class: str = ""
    forms: str = ""
    strengths: str = ""
    route: str = "by mouth"


@dataclass(frozen=True)
class DrugView:
    id: str
    name: str
    ingredients: tuple[str, ...]
    drug_class: str
    forms: tuple[str, ...]
    strengths: tuple[str, ...]
    route: str
    active: bool
    version: int


def view_of(row: Drug) -> DrugView:
    return DrugView(
        row.id,
        row.name,
        split_list(row.ingredients),
        row.drug_class,
        split_list(row.forms),
        split_list(row.strengths),
        row.route,
        row.active,
        row.version,
    )


def seed(s: Session) -> None:
    """The starter list, once per clinic (an admin's later deletions are not undone)."""
    if s.get(Meta, SEEDED_KEY) is not None:
        return
    for name, ingredients, drug_class, forms, strengths, route in STARTER_DRUGS:
        s.add(
            Drug(
                name=name,
                name_key=fold(name),
                ingredients=ingredients,
                drug_class=drug_class,
                forms=forms,
                strengths=strengths,
                route=route,
            )
        )
    s.add(Meta(key=SEEDED_KEY, value=utcnow().isoformat()))


def find_by_name(s: Session, name: str) -> Drug | None:
    return s.scalar(select(Drug).where(Drug.name_key == fold(name)))


STRENGTH_WORDS = frozenset(
    ("mg", "g", "mcg", "microgram", "micrograms", "ml", "unit", "units", "iu", "per", "dose")
)  # as folded: '250 micrograms/25 micrograms per dose' (numbers pass by their digits)


def dispensed_drug(s: Session, name: str) -> Drug | None:
    """The formulary drug a prescription's written name is, for giving it out: the whole name,
    or its leading words followed only by a strength or one of the drug's forms ('Amoxicillin
    500 mg capsules'); never a drug named by part of a longer name ('Paracetamol and codeine'
    is not Paracetamol)."""
    match = _leading_match(s, name)
    if match is None:
        return None
    drug, rest = match
    forms = {w for form in split_list(drug.forms) for w in fold(form).split()}
    allowed = STRENGTH_WORDS | forms | {f + "s" for f in forms}
    if all(w in allowed or any(c.isdigit() for c in w) for w in rest):
        return drug
    return None


def formulary_drug(s: Session, name: str) -> Drug | None:
    """The formulary drug a written name's leading words name ('Amoxicillin 500 mg capsules'
    is Amoxicillin), or None for a drug the formulary does not list."""
    match = _leading_match(s, name)
    return match[0] if match is not None else None


def _leading_match(s: Session, name: str) -> tuple[Drug, list[str]] | None:
    """The drug the most leading words of ``name`` name, and the (folded) words after them."""
    words = fold(name).split()
    for n in range(len(words), 0, -1):
        drug = find_by_name(s, " ".join(words[:n]))
        if drug is not None:
            return drug, words[n:]
    return None


class FormularyService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, actor: Actor, text: str, limit: int = 20) -> list[DrugView]:
        """Active drugs whose name, a word of it or an ingredient starts with ``text``."""
        actor.require_any(P.PRESCRIBE, P.DISPENSE, P.CLINIC_CONFIGURE)
        query = fold(text)
        with self.store.read() as s:
            rows = s.scalars(select(Drug).where(Drug.active.is_(True)).order_by(Drug.name_key))
            hits = [r for r in rows if _matches(r, query)]
        hits.sort(key=lambda r: (not r.name_key.startswith(query), r.name_key))
        return [view_of(r) for r in hits[:limit]]

    def all(self, actor: Actor) -> list[DrugView]:
        actor.require_any(P.CLINIC_CONFIGURE, P.PRESCRIBE, P.DISPENSE)
        with self.store.read() as s:
            return [view_of(r) for r in s.scalars(select(Drug).order_by(Drug.name_key))]

    def add(self, actor: Actor, data: DrugInput) -> DrugView:
        actor.require(P.CLINIC_CONFIGURE)
        data = _validated(data)
        with self.store.write(actor) as s:
            if find_by_name(s, data.name) is not None:
                raise Conflict(f"{data.name} is already in the formulary.")
            row = Drug(name_key=fold(data.name), **data.__dict__)
            s.add(row)
            s.flush()
            audit.append(s, actor, "formulary.add", "drugs", row.id, name=row.name)
            return view_of(row)

    def update(
        self, actor: Actor, drug_id: str, expected_version: int, data: DrugInput
    ) -> DrugView:
        actor.require(P.CLINIC_CONFIGURE)
        data = _validated(data)
        with self.store.write(actor) as s:
            row = _drug(s, drug_id)
            if row.version != expected_version:
                raise Conflict("Someone else changed this drug meanwhile; reopen it.")
            other = find_by_name(s, data.name)
            if other is not None and other.id != row.id:
                raise Conflict(f"{data.name} is already in the formulary.")
            for k, v in data.__dict__.items():
                setattr(row, k, v)
            row.name_key = fold(data.name)
            s.flush()  # the unit of work counts the version
            audit.append(s, actor, "formulary.update", "drugs", row.id, name=row.name)
            return view_of(row)

    def set_active(self, actor: Actor, drug_id: str, active: bool) -> DrugView:
        """Withdrawn drugs stay on old prescriptions but are no longer offered."""
        actor.require(P.CLINIC_CONFIGURE)
        with self.store.write(actor) as s:
            row = _drug(s, drug_id)
            row.active = active
            s.flush()
            audit.append(s, actor, "formulary.active", "drugs", row.id, active=active)
            return view_of(row)


def _matches(row: Drug, query: str) -> bool:
    if not query:
        return True
    words = row.name_key.split() + [fold(i) for i in split_list(row.ingredients)]
    return row.name_key.startswith(query) or any(w.startswith(query) for w in words)


def _drug(s: Session, drug_id: str) -> Drug:
    row = s.get(Drug, drug_id)
    if row is None:
        raise NotFound("That drug is not in the formulary.")
    return row


def _validated(data: DrugInput) -> DrugInput:
    data = DrugInput(*(v.strip() for v in data.__dict__.values()))
    problems = {
        "name": check.required(data.name, 120),
        "ingredients": None if split_list(data.ingredients) else "name at least one",
        "route": check.required(data.route, 60),
    }
    problems = {k: v for k, v in problems.items() if v}
    if problems:
        raise ValidationError(problems)
    return data

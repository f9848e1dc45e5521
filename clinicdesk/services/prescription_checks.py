"""Checks on a prescription before it is signed: each item's fields, allergies, duplicates.

Field problems refuse the prescription; allergy and duplicate-ingredient warnings must each be
acknowledged by the doctor with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicdesk.errors import ClinicDeskError, ValidationError
from clinicdesk.rx.directions import MAX_DURATION_DAYS, frequency_problem
from clinicdesk.rx.payload import Frequency
from clinicdesk.services import validation as check
from clinicdesk.text import fold

MAX_ITEMS = 10
MAX_QUANTITY = 10000
MAX_REFILLS = 12


@dataclass(frozen=True)
class ItemInput:
    drug: str
    dose: str
    route: str
    frequency: Frequency
    duration_days: int | None
    quantity: int | None
    unit: str
    strength: str = ""
    form: str = ""
    refills: int = 0
    substitution: bool = True
    instructions: str = ""
    drug_id: str | None = None  # when chosen from the formulary


@dataclass(frozen=True)
class RxWarning:
    key: str  # stable between the check and the signing, for the acknowledgement
    kind: str  # allergy, duplicate
    message: str


class NeedsAcknowledgement(ClinicDeskError):
    def __init__(self, warnings: list[RxWarning]) -> None:
        self.warnings = warnings
        super().__init__(
            "Before signing, acknowledge each warning with a reason: "
            + " ".join(w.message for w in warnings)
        )


def validate_items(items: list[ItemInput]) -> list[ItemInput]:
    if not items:
        raise ValidationError({"items": "add at least one item"})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": f"at most {MAX_ITEMS} items on one prescription"})
    problems: dict[str, str] = {}
    cleaned = []
    for n, item in enumerate(items, start=1):
        item = ItemInput(
            **{k: (v.strip() if isinstance(v, str) else v) for k, v in item.__dict__.items()}
        )
        cleaned.append(item)
        found = {
            "drug": check.required(item.drug, 120),
            "dose": check.required(item.dose, 60),
            "route": check.required(item.route, 60),
            "unit": check.required(item.unit, 40),
            "strength": check.at_most(item.strength, 60),
            "form": check.at_most(item.form, 60),
            "instructions": check.at_most(item.instructions, 300),
            "frequency": frequency_problem(item.frequency),
            "duration": _whole(item.duration_days, 1, MAX_DURATION_DAYS, "days"),
            "quantity": _whole(item.quantity, 1, MAX_QUANTITY, ""),
            "refills": _whole(item.refills, 0, MAX_REFILLS, ""),
        }
        problems.update({f"item_{n}_{k}": v for k, v in found.items() if v})
    if problems:
        raise ValidationError(problems)
    return cleaned


def _whole(value: int | None, low: int, high: int, unit: str) -> str | None:
    if value is None:
        return "is required"
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if value < low:
        return f"must be at least {low}" + (f" {unit}" if unit else "")
    if value > high:
        return f"must be at most {high}" + (f" {unit}" if unit else "")
    return None


@dataclass(frozen=True)
class DrugFacts:
    """What the checks know of an item's drug: its ingredients and class, folded."""

    name: str
    ingredients: frozenset[str]
    drug_class: str


def _stem(text: str) -> str:
    """'Penicillins' and 'penicillin', 'NSAIDs' and 'NSAID' compare equal."""
    return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in fold(text).split())


def _matches(allergen: str, names: set[str]) -> bool:
    """The allergen is one of the names, one of their words, or inside a word of theirs
    ('penicillin' in 'benzylpenicillin'); short allergens must match a whole word."""
    if not allergen:
        return False
    words = {w for name in names for w in name.split()}
    if allergen in names or allergen in words:
        return True
    return len(allergen) >= 5 and any(allergen in w for w in words | names)


def warnings_for(
    facts: list[DrugFacts], allergies: list[tuple[str, str, str, str]]
) -> list[RxWarning]:
    """``allergies``: (id, substance, reaction, severity) of the patient's recorded allergies."""
    found: list[RxWarning] = []
    for line, drug in enumerate(facts, start=1):
        names = {_stem(drug.name), _stem(drug.drug_class)} | {_stem(i) for i in drug.ingredients}
        names.discard("")
        for allergy_id, substance, reaction, severity in allergies:
            if _matches(_stem(substance), names):
                what = f" ({reaction}, {severity})" if reaction else f" ({severity})"
                found.append(
                    RxWarning(
                        # the drug is part of the key: a reason given for one drug is not
                        # taken for another put in its place
                        f"allergy:{allergy_id}:{line}:{_stem(drug.name)}",
                        "allergy",
                        f"Item {line}, {drug.name}, matches the recorded allergy to "
                        f"{substance}{what}.",
                    )
                )
    for i, a in enumerate(facts, start=1):
        for j, b in enumerate(facts[i:], start=i + 1):
            for shared in sorted(a.ingredients & b.ingredients):
                found.append(
                    RxWarning(
                        f"duplicate:{shared}:{i}:{j}:{_stem(a.name)}:{_stem(b.name)}",
                        "duplicate",
                        f"Items {i} and {j} ({a.name} and {b.name}) both contain {shared}.",
                    )
                )
    return found

"""The editable sections of a chart: their fields, labels and checks, in one table.

Each section is a model and a ``clean`` function that turns what was typed into typed values
or raises ValidationError naming each bad field. The chart service handles them all alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from clinicdesk.errors import ValidationError
from clinicdesk.services import validation as check
from clinicdesk.store.models import (
    Allergy,
    ChartRow,
    Condition,
    FamilyHistory,
    Lifestyle,
    Surgery,
    VitalSigns,
)

SEVERITIES = {
    "mild": "Mild",
    "moderate": "Moderate",
    "severe": "Severe",
    "life-threatening": "Life-threatening",
}
CONDITION_STATUSES = {"active": "Active", "resolved": "Resolved"}
CLOCK_SLACK = timedelta(minutes=5)  # desks' clocks differ a little; later than that is a typo

Values = dict[str, Any]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    model: type[ChartRow]
    labels: dict[str, str]  # field -> label, in display order
    clean: Callable[[Values, date], Values]
    one_per_patient: bool = False


def _text(values: Values, name: str) -> str:
    value = values.get(name) or ""
    if not isinstance(value, str):
        raise ValidationError({name: "must be text"})
    return value.strip()


def _texts(values: Values, required: dict[str, int], optional: dict[str, int]) -> Values:
    out, problems = {}, {}
    for name, limit in {**required, **optional}.items():
        out[name] = _text(values, name)
        problem = check.required(out[name], limit) if name in required else None
        if name in optional and len(out[name]) > limit:
            problem = f"is too long (at most {limit} characters)"
        if problem:
            problems[name] = problem
    if problems:
        raise ValidationError(problems)
    return out


def _past_date(values: Values, name: str, today: date, problems: dict[str, str]) -> date | None:
    value = values.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        problems[name] = "must be a date"
        return None
    if problem := check.birth_date(value, today):  # the same bounds as a birth date
        problems[name] = problem
    return value


def _clean_allergy(values: Values, today: date) -> Values:
    out = _texts(values, {"substance": 200}, {"reaction": 200, "note": 2000})
    severity = values.get("severity") or ""
    if severity not in SEVERITIES:
        raise ValidationError({"severity": "choose " + ", ".join(SEVERITIES.values()).lower()})
    return {**out, "severity": severity}


def _clean_condition(values: Values, today: date) -> Values:
    out = _texts(values, {"name": 200}, {"note": 2000})
    problems: dict[str, str] = {}
    status = values.get("status") or "active"
    if status not in CONDITION_STATUSES:
        problems["status"] = "must be active or resolved"
    onset = _past_date(values, "onset", today, problems)
    resolved = _past_date(values, "resolved_on", today, problems)
    if resolved and status != "resolved":
        problems["resolved_on"] = "is only given for a resolved condition"
    if resolved and onset and resolved < onset:
        problems["resolved_on"] = "is before the onset"
    if problems:
        raise ValidationError(problems)
    return {**out, "status": status, "onset": onset, "resolved_on": resolved}


def _clean_surgery(values: Values, today: date) -> Values:
    out = _texts(values, {"procedure": 200}, {"note": 2000})
    problems: dict[str, str] = {}
    performed = _past_date(values, "performed_on", today, problems)
    if problems:
        raise ValidationError(problems)
    return {**out, "performed_on": performed}


def _clean_family(values: Values, today: date) -> Values:
    return _texts(values, {"relative": 60, "condition": 200}, {"note": 2000})


def _clean_lifestyle(values: Values, today: date) -> Values:
    out = _texts(values, {}, {"smoking": 200, "alcohol": 200, "activity": 200, "diet": 200})
    if not any(out.values()):
        raise ValidationError({"smoking": "fill in at least one of the four"})
    return out


# field -> (label with unit, lowest, highest, whole number)
VITAL_RANGES: dict[str, tuple[str, float, float, bool]] = {
    "systolic": ("Systolic (mmHg)", 50, 260, True),
    "diastolic": ("Diastolic (mmHg)", 30, 160, True),
    "pulse": ("Pulse (/min)", 20, 250, True),
    "temperature": ("Temperature (°C)", 30, 45, False),
    "spo2": ("SpO₂ (%)", 50, 100, True),
    "weight": ("Weight (kg)", 0.3, 400, False),
    "height": ("Height (cm)", 20, 250, False),
}


def _clean_vitals(values: Values, today: date) -> Values:
    out: Values = {}
    problems: dict[str, str] = {}
    for name, (_label, low, high, whole) in VITAL_RANGES.items():
        raw = values.get(name)
        if raw is None or raw == "":
            out[name] = None
            continue
        try:
            number = float(str(raw).replace(",", "."))
        except ValueError:
            problems[name] = "must be a number"
            continue
        if not math.isfinite(number):
            problems[name] = "must be a number"
            continue
        if whole and number != int(number):
            problems[name] = "must be a whole number"
        elif not low <= number <= high:
            problems[name] = f"must be between {low:g} and {high:g}"
        out[name] = int(number) if whole else round(number, 1)
    if out.get("systolic") and out.get("diastolic") and out["diastolic"] >= out["systolic"]:
        problems["diastolic"] = "must be lower than the systolic pressure"
    if not problems and all(v is None for v in out.values()):
        problems["systolic"] = "record at least one measurement"
    taken = values.get("taken_at") or datetime.now(UTC)
    if not isinstance(taken, datetime) or taken.tzinfo is None:
        problems["taken_at"] = "must be a date and time"
    elif taken > datetime.now(UTC) + CLOCK_SLACK:
        problems["taken_at"] = "is in the future"
    if problems:
        raise ValidationError(problems)
    out["note"] = _texts(values, {}, {"note": 500})["note"]
    return {**out, "taken_at": taken}


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section(
            "allergies",
            "Allergies",
            Allergy,
            {
                "substance": "Substance",
                "reaction": "Reaction",
                "severity": "Severity",
                "note": "Note",
            },
            _clean_allergy,
        ),
        Section(
            "conditions",
            "Conditions",
            Condition,
            {
                "name": "Condition",
                "status": "Status",
                "onset": "Since",
                "resolved_on": "Resolved",
                "note": "Note",
            },
            _clean_condition,
        ),
        Section(
            "surgeries",
            "Surgeries",
            Surgery,
            {"procedure": "Procedure", "performed_on": "Date", "note": "Note"},
            _clean_surgery,
        ),
        Section(
            "family_history",
            "Family history",
            FamilyHistory,
            {"relative": "Relative", "condition": "Condition", "note": "Note"},
            _clean_family,
        ),
        Section(
            "lifestyle",
            "Lifestyle",
            Lifestyle,
            {"smoking": "Smoking", "alcohol": "Alcohol", "activity": "Activity", "diet": "Diet"},
            _clean_lifestyle,
            one_per_patient=True,
        ),
        Section(
            "vitals",
            "Vitals",
            VitalSigns,
            {
                "taken_at": "Taken",
                **{k: v[0] for k, v in VITAL_RANGES.items()},
                "note": "Note",
            },
            _clean_vitals,
        ),
    )
}

"""What a prescription item's form implies: the unit it is given out in, the word a dose of it
is counted in, and the quantity a course needs (dose x how often x days).

Used by the prescription form to fill in what follows from what the doctor typed; the doctor
can still overwrite every value.
"""

from __future__ import annotations

import math
import re

from clinicdesk.rx.directions import frequency_problem
from clinicdesk.rx.payload import AS_NEEDED, EVERY_HOURS, FIXED_TIMES, PER_DAY, Frequency

# formulary form -> (unit it is given out in, the dose's word for one, for several)
_FORMS: dict[str, tuple[str, str, str]] = {
    "tablet": ("tablets", "tablet", "tablets"),
    "capsule": ("capsules", "capsule", "capsules"),
    "sachet": ("sachets", "sachet", "sachets"),
    "oral solution": ("ml", "ml", "ml"),
    "oral suspension": ("ml", "ml", "ml"),
    "eye drops": ("bottle", "drop", "drops"),
    "inhaler": ("inhaler", "puff", "puffs"),
    "cream": ("tube", "", ""),
    "gel": ("tube", "", ""),
    "injection pen": ("pens", "unit", "units"),
}
# units counted dose by dose: only for these is a course's quantity the sum of its doses
_COUNTED = {"tablets": "tablet", "capsules": "capsule", "sachets": "sachet", "ml": "ml"}
_DOSE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]*)\s*$")
_DOSE_WORDS = {w for _unit, one, many in _FORMS.values() for w in (one, many) if w}


def unit_for(form: str) -> str | None:
    """'capsule' -> 'capsules', 'oral suspension' -> 'ml'; None for a form not known here."""
    known = _FORMS.get(form.strip().lower())
    return known[0] if known else None


def _amount(dose: str) -> tuple[float, str] | None:
    """'1 capsule' -> (1.0, 'capsule'); '2.5 ml' -> (2.5, 'ml'); None for other wording."""
    match = _DOSE.match(dose)
    if match is None:
        return None
    return float(match.group(1).replace(",", ".")), match.group(2).lower()


def with_dose_word(dose: str, form: str) -> str:
    """A bare number takes the form's word: '1' on a capsule -> '1 capsule', '2' -> '2 capsules'."""
    known = _FORMS.get(form.strip().lower())
    parsed = _amount(dose)
    if known is None or parsed is None or parsed[1] or not known[1]:
        return dose
    number, word = dose.strip(), known[1] if parsed[0] == 1 else known[2]
    return f"{number} {word}"


def dose_fits(dose: str, form: str) -> bool:
    """Whether a dose's word belongs to the form: '1 capsule' does not fit a tablet. A dose
    worded some other way ('one at night') is left to the doctor."""
    parsed = _amount(dose)
    if parsed is None or parsed[1] not in _DOSE_WORDS:
        return True
    known = _FORMS.get(form.strip().lower())
    return known is None or parsed[1] in known[1:]


def doses_in_course(frequency: Frequency, days: int) -> int | None:
    """How many doses the course holds at most; None when that cannot be counted."""
    if frequency_problem(frequency) or days < 1:
        return None
    if frequency.kind == PER_DAY:
        return frequency.n * days
    if frequency.kind == FIXED_TIMES:
        return len(frequency.times) * days
    if frequency.kind == EVERY_HOURS:
        return math.ceil(days * 24 / frequency.n)
    if frequency.kind == AS_NEEDED and frequency.n:
        return frequency.n * days
    return None


def course_quantity(dose: str, frequency: Frequency, days: int | None, unit: str) -> int | None:
    """Dose x how often x days in ``unit``: '1 capsule', 3 a day, 7 days -> 21 (capsules);
    None when the dose is not counted in that unit (2 puffs from an inhaler)."""
    parsed = _amount(dose)
    counted = _COUNTED.get(unit.strip().lower())
    if parsed is None or counted is None or days is None:
        return None
    number, word = parsed
    if word not in (counted, counted + "s") and not (word == "" and counted != "ml"):
        return None
    doses = doses_in_course(frequency, days)
    return None if doses is None else math.ceil(number * doses)

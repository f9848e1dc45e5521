"""The quantity a course needs and the unit a form is given out in, as the prescription form
fills them in."""

from __future__ import annotations

import pytest

from clinicdesk.rx.payload import AS_NEEDED, EVERY_HOURS, FIXED_TIMES, PER_DAY, Frequency
from clinicdesk.rx.quantity import course_quantity, dose_fits, unit_for, with_dose_word


@pytest.mark.parametrize(
    ("dose", "frequency", "days", "unit", "quantity"),
    [
        ("1 capsule", Frequency(PER_DAY, 3), 7, "capsules", 21),
        ("2 tablets", Frequency(FIXED_TIMES, 0, ("08:00", "20:00")), 5, "tablets", 20),
        ("1 tablet", Frequency(EVERY_HOURS, 8), 7, "tablets", 21),
        ("1 tablet", Frequency(EVERY_HOURS, 5), 1, "tablets", 5),  # 24 h hold 4.8 doses
        ("2.5 ml", Frequency(PER_DAY, 3), 5, "ml", 38),  # 37.5 ml: the half is given too
        ("1 tablet", Frequency(AS_NEEDED, 4), 3, "tablets", 12),  # the most it may be
        ("1 tablet", Frequency(AS_NEEDED, 0), 3, "tablets", None),  # no limit: no count
        ("2 puffs", Frequency(PER_DAY, 2), 30, "inhaler", None),  # an inhaler is one
        ("1 capsule", Frequency(PER_DAY, 3), 7, "tablets", None),  # words that disagree
        ("1 tablet", Frequency(PER_DAY, 0), 7, "tablets", None),  # no sensible frequency
        ("one at night", Frequency(PER_DAY, 1), 7, "tablets", None),
    ],
)
def test_course_quantity(dose, frequency, days, unit, quantity):
    assert course_quantity(dose, frequency, days, unit) == quantity


def test_units_and_dose_words_follow_the_form():
    assert [unit_for(f) for f in ("capsule", "Tablet", "oral suspension", "eye drops")] == [
        "capsules",
        "tablets",
        "ml",
        "bottle",
    ]
    assert unit_for("suppository") is None  # not known: the doctor's unit stays
    assert with_dose_word("1", "capsule") == "1 capsule"
    assert with_dose_word("2", "tablet") == "2 tablets"
    assert with_dose_word("5", "oral solution") == "5 ml"
    assert with_dose_word("2 puffs", "inhaler") == "2 puffs"
    assert not dose_fits("1 capsule", "tablet")
    assert dose_fits("1 capsules", "capsule") and dose_fits("half at night", "tablet")

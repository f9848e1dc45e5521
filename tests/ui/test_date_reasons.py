"""A typed date that is no day on the calendar is refused with the reason, not "not a date"."""

from __future__ import annotations

import pytest

from clinicdesk.services.validation import calendar_day
from ui.widgets.dates import day_problem, parse_day


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("31/02/1985", "is not a date: February 1985 has 28 days"),
        ("29.02.2023", "is not a date: February 2023 has 28 days"),
        ("31/04/2024", "is not a date: April 2024 has 30 days"),
        ("12/13/1985", "is not a date: there is no month 13 (months go from 1 to 12)"),
        ("1985-00-10", "is not a date: there is no month 0 (months go from 1 to 12)"),
        ("00/03/1985", "is not a date: there is no day 0"),
        ("01/01/0000", "is not a date: there is no year 0"),
        ("32011985", "is not a date: January 1985 has 31 days"),
        ("March 3", "is not a date (type it as dd/mm/yyyy)"),
        ("12/3", "is not a date (type it as dd/mm/yyyy)"),
    ],
)
def test_the_reason_names_what_is_impossible(typed, reason):
    assert day_problem(typed) == reason
    assert parse_day(typed) is None


@pytest.mark.parametrize("typed", ["29/02/2024", "12.3.1985", "12031985", "1985-03-12", "  "])
def test_a_real_day_or_nothing_has_no_problem(typed):
    assert day_problem(typed) is None


def test_the_calendar_facts():
    assert calendar_day(2000, 2, 29) is None  # a leap century
    assert calendar_day(1900, 2, 29) == "is not a date: February 1900 has 28 days"
    assert calendar_day(2024, 12, 31) is None

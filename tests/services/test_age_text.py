"""Ages as staff say them: days under a month, months under two years, then years; counted on
the date given (the clinic's), never the computer's."""

from __future__ import annotations

from datetime import date

import pytest

from clinicdesk.services.patients import age_text


@pytest.mark.parametrize(
    ("born", "on", "said"),
    [
        (date(2026, 3, 10), date(2026, 3, 10), "0 days"),  # born today
        (date(2026, 3, 10), date(2026, 3, 11), "1 day"),
        (date(2026, 3, 1), date(2026, 3, 21), "20 days"),
        (date(2026, 1, 31), date(2026, 2, 28), "28 days"),  # no 31 February: not yet a month
        (date(2026, 1, 31), date(2026, 3, 1), "1 month"),
        (date(2026, 3, 10), date(2026, 4, 10), "1 month"),
        (date(2024, 1, 10), date(2025, 12, 31), "23 months"),
        (date(2024, 1, 10), date(2026, 1, 9), "23 months"),
        (date(2024, 1, 10), date(2026, 1, 10), "2 years"),
        (date(2024, 2, 29), date(2024, 3, 28), "28 days"),  # leap-day baby
        (date(2024, 2, 29), date(2024, 3, 29), "1 month"),
        (date(2024, 2, 29), date(2026, 2, 28), "23 months"),
        (date(2024, 2, 29), date(2026, 3, 1), "2 years"),
        (date(2020, 2, 29), date(2025, 2, 28), "4 years"),
        (date(2020, 2, 29), date(2025, 3, 1), "5 years"),
        (date(1979, 5, 14), date(2026, 5, 13), "46 years"),
        (date(1979, 5, 14), date(2026, 5, 14), "47 years"),
    ],
)
def test_an_age_is_said_in_the_unit_that_fits(born, on, said):
    assert age_text(born, on) == said


def test_no_birth_date_says_nothing():
    assert age_text(None, date(2026, 3, 10)) == ""

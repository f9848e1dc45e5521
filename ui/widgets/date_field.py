"""A date of birth typed as text (dd/mm/yyyy), with the date spelled out beneath as a check."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QLineEdit

from ui.widgets.dates import DATE_HINT, day_problem, format_day, format_long_day, parse_day


class DateField(QLineEdit):
    """Accepts 12/03/1985, 12.3.1985, 12031985 or 1985-03-12."""

    def __init__(self, value: date | None = None) -> None:
        super().__init__(format_day(value))
        self.setPlaceholderText(DATE_HINT)
        self.setMaxLength(10)

    def value(self) -> date | None:
        return parse_day(self.text())

    def is_blank(self) -> bool:
        return not self.text().strip()

    def problem(self) -> str | None:
        """Why the text is not a day ("is not a date: February 1985 has 28 days"); None for a
        day or a blank field."""
        return day_problem(self.text())

    def spelled_out(self, age: str) -> str:
        """'12 March 1985 · 40 years' for a valid date (``age`` as age_text gives it), otherwise
        why it is not one yet."""
        day = self.value()
        if day is None:
            if self.is_blank():
                return f"Type as {DATE_HINT}"
            why = self.problem().removeprefix("is ")  # 'not a date: February 1985 has 28 days'
            return why[:1].upper() + why[1:]
        return f"{format_long_day(day)} · {age}" if age else format_long_day(day)

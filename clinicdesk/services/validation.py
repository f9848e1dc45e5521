"""Field checks shared by the services; each returns the reason in words, or None."""

from __future__ import annotations

import calendar
import re
from datetime import date

from clinicdesk.text import digits

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
MIN_PASSWORD = 10
MAX_ADDRESS = 500  # characters, for a patient's address and the clinic's


def whole(value: object, low: int, high: int) -> bool:
    """A whole number from ``low`` to ``high``: not a fraction, text or True."""
    return type(value) is int and low <= value <= high


def required(value: str, max_len: int) -> str | None:
    if not value.strip():
        return "is required"
    if len(value) > max_len:
        return f"is too long (at most {max_len} characters)"
    return None


def at_most(value: str, max_len: int) -> str | None:
    """For an optional field: only its length is checked."""
    return f"is too long (at most {max_len} characters)" if len(value) > max_len else None


def phone(value: str, *, optional: bool = True) -> str | None:
    if not value.strip():
        return None if optional else "is required"
    if not PHONE_CHARS.match(value.strip()):
        return "may contain only digits, spaces, + ( ) - . and /"
    if not 6 <= len(digits(value)) <= 15:
        return "must have between 6 and 15 digits"
    return None


def email(value: str) -> str | None:
    if value.strip() and not EMAIL.match(value.strip()):
        return "is not a valid e-mail address (it needs a name, @ and a domain)"
    return None


def calendar_day(year: int, month: int, day: int) -> str | None:
    """Why a typed year, month and day are no day on the calendar, or None when they are."""
    if year < 1:
        return "is not a date: there is no year 0"
    if not 1 <= month <= 12:
        return f"is not a date: there is no month {month} (months go from 1 to 12)"
    days = calendar.monthrange(year, month)[1]
    if day < 1:
        return "is not a date: there is no day 0"
    if day > days:
        return f"is not a date: {calendar.month_name[month]} {year} has {days} days"
    return None


def birth_date(value: date | None, today: date) -> str | None:
    if value is None:
        return "is required"
    if value > today:
        return "is in the future"
    if today.year - value.year > 130:
        return "is more than 130 years ago"
    return None


def password(value: str, username: str) -> str | None:
    if len(value) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters long"
    if value.strip().casefold() == username.strip().casefold():
        return "must not be the same as the user name"
    return None

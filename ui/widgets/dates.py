"""Dates as staff type and read them: day first (dd/mm/yyyy)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from clinicdesk.services.validation import calendar_day

DATE_HINT = "dd/mm/yyyy"
_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def _numbers(text: str) -> tuple[int, int, int] | None:
    """Year, month and day as typed, whether or not they make a day."""
    text = text.strip()
    if m := _ISO.match(text):
        y, mo, d = m.groups()
    elif m := _DMY.match(text):
        d, mo, y = m.groups()
    elif re.fullmatch(r"\d{8}", text):
        d, mo, y = text[:2], text[2:4], text[4:]
    else:
        return None
    return int(y), int(mo), int(d)


def parse_day(text: str) -> date | None:
    """Accepts 12/03/1985, 12.3.1985, 12-03-1985, 12031985 and 1985-03-12; None if not a date."""
    numbers = _numbers(text)
    if numbers is None or calendar_day(*numbers):
        return None
    return date(*numbers)


def day_problem(text: str) -> str | None:
    """Why typed text is not a day, precisely ("is not a date: February 1985 has 28 days");
    None for a day or for nothing typed (whether a day is required is the form's business)."""
    if not text.strip():
        return None
    numbers = _numbers(text)
    if numbers is None:
        return f"is not a date (type it as {DATE_HINT})"
    return calendar_day(*numbers)


def format_day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def format_long_day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def format_moment(value: datetime | None, time_zone: str) -> str:
    """A stored UTC time in the clinic's own time zone."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = None
    local = value.astimezone(zone) if value.tzinfo else value
    return local.strftime("%d/%m/%Y %H:%M")

"""Dates as staff type and read them: day first (dd/mm/yyyy)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

DATE_HINT = "dd/mm/yyyy"
_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_day(text: str) -> date | None:
    """Accepts 12/03/1985, 12.3.1985, 12-03-1985, 12031985 and 1985-03-12; None if not a date."""
    text = text.strip()
    if m := _ISO.match(text):
        y, mo, d = m.groups()
    elif m := _DMY.match(text):
        d, mo, y = m.groups()
    elif re.fullmatch(r"\d{8}", text):
        d, mo, y = text[:2], text[2:4], text[4:]
    else:
        return None
    try:
        return date(int(y), int(mo), int(d))
    except ValueError:
        return None


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

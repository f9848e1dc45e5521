"""Directions in plain words, and the dose times a frequency gives over the course.

Shared by the printed prescription, the pharmacy label and the medication reminders, so all three
say the same thing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinicdesk.rx.payload import AS_NEEDED, EVERY_HOURS, FIXED_TIMES, PER_DAY, Frequency, RxItem

MAX_PER_DAY = 12
MAX_DURATION_DAYS = 365
# when the patient is awake; n doses a day are spread over it
_DAY_START, _DAY_END = 8 * 60, 22 * 60
_USUAL = {1: ["08:00"], 2: ["08:00", "20:00"], 3: ["08:00", "14:00", "20:00"]}
_COUNT_WORDS = {1: "once", 2: "twice", 3: "three times", 4: "four times"}
# route as prescribed -> (verb, how the directions say it)
_ROUTE_WORDS = {
    "by mouth": ("Take", "by mouth"),
    "inhaled": ("Inhale", ""),
    "on the skin": ("Apply", "to the skin"),
    "in the eye": ("Put", "in the eye"),
    "in the ear": ("Put", "in the ear"),
    "subcutaneous injection": ("Inject", "under the skin"),
}
ROUTES = tuple(_ROUTE_WORDS)  # the routes the directions have words for, offered first
_TIME_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def frequency_problem(f: Frequency) -> str | None:
    """Why this frequency makes no sense, or None."""
    if f.kind == PER_DAY:
        if not 1 <= f.n <= MAX_PER_DAY:
            return f"times a day must be between 1 and {MAX_PER_DAY}"
    elif f.kind == FIXED_TIMES:
        if not f.times:
            return "give at least one time of day"
        if not all(_TIME_RE.fullmatch(t) for t in f.times):
            return "times of day must be written as HH:MM, for example 08:00"
        if len(set(f.times)) != len(f.times):
            return "the same time of day is given twice"
        if len(f.times) > MAX_PER_DAY:
            return f"at most {MAX_PER_DAY} times a day"
    elif f.kind == EVERY_HOURS:
        if not 1 <= f.n <= 72:
            return "every how many hours must be between 1 and 72"
    elif f.kind == AS_NEEDED:
        if not 0 <= f.n <= MAX_PER_DAY:
            return f"the most a day must be between 1 and {MAX_PER_DAY}, or left empty"
    else:
        return "choose how often: times a day, fixed times, every N hours or as needed"
    return None


def frequency_words(f: Frequency) -> str:
    if f.kind == PER_DAY:
        return f"{_times(f.n)} a day"
    if f.kind == FIXED_TIMES:
        return "at " + _and(sorted(f.times))
    if f.kind == EVERY_HOURS:
        return "every hour" if f.n == 1 else f"every {f.n} hours"
    limit = f" (at most {_times(f.n)} a day)" if f.n else ""
    return f"when needed{limit}"


def directions(item: RxItem) -> str:
    """'Take 1 capsule by mouth three times a day for 7 days.'"""
    verb, where = _ROUTE_WORDS.get(item.route, ("Take", item.route))
    days = "1 day" if item.duration_days == 1 else f"{item.duration_days} days"
    parts = [verb, item.dose, where, frequency_words(item.frequency), "for", days]
    return " ".join(p for p in parts if p) + "."


def dose_times(
    f: Frequency, first_day: date, duration_days: int, zone: ZoneInfo, not_before: datetime
) -> list[datetime]:
    """UTC moments of each dose over the course, from ``not_before`` (as needed: none)."""
    if f.kind == AS_NEEDED:
        return []
    if f.kind == EVERY_HOURS:
        start = datetime.combine(first_day, time(8), zone)
        start = max(start, not_before.astimezone(zone))
        end = datetime.combine(first_day + timedelta(days=duration_days), time(0), zone)
        step, out, at = timedelta(hours=f.n), [], start.astimezone(ZoneInfo("UTC"))
        while at < end:
            out.append(at)
            at += step  # real hours: correct across a change of the clocks
        return out
    wall = list(f.times) if f.kind == FIXED_TIMES else _spread(f.n)
    moments = []
    for offset in range(duration_days):
        day = first_day + timedelta(days=offset)
        for hhmm in sorted(wall):
            local = datetime.combine(day, time.fromisoformat(hhmm), zone)
            if local >= not_before:
                moments.append(local.astimezone(ZoneInfo("UTC")))
    return moments


def _spread(n: int) -> list[str]:
    if n in _USUAL:
        return _USUAL[n]
    step = (_DAY_END - _DAY_START) // (n - 1)
    return [
        f"{(_DAY_START + i * step) // 60:02d}:{(_DAY_START + i * step) % 60:02d}" for i in range(n)
    ]


def _times(n: int) -> str:
    return _COUNT_WORDS.get(n, f"{n} times")


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

"""Free slots from weekly visiting hours, exceptions and what is already booked.

Everything here is pure (no database), so it can be tested exhaustively.

Hours are wall-clock times in the clinic's zone; each day's window is turned into a real interval
in UTC, and slots step through that interval in real minutes. On the night clocks go forward a
window simply has fewer real minutes (a wall time that does not exist moves forward by the gap);
on the night they go back, a repeated wall time means its first occurrence. So a slot is never
outside the hours as the clock on the wall shows them, and never overlaps anything booked.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

CELL = timedelta(minutes=5)  # the grain of every time the clinic books
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """A weekly window: ``weekday`` 0 = Monday, minutes after local midnight."""

    weekday: int
    start_minute: int
    end_minute: int
    service_ids: frozenset[str] = frozenset()  # empty: every service

    def offers(self, service_id: str) -> bool:
        return not self.service_ids or service_id in self.service_ids


class Interval(NamedTuple):
    """A busy stretch (a tuple: a calendar of ten doctors holds thousands of them)."""

    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass
class DoctorCalendar:
    """What decides a doctor's free time over some days."""

    windows: list[Window]
    holidays: set[date] = field(default_factory=set)
    leave: list[tuple[date, date]] = field(default_factory=list)
    busy: list[Interval] = field(default_factory=list)  # bookings, holds, absences (UTC)

    def __post_init__(self) -> None:
        self.busy = merge(self.busy)
        self._starts = [b.start for b in self.busy]

    def day_off(self, day: date) -> bool:
        return day in self.holidays or any(a <= day <= b for a, b in self.leave)

    def first_busy_overlap(self, start: datetime, end: datetime) -> Interval | None:
        i = bisect.bisect_right(self._starts, start) - 1
        for b in self.busy[max(i, 0) : i + 2]:
            if b.overlaps(start, end):
                return b
        return None


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: i.start):
        if merged and iv.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, iv.end))
        else:
            merged.append(iv)
    return merged


@lru_cache(maxsize=4096)  # a month's calendar asks for the same few wall times again and again
def local_moment(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time. A time the clocks skip (the hour they go forward)
    becomes the first time that exists after it, the moment they jump; a time that happens
    twice (the hour they go back) is its first occurrence."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    for late in range(0, 24 * 60):
        wall = naive + timedelta(minutes=late)
        moment = wall.replace(tzinfo=tz).astimezone(UTC)
        if moment.astimezone(tz).replace(tzinfo=None) == wall:  # this wall time exists
            return moment
    raise ValueError(f"no wall time at or after {naive} exists in {tz}")


def ceil_cell(moment: datetime) -> datetime:
    steps = -((_EPOCH - moment) // CELL)
    return _EPOCH + steps * CELL


def cells(start: datetime, end: datetime) -> list[datetime]:
    """The 5-minute cells an interval touches."""
    first = start - ((start - _EPOCH) % CELL)
    out = []
    while first < end:
        out.append(first)
        first += CELL
    return out


def day_windows(
    calendar: DoctorCalendar, service_id: str, day: date, tz: ZoneInfo
) -> list[Interval]:
    """The day's windows that offer the service, as real intervals (empty on days off)."""
    if calendar.day_off(day):
        return []
    return [
        Interval(local_moment(day, w.start_minute, tz), local_moment(day, w.end_minute, tz))
        for w in sorted(calendar.windows, key=lambda w: w.start_minute)
        if w.weekday == day.weekday() and w.offers(service_id)
    ]


def free_slots(
    calendar: DoctorCalendar,
    service_id: str,
    duration: timedelta,
    buffer: timedelta,
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    not_before: datetime,
) -> Iterator[datetime]:
    """Start times, in order, at which the service fits: inside a window, clear of everything busy.

    Slots follow each other (duration plus buffer); after something busy, the next slot starts
    right when it ends, so no time is lost to a booking made at an odd time.
    """
    day = first_day
    free_from = not_before  # the last slot's buffer carries into a window that touches it,
    while day <= last_day:  # across midnight too
        for window in day_windows(calendar, service_id, day, tz):
            t = ceil_cell(max(window.start, free_from))
            while t + duration <= window.end:
                clash = calendar.first_busy_overlap(t, t + duration + buffer)
                if clash is None:
                    yield t
                    t += duration + buffer
                    free_from = t
                else:
                    t = ceil_cell(clash.end)
        day += timedelta(days=1)


def fits_hours(
    calendar: DoctorCalendar, service_id: str, start: datetime, duration: timedelta, tz: ZoneInfo
) -> bool:
    """Whether a booking at ``start`` lies inside the doctor's hours for that service."""
    day = start.astimezone(tz).date()
    return any(
        w.start <= start and start + duration <= w.end
        for w in day_windows(calendar, service_id, day, tz)
    )

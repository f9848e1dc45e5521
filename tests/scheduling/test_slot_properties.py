"""Property tests of the pure slot finder (clinicdesk/scheduling/slots.py), across DST changes.

Zones: Europe/London and America/New_York (the two the issue asks for), Australia/Sydney (the
southern hemisphere, switching at 02:00/03:00) and America/Santiago (which switches at midnight,
so a day can start at 01:00). Days are drawn around every DST change of 2026 and 2027, found
here independently of the code under test, and elsewhere at random.

The oracle for "inside the hours" is the one the module documents: a window's bounds are
``local_moment`` of its wall-clock times on that local date. A second, independent reading of
the wall clock (``first_showing``: the first instant the clock shows that time or later) checks
the same bounds, skipped and repeated times included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clinicdesk.scheduling.slots import (
    CELL,
    DoctorCalendar,
    Interval,
    Window,
    fits_hours,
    free_slots,
    local_moment,
)

ZONE_NAMES = ("Europe/London", "America/New_York", "Australia/Sydney", "America/Santiago")
ZONES = {name: ZoneInfo(name) for name in ZONE_NAMES}
SERVICE = "svc"
OTHER = "other"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
YEARS_START, YEARS_END = date(2026, 1, 1), date(2027, 12, 31)
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---- an independent reading of the wall clock ----


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _existing(naive: datetime, tz: ZoneInfo) -> list[datetime]:
    """The instants at which the wall clock shows ``naive`` (none in a gap, two in a repeat)."""
    found = set()
    for fold in (0, 1):
        offset = naive.replace(tzinfo=tz, fold=fold).utcoffset()
        instant = (naive - offset).replace(tzinfo=UTC)
        if _wall(instant, tz) == naive:
            found.add(instant)
    return sorted(found)


def in_gap(day: date, minute: int, tz: ZoneInfo) -> bool:
    return not _existing(datetime.combine(day, time()) + timedelta(minutes=minute), tz)


def first_showing(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The first instant at which the wall clock shows ``minute`` of ``day``, or a later time.

    A repeated time gives its first occurrence; a skipped time gives the moment the clock jumps.
    """
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    existing = _existing(naive, tz)
    if existing:
        return existing[0]
    # In the gap: between the two readings of the offset lies exactly one jump; bisect to it.
    offsets = sorted(naive.replace(tzinfo=tz, fold=f).utcoffset() for f in (0, 1))
    lo = (naive - offsets[1]).replace(tzinfo=UTC)  # the clock shows less than naive here
    hi = (naive - offsets[0]).replace(tzinfo=UTC)  # and more than naive here
    assert _wall(lo, tz) < naive < _wall(hi, tz)
    while hi - lo > timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(minutes=1)
        if _wall(mid, tz) >= naive:
            hi = mid
        else:
            lo = mid
    return hi


def _transition_days(tz: ZoneInfo) -> list[date]:
    """Local days of 2026-2027 that do not last 24 real hours."""
    out = []
    day = YEARS_START
    start = first_showing(day, 0, tz)
    while day <= YEARS_END:
        end = first_showing(day + timedelta(days=1), 0, tz)
        if end - start != timedelta(hours=24):
            out.append(day)
        day, start = day + timedelta(days=1), end
    return out


DST_DAYS = {name: _transition_days(tz) for name, tz in ZONES.items()}


def test_the_dst_days_are_the_known_ones():
    assert DST_DAYS["Europe/London"] == [
        date(2026, 3, 29),
        date(2026, 10, 25),
        date(2027, 3, 28),
        date(2027, 10, 31),
    ]
    assert DST_DAYS["America/New_York"] == [
        date(2026, 3, 8),
        date(2026, 11, 1),
        date(2027, 3, 14),
        date(2027, 11, 7),
    ]
    assert DST_DAYS["Australia/Sydney"] == [
        date(2026, 4, 5),
        date(2026, 10, 4),
        date(2027, 4, 4),
        date(2027, 10, 3),
    ]
    assert len(DST_DAYS["America/Santiago"]) == 4


# ---- strategies ----

# Windows that cover, start or end inside the hours clocks skip or repeat (00:00-04:00 local
# holds every switch of London, New York and Sydney; 22:00-24:00 and 00:00-02:00 Santiago's).
DST_PRESETS = [
    (0, 240),
    (60, 180),
    (60, 150),
    (90, 210),
    (120, 180),
    (150, 240),
    (30, 200),
    (0, 120),
    (0, 60),
    (1320, 1440),
    (1380, 1440),
    (0, 1440),
]
ORDINARY = [(540, 750), (840, 1020), (480, 720), (780, 1200)]
RESTRICTIONS = [frozenset(), frozenset({SERVICE}), frozenset({OTHER}), frozenset({SERVICE, OTHER})]


def _pairs(cuts: list[int], chained: bool) -> list[tuple[int, int]]:
    if chained:  # windows that touch: 09:00-10:00, 10:00-11:00
        return list(pairwise(cuts))
    return list(zip(cuts[::2], cuts[1::2], strict=False))


@st.composite
def weekday_windows(draw, weekday: int) -> list[Window]:
    kind = draw(st.sampled_from(["none", "preset", "preset", "ordinary", "random", "random"]))
    if kind == "none":
        bounds: list[tuple[int, int]] = []
    elif kind == "preset":
        bounds = [draw(st.sampled_from(DST_PRESETS))]
        extra = draw(st.sampled_from([None, *ORDINARY]))
        if extra and extra[0] >= bounds[0][1]:
            bounds.append(extra)
    elif kind == "ordinary":
        bounds = [draw(st.sampled_from(ORDINARY))]
    else:
        cuts = sorted(draw(st.sets(st.integers(0, 288).map(lambda n: n * 5), max_size=6)))
        bounds = _pairs(cuts, draw(st.booleans()))
    return [Window(weekday, a, b, draw(st.sampled_from(RESTRICTIONS))) for a, b in bounds if a < b]


SEAM = 90  # wall minutes: more than the longest buffer, even across a skipped hour


def _apart(windows: list[Window]) -> list[Window]:
    """Drop windows that start within SEAM minutes of the one before (across midnight too)."""
    week = sorted(windows, key=lambda w: (w.weekday, w.start_minute))
    kept: list[Window] = []
    for w in week:
        ends = [k.weekday * 1440 + k.end_minute for k in kept]
        if kept and w.weekday * 1440 + w.start_minute - ends[-1] < SEAM:
            continue
        kept.append(w)
    # Sunday night into Monday morning
    if (
        len(kept) > 1
        and kept[0].weekday * 1440
        + kept[0].start_minute
        + 7 * 1440
        - (kept[-1].weekday * 1440 + kept[-1].end_minute)
        < SEAM
    ):
        kept.pop(0)
    return kept


@st.composite
def day_range(draw, zone: str) -> tuple[date, date]:
    span = draw(st.integers(1, 9))
    if draw(st.integers(0, 3)):  # mostly around a DST change
        dst = draw(st.sampled_from(DST_DAYS[zone]))
        first = dst - timedelta(days=draw(st.integers(0, span - 1)))
    else:
        first = YEARS_START + timedelta(days=draw(st.integers(0, 720)))
    return first, first + timedelta(days=span - 1)


def _instant(draw, lo: datetime, hi: datetime, aligned: bool) -> datetime:
    seconds = draw(st.integers(0, int((hi - lo).total_seconds())))
    moment = lo + timedelta(seconds=seconds)
    if aligned:
        moment = moment.replace(second=0) - timedelta(minutes=moment.minute % 5)
    return moment


@st.composite
def scenarios(draw, *, with_busy: bool = True, with_buffer: bool = True, seams: bool = True):
    zone = draw(st.sampled_from(ZONE_NAMES))
    tz = ZONES[zone]
    first, last = draw(day_range(zone))
    windows = [w for weekday in range(7) for w in draw(weekday_windows(weekday))]
    if not seams:
        windows = _apart(windows)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    holidays = set(draw(st.lists(st.sampled_from(days), max_size=2)))
    leave = []
    for _ in range(draw(st.integers(0, 2))):
        a, b = sorted(draw(st.lists(st.sampled_from(days), min_size=2, max_size=2)))
        leave.append((a, b))
    duration = timedelta(minutes=5 * draw(st.integers(1, 24)))
    buffer = timedelta(minutes=5 * draw(st.integers(0, 6))) if with_buffer else timedelta(0)
    lo = first_showing(first, 0, tz) - timedelta(hours=6)
    hi = first_showing(last + timedelta(days=1), 0, tz) + timedelta(hours=6)
    busy = []
    if with_busy:
        for _ in range(draw(st.integers(0, 8))):
            start = _instant(draw, lo, hi, aligned=draw(st.booleans()))
            length = timedelta(seconds=draw(st.integers(1, 5 * 3600)))
            busy.append(Interval(start, start + length))
    not_before = LONG_AGO
    if with_busy and draw(st.booleans()):
        not_before = _instant(draw, lo, hi, aligned=False)
    return {
        "zone": zone,
        "tz": tz,
        "windows": windows,
        "holidays": holidays,
        "leave": leave,
        "busy": busy,
        "first": first,
        "last": last,
        "duration": duration,
        "buffer": buffer,
        "not_before": not_before,
    }


def _run(sc) -> tuple[DoctorCalendar, list[datetime]]:
    calendar = DoctorCalendar(
        list(sc["windows"]), set(sc["holidays"]), list(sc["leave"]), list(sc["busy"])
    )
    slots = list(
        free_slots(
            calendar,
            SERVICE,
            sc["duration"],
            sc["buffer"],
            sc["first"],
            sc["last"],
            sc["tz"],
            sc["not_before"],
        )
    )
    return calendar, slots


def _day_off(sc, day: date) -> bool:
    return day in sc["holidays"] or any(a <= day <= b for a, b in sc["leave"])


def _offered(sc, day: date) -> list[Window]:
    return [
        w
        for w in sc["windows"]
        if w.weekday == day.weekday() and (not w.service_ids or SERVICE in w.service_ids)
    ]


def _home_window(sc, slot: datetime) -> Window | None:
    """The window of the slot's local day that holds [slot, slot + duration), if any."""
    tz, day = sc["tz"], slot.astimezone(sc["tz"]).date()
    homes = [
        w
        for w in _offered(sc, day)
        if local_moment(day, w.start_minute, tz)
        <= slot
        <= slot + sc["duration"]
        <= local_moment(day, w.end_minute, tz)
    ]
    assert len(homes) <= 1, "windows of one weekday must not overlap"
    return homes[0] if homes else None


# ---- properties ----


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_is_free_on_the_grid_inside_the_hours_and_in_order(sc):
    calendar, slots = _run(sc)
    tz, duration, buffer = sc["tz"], sc["duration"], sc["buffer"]
    homes = []
    for slot in slots:
        # (a) on a 5-minute step, not before the earliest time asked for
        assert slot.tzinfo is not None
        assert (slot - LONG_AGO) % CELL == timedelta(0)
        assert slot >= sc["not_before"]
        # (b) the appointment and its buffer overlap nothing busy (checked against the raw list)
        for busy in sc["busy"]:
            assert not (busy.start < slot + duration + buffer and slot < busy.end), (slot, busy)
        # (c) inside one window of that local weekday offering the service, on a working day
        day = slot.astimezone(tz).date()
        assert sc["first"] <= day <= sc["last"]
        assert not _day_off(sc, day)
        home = _home_window(sc, slot)
        assert home is not None, f"{slot} ({slot.astimezone(tz)}) is outside every window"
        # ... and by an independent reading of the wall clock, wherever the bound exists
        assert first_showing(day, home.start_minute, tz) <= slot
        if not in_gap(day, home.end_minute, tz):
            assert slot + duration <= first_showing(day, home.end_minute, tz)
        # (e) the booking-time check agrees
        assert fits_hours(calendar, SERVICE, slot, duration, tz)
        homes.append((day, home))
    on_switch_days = {s.astimezone(tz).date() for s in slots} & set(DST_DAYS[sc["zone"]])
    event(f"slots on a DST change day: {bool(on_switch_days)}")
    event(f"slots: {'none' if not slots else 'some'}")
    # (d) strictly increasing, and appointments never overlap; inside one window the buffer
    # is kept too (across a seam between windows, see the tests below)
    for (prev, prev_home), (nxt, next_home) in pairwise(zip(slots, homes, strict=True)):
        assert nxt > prev
        assert nxt >= prev + duration
        if prev_home == next_home:
            assert nxt >= prev + duration + buffer


@PROPERTY_SETTINGS
@given(scenarios(seams=False))
def test_slots_are_exactly_the_earliest_greedy_fit(sc):
    """Brute force: each window, step by 5 minutes, take the first start that fits.

    Windows here lie well apart, so whether a buffer carries over into a window that touches
    the one before does not matter (the tests by hand below say that it should).
    """
    _, slots = _run(sc)
    tz, duration, buffer = sc["tz"], sc["duration"], sc["buffer"]
    expected = []
    day = sc["first"]
    while day <= sc["last"]:
        if not _day_off(sc, day):
            for w in sorted(_offered(sc, day), key=lambda w: w.start_minute):
                start = local_moment(day, w.start_minute, tz)
                end = local_moment(day, w.end_minute, tz)
                t = max(start, sc["not_before"])
                t = t + (-(t - LONG_AGO)) % CELL  # up to the grid
                while t + duration <= end:
                    if any(b.start < t + duration + buffer and t < b.end for b in sc["busy"]):
                        t += CELL
                    else:
                        expected.append(t)
                        t += duration + buffer
        day += timedelta(days=1)
    assert slots == expected


@PROPERTY_SETTINGS
@given(scenarios(with_busy=False, with_buffer=False))
def test_with_nothing_booked_a_window_holds_its_real_length_in_slots(sc):
    """(f) floor(real minutes / duration) slots per window; an hour fewer or more on DST days."""
    _, slots = _run(sc)
    tz, duration = sc["tz"], sc["duration"]
    counted = 0
    day = sc["first"]
    while day <= sc["last"]:
        for w in _offered(sc, day):
            start = local_moment(day, w.start_minute, tz)
            end = local_moment(day, w.end_minute, tz)
            inside = [s for s in slots if start <= s and s + duration <= end]
            counted += len(inside)
            if _day_off(sc, day):
                assert inside == []
                continue
            if not (in_gap(day, w.start_minute, tz) or in_gap(day, w.end_minute, tz)):
                # the real length, read off the wall clock independently of the code
                real = first_showing(day, w.end_minute, tz) - first_showing(day, w.start_minute, tz)
                assert real == end - start
            real = max(end - start, timedelta(0))
            assert len(inside) == real // duration, (day, w, real)
        day += timedelta(days=1)
    assert counted == len(slots)


# ---- the DST days themselves, by hand ----

SWITCH_CASES = [
    ("Europe/London", date(2026, 3, 29), "short"),
    ("Europe/London", date(2026, 10, 25), "long"),
    ("Europe/London", date(2027, 3, 28), "short"),
    ("Europe/London", date(2027, 10, 31), "long"),
    ("America/New_York", date(2026, 3, 8), "short"),
    ("America/New_York", date(2026, 11, 1), "long"),
    ("America/New_York", date(2027, 3, 14), "short"),
    ("America/New_York", date(2027, 11, 7), "long"),
    ("Australia/Sydney", date(2026, 4, 5), "long"),
    ("Australia/Sydney", date(2026, 10, 4), "short"),
    ("Australia/Sydney", date(2027, 4, 4), "long"),
    ("Australia/Sydney", date(2027, 10, 3), "short"),
]


@pytest.mark.parametrize(("zone", "day", "kind"), SWITCH_CASES)
def test_a_night_window_over_the_switch_is_an_hour_shorter_or_longer(zone, day, kind):
    tz = ZONES[zone]
    # the weekday's neighbours keep a normal night: 00:00-04:00 is four real hours
    calendar = DoctorCalendar([Window(6, 0, 240)])
    twenty = timedelta(minutes=20)
    assert day.weekday() == 6
    slots = list(free_slots(calendar, SERVICE, twenty, timedelta(0), day, day, tz, LONG_AGO))
    real = local_moment(day, 240, tz) - local_moment(day, 0, tz)
    assert real == timedelta(hours=3 if kind == "short" else 5)
    assert len(slots) == (9 if kind == "short" else 15)
    assert slots == [local_moment(day, 0, tz) + i * twenty for i in range(len(slots))]
    assert all(fits_hours(calendar, SERVICE, s, twenty, tz) for s in slots)
    week_before = day - timedelta(days=7)
    normal = list(
        free_slots(calendar, SERVICE, twenty, timedelta(0), week_before, week_before, tz, LONG_AGO)
    )
    assert len(normal) == 12


def test_a_repeated_hour_is_offered_twice_and_a_skipped_one_never():
    ny = ZONES["America/New_York"]
    calendar = DoctorCalendar([Window(6, 60, 180)])  # Sunday 01:00-03:00
    half = timedelta(minutes=30)
    autumn = [
        s.astimezone(ny).strftime("%H:%M %Z")
        for s in free_slots(
            calendar,
            SERVICE,
            half,
            timedelta(0),
            date(2026, 11, 1),
            date(2026, 11, 1),
            ny,
            LONG_AGO,
        )
    ]
    assert autumn == [
        "01:00 EDT",
        "01:30 EDT",
        "01:00 EST",
        "01:30 EST",
        "02:00 EST",
        "02:30 EST",
    ]
    spring = [
        s.astimezone(ny).strftime("%H:%M %Z")
        for s in free_slots(
            calendar, SERVICE, half, timedelta(0), date(2026, 3, 8), date(2026, 3, 8), ny, LONG_AGO
        )
    ]
    assert spring == ["01:00 EST", "01:30 EST"]


def test_a_window_ending_in_the_skipped_hour_ends_when_the_clock_jumps():
    ny = ZONES["America/New_York"]
    day = date(2026, 3, 8)  # 02:00 EST becomes 03:00 EDT
    calendar = DoctorCalendar([Window(6, 60, 150)])  # 01:00-02:30
    half = timedelta(minutes=30)
    slots = list(free_slots(calendar, SERVICE, half, timedelta(0), day, day, ny, LONG_AGO))
    three_edt = datetime(2026, 3, 8, 3, 0, tzinfo=ny)
    # the clock jumps from 01:59 to 03:00: the window has one real hour, and 03:00-03:30 on
    # the wall is after its end whichever way the 02:30 is read
    assert [s.astimezone(ny).strftime("%H:%M %Z") for s in slots] == ["01:00 EST", "01:30 EST"]
    assert not fits_hours(calendar, SERVICE, three_edt.astimezone(UTC), half, ny)


def test_touching_the_skipped_hour_never_offers_a_slot_twice():
    ny = ZONES["America/New_York"]
    day = date(2026, 3, 8)
    calendar = DoctorCalendar([Window(6, 60, 150), Window(6, 180, 300)])
    half = timedelta(minutes=30)
    slots = list(free_slots(calendar, SERVICE, half, timedelta(0), day, day, ny, LONG_AGO))
    assert slots == sorted(set(slots))
    for prev, nxt in pairwise(slots):
        assert nxt >= prev + half


def test_the_buffer_is_kept_across_touching_windows():
    london = ZONES["Europe/London"]
    monday = date(2026, 6, 1)
    # 09:00-10:00 for every service, then 10:00-11:00 (as when the second is limited to some)
    calendar = DoctorCalendar([Window(0, 540, 600), Window(0, 600, 660)])
    duration, buffer = timedelta(minutes=25), timedelta(minutes=10)
    slots = list(free_slots(calendar, SERVICE, duration, buffer, monday, monday, london, LONG_AGO))
    local = [s.astimezone(london).strftime("%H:%M") for s in slots]
    # 09:35 keeps the doctor until 10:10 (a booking claims its buffer), so 10:00 cannot follow
    assert "09:35" in local
    for prev, nxt in pairwise(slots):
        assert nxt >= prev + duration + buffer, local


def test_the_buffer_is_kept_across_midnight():
    london = ZONES["Europe/London"]
    sunday, monday = date(2026, 5, 31), date(2026, 6, 1)
    calendar = DoctorCalendar([Window(6, 23 * 60, 24 * 60), Window(0, 0, 60)])
    duration, buffer = timedelta(minutes=25), timedelta(minutes=10)
    slots = list(free_slots(calendar, SERVICE, duration, buffer, sunday, monday, london, LONG_AGO))
    local = [s.astimezone(london).strftime("%a %H:%M") for s in slots]
    assert "Sun 23:35" in local
    for prev, nxt in pairwise(slots):
        assert nxt >= prev + duration + buffer, local

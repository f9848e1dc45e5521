"""The demo clinic opens on a working day whatever the hour: the doctor's day has appointments
around the present hour and the waiting room a queue, on the day it is created (late on a
Saturday evening) and on each later day it is reused (just after midnight on a Monday, across
New Year's midnight onto a bank holiday, and on a summer night), with nobody booked twice.

The clock is injected; nothing here depends on the machine's date or hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clinicdesk.demo.clinic import DEMO_CLINIC, DEMO_PASSWORD, create_demo_clinic
from clinicdesk.demo.today import WANTED_WAITING
from clinicdesk.services.access import sign_in
from clinicdesk.services.booking import AppointmentView
from clinicdesk.services.queue import CALLED, WAITING, QueueService, QueueView
from tests.conftest import FAST_KDF

ZONE = ZoneInfo(DEMO_CLINIC.time_zone)
AROUND = timedelta(hours=3)
NOT_BOOKED = ("cancelled", "rejected")


pytestmark = pytest.mark.long  # builds a whole demo clinic


def local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=ZONE)


SATURDAY_NIGHT = local("2026-12-05T23:30")  # created then
# reused then, in this order
LATER = [
    pytest.param(local("2026-12-07T00:10"), id="monday-00:10"),
    pytest.param(local("2026-12-31T23:50"), id="new-years-eve-23:50"),
    pytest.param(local("2027-01-01T00:10"), id="new-years-day-00:10-a-bank-holiday"),
    pytest.param(datetime(2027, 6, 26, 23, 30, tzinfo=UTC), id="summer-saturday-23:30-utc"),
]


@dataclass
class Today:
    appointments: list[AppointmentView]  # dr.okafor's, today
    queue: list[QueueView]
    everyone: list[AppointmentView]  # every doctor's, today


def today_at(folder: Path, now: datetime) -> Today:
    session = sign_in(folder, "dr.okafor", DEMO_PASSWORD)
    try:
        actor = session.actor
        day = now.astimezone(ZONE).date()
        everyone = session.appointments.day(actor, day)
        doctor = next(d for d in session.schedule.doctors(actor) if d.user_id == actor.user_id)
        mine = [a for a in everyone if a.doctor_id == doctor.id]
        queue = QueueService(session.store, clock=lambda: now).board(actor, day)
        return Today(mine, queue, everyone)
    finally:
        session.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("demo-today") / "clinic"
    create_demo_clinic(folder, patients=40, kdf=FAST_KDF, now=SATURDAY_NIGHT)
    yield folder


def assert_a_working_day(today: Today, now: datetime) -> None:
    around = [a for a in today.appointments if abs(a.starts_at - now) <= AROUND]
    assert [a for a in around if a.status not in NOT_BOOKED], "nobody booked around now"
    assert any(q.status == WAITING for q in today.queue), "nobody waiting"
    assert any(q.status == CALLED for q in today.queue), "nobody with the doctor"
    assert_nobody_booked_twice(today)


def assert_nobody_booked_twice(today: Today) -> None:
    booked = [a for a in today.everyone if a.status not in NOT_BOOKED]
    for a, b in combinations(booked, 2):
        overlap = a.starts_at < b.ends_at and b.starts_at < a.ends_at
        assert not (overlap and a.doctor_id == b.doctor_id), (a, b)
        assert not (overlap and a.patient_id == b.patient_id), (a, b)
    queued = [q.patient_id for q in today.queue]
    assert len(queued) == len(set(queued)), "a patient queued twice"


def test_created_late_on_a_saturday_evening_the_day_has_been_seen_and_people_wait(demo):
    today = today_at(demo, SATURDAY_NIGHT)
    assert_a_working_day(today, SATURDAY_NIGHT)
    seen = [a for a in today.appointments if a.status == "completed"]
    assert seen and all(a.ends_at <= SATURDAY_NIGHT for a in seen)


@pytest.mark.parametrize("now", LATER)
def test_reused_on_a_later_day_today_is_topped_up(demo, now):
    created = create_demo_clinic(demo, patients=40, kdf=FAST_KDF, now=now)
    assert not created.created
    assert_a_working_day(today_at(demo, now), now)


def test_reopening_at_the_same_moment_books_nobody_twice(demo):
    now = SATURDAY_NIGHT
    before = today_at(demo, now)
    create_demo_clinic(demo, patients=40, kdf=FAST_KDF, now=now)
    after = today_at(demo, now)
    assert_nobody_booked_twice(after)
    assert {a.id for a in before.everyone} <= {a.id for a in after.everyone}
    assert len([q for q in after.queue if q.status == WAITING]) <= WANTED_WAITING

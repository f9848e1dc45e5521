"""Two desks as two real OS processes on one clinic folder: a slot is booked once, every time.

The parent creates the clinic and the practice with the usual fixtures and keeps its own session
open; each child (booking_child.py) signs in as the admin on the same folder, as a second
workstation would, and acts when the parent says: the parent sends both the same command with a
``go`` moment a few milliseconds ahead, and both spin until it, so they hit the database together.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from clinicdesk.scheduling.slots import cells
from clinicdesk.store.models import (
    Appointment,
    AuditEntry,
    DoctorTimeClaim,
    PatientTimeClaim,
    SlotHold,
)
from tests.desk_process import DeskProcess

CHILD = Path(__file__).with_name("booking_child.py")
ANSWER_TIMEOUT = 60  # seconds; the busy timeout of a write is 10


class Desk(DeskProcess):
    """One workstation (booking_child.py) signed in as the admin on ``folder``."""

    def __init__(self, folder: Path, name: str, log_dir: Path, password: str) -> None:
        super().__init__(
            CHILD,
            folder,
            name,
            log_dir,
            answer_timeout=ANSWER_TIMEOUT,
            env={"CLINICDESK_TEST_PASSWORD": password},
        )

    def send(self, **cmd) -> None:
        self.send_json(cmd)

    def answer(self) -> dict:
        answer = super().answer()
        if "exited" in answer and len(answer) == 1:
            raise AssertionError(
                f"{self.name} exited ({answer['exited']}):\n{self.log.read_text()}"
            )
        return answer

    def ask(self, **cmd) -> dict:
        self.send(**cmd)
        return self.answer()


@pytest.fixture
def admin_password(request: pytest.FixtureRequest) -> str:
    """ADMIN_PASSWORD of tests/conftest.py (``import conftest`` could find another one)."""
    root = Path(__file__).resolve().parent.parent / "conftest.py"
    for plugin in request.config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == root:
            return plugin.ADMIN_PASSWORD
    raise LookupError("tests/conftest.py is not loaded")


@pytest.fixture
def desks(practice, admin_password, tmp_path):
    """Two signed-in desks on the practice's clinic folder, in two processes."""
    folder = practice.session.folder
    pair = [Desk(folder, name, tmp_path, admin_password) for name in ("desk-a", "desk-b")]
    try:
        for desk in pair:
            ready = desk.answer()
            assert ready.get("ready"), ready
        assert pair[0].proc.pid != pair[1].proc.pid
        yield pair
    finally:
        for desk in pair:
            desk.stop()


def together(desks: list[Desk], commands: list[dict]) -> list[dict]:
    """Each desk gets its command; all act at one moment a little ahead; their answers."""
    go = time.time() + 0.02
    for desk, cmd in zip(desks, commands, strict=True):
        desk.send(go=go, **cmd)
    return [desk.answer() for desk in desks]


def one_winner(answers: list[dict]) -> int:
    """The index of the one desk that booked; the other was refused with SlotUnavailable."""
    won = [i for i, a in enumerate(answers) if a["ok"]]
    lost = [a for a in answers if not a["ok"]]
    assert len(won) == 1, answers
    assert [a["error"] for a in lost] == ["SlotUnavailable"], answers
    return won[0]


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_database(practice, expected: int) -> list[Appointment]:
    """Exactly ``expected`` appointments, no two overlapping, claims matching, audit intact."""
    s = practice.session
    with s.store.read() as db:
        rows = list(db.scalars(select(Appointment).order_by(Appointment.starts_at)))
        doctor_claims = list(db.scalars(select(DoctorTimeClaim)))
        patient_claims = list(db.scalars(select(PatientTimeClaim)))
        holds = list(db.scalars(select(SlotHold)))
        booked_in_audit = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "appointment.book")
        ).all()
    assert len(rows) == expected
    assert {r.status for r in rows} == {"confirmed"}
    assert len(booked_in_audit) == expected
    assert holds == []
    # the doctor's time, buffer included, never overlaps
    for prev, nxt in pairwise(rows):
        assert utc(prev.blocked_until) <= utc(nxt.starts_at), (prev.starts_at, nxt.starts_at)
    # and the claims are exactly the cells of each booking: one owner per (doctor, cell)
    want = Counter()
    for r in rows:
        for c in cells(utc(r.starts_at), utc(r.blocked_until)):
            want[(r.doctor_id, c, r.id)] += 1
    got = Counter((c.doctor_id, utc(c.cell), c.appointment_id) for c in doctor_claims)
    assert got == want
    assert all(c.hold_id is None for c in doctor_claims)
    want_patient = Counter(
        (r.patient_id, c, r.id) for r in rows for c in cells(utc(r.starts_at), utc(r.ends_at))
    )
    assert Counter((c.patient_id, utc(c.cell), c.appointment_id) for c in patient_claims) == (
        want_patient
    )
    report = s.audit.verify(s.actor)
    assert report.intact, report.problems
    return rows


def book(practice, patient: str, at: datetime, **extra) -> dict:
    return {
        "op": "book",
        "patient": patient,
        "doctor": practice.doctor_id,
        "service": practice.consultation_id,
        "at": at.isoformat(),
        **extra,
    }


# ---- the tests ----


@pytest.mark.long
@pytest.mark.slow
def test_two_processes_booking_the_same_slot_a_hundred_times(practice, desks):
    s = practice.session
    slots = s.appointments.free_slots(
        s.actor, practice.doctor_id, practice.consultation_id, practice.monday, days=14
    )
    assert len(slots) >= 100
    slots = slots[:100]
    patients = [practice.patient("Anna"), practice.patient("Bert")]
    wins: Counter[int] = Counter()
    refusals: Counter[str] = Counter()
    started = time.monotonic()
    for at in slots:
        answers = together(desks, [book(practice, p, at) for p in patients])
        winner = one_winner(answers)
        wins[winner] += 1
        refusals[answers[1 - winner]["message"].split(" (")[0]] += 1
        assert datetime.fromisoformat(answers[winner]["at"]) == at
    elapsed = time.monotonic() - started
    rows = check_database(practice, 100)
    assert [utc(r.starts_at) for r in rows] == slots
    by_patient = Counter(r.patient_id for r in rows)
    assert sum(by_patient.values()) == 100 and set(by_patient) <= set(patients)
    print(f"100 rounds in {elapsed:.1f} s; wins per desk {dict(wins)}; refusals {dict(refusals)}")


@pytest.mark.slow
def test_overlapping_starts_from_two_processes_one_wins(practice, desks):
    """Different start times whose appointments (or buffers) overlap: still only one."""
    anna, bert = practice.patient("Anna"), practice.patient("Bert")
    pairs = [("09:00", "09:10"), ("10:15", "10:00"), ("14:00", "14:20"), ("15:40", "15:20")]
    rounds = 0
    for week_day in range(5):
        day = practice.monday + timedelta(days=week_day)
        for first, second in pairs:
            answers = together(
                desks,
                [
                    book(practice, anna, practice.at(day, first)),
                    book(practice, bert, practice.at(day, second)),
                ],
            )
            one_winner(answers)
            rounds += 1
    check_database(practice, rounds)


@pytest.mark.slow
def test_a_hold_in_one_process_blocks_the_other_until_it_lapses(practice, desks):
    holder, other = desks
    anna, bert = practice.patient("Anna"), practice.patient("Bert")
    ten = practice.at(practice.monday, "10:15")
    ten_ten = practice.at(practice.monday, "10:25")  # inside the held 10:15-10:40
    base = {"doctor": practice.doctor_id, "service": practice.consultation_id}

    held = holder.ask(op="hold", at=ten.isoformat(), minutes=5, **base)
    assert held["ok"], held
    free = other.ask(op="free", day=practice.monday.isoformat(), **base)
    assert ten.isoformat() not in free["slots"]
    for at in (ten, ten_ten):
        refused = other.ask(**book(practice, bert, at))
        assert refused["error"] == "SlotUnavailable", refused
        assert "holding that time" in refused["message"]
    # also at the same moment as the holder books into its own hold: the holder wins
    answers = together(
        desks, [book(practice, anna, ten, hold=held["hold"]), book(practice, bert, ten)]
    )
    assert one_winner(answers) == 0

    # a second hold lapses: six minutes later (by the other desk's clock) the time is free
    two = practice.at(practice.monday, "14:00")
    held = holder.ask(op="hold", at=two.isoformat(), minutes=5, **base)
    assert held["ok"], held
    refused = other.ask(**book(practice, bert, two, clock_minutes=4))
    assert refused["error"] == "SlotUnavailable" and "holding" in refused["message"]
    lapsed = other.ask(**book(practice, bert, two, clock_minutes=6))
    assert lapsed["ok"], lapsed
    late = holder.ask(**book(practice, anna, two, hold=held["hold"]))
    assert late["error"] == "SlotUnavailable" and "already booked" in late["message"]

    # a released hold frees the time at once
    three = practice.at(practice.monday, "15:40")
    held = holder.ask(op="hold", at=three.isoformat(), minutes=5, **base)
    assert other.ask(**book(practice, bert, three))["error"] == "SlotUnavailable"
    assert holder.ask(op="release", hold=held["hold"])["ok"]
    assert other.ask(**book(practice, bert, three))["ok"]

    check_database(practice, 3)

"""Background jobs: run as the system actor, failures kept in words, each period's work done
once even when two desks (two OS processes) run the same job at the same moment."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from clinicdesk.errors import StoreError
from clinicdesk.jobs import CLINIC_JOBS, Job, JobRunner
from clinicdesk.store.models import AppointmentEvent, AuditEntry, JobRun
from tests.desk_process import DeskProcess
from tests.scheduling.test_concurrent_booking import admin_password  # noqa: F401 (a fixture)

CHILD = Path(__file__).with_name("jobs_child.py")


def booked_and_late(practice, names=("Anna", "Ben")):
    """Confirmed appointments on Monday morning, and a moment past their grace period."""
    s = practice.session
    s.schedule.set_booking_rules(s.actor, needs_approval=False, no_show_after_minutes=15)
    ids = [
        s.appointments.book(
            s.actor,
            practice.patient(name),
            practice.doctor_id,
            practice.consultation_id,
            practice.at(practice.monday, f"{9 + i:02d}:00"),
        ).id
        for i, name in enumerate(names)
    ]
    return ids, practice.at(practice.monday, "12:00")


def test_the_no_show_job_acts_as_the_system_not_the_signed_in_user(practice):
    ids, late = booked_and_late(practice)
    runner = JobRunner(practice.session.store, CLINIC_JOBS, clock=lambda: late)
    assert runner.run("no_shows") is True
    assert runner.failures() == []
    s = practice.session
    for appointment_id in ids:
        last = s.appointments.history(s.actor, appointment_id)[-1]
        assert (last.to_status, last.by) == ("no_show", "ClinicDesk")
    with s.store.read() as db:
        actors = db.scalars(
            select(AuditEntry.actor_id)
            .where(AuditEntry.entity_id.in_(ids))
            .order_by(AuditEntry.seq.desc())
            .limit(2)
        ).all()
    assert actors == [None, None]  # the system actor has no user id
    assert runner.run("no_shows") is False  # the same minute again: already done


def test_a_failing_job_is_kept_in_words_and_the_next_period_runs_again(practice):
    tries: list[int] = []

    def broken(_s, _actor, _now):
        tries.append(1)
        raise StoreError("The clinic's data folder cannot be written to.")

    job = Job("broken", "The reminder run", timedelta(minutes=5), broken)
    heard = []
    runner = JobRunner(practice.session.store, (job,))
    runner.on_failure(heard.append)
    assert runner.run("broken") is None
    [failure] = runner.failures()
    assert heard == [failure]
    assert failure.error_type == "StoreError"
    assert failure.message == (
        "The reminder run did not run (The clinic's data folder cannot be written to); "
        "it will try again in 5 minutes."
    )
    with practice.session.store.read() as db:  # a failed run claims nothing: it is retried
        assert db.scalars(select(JobRun).where(JobRun.job == "broken")).all() == []
    assert runner.run("broken") is None
    assert len(tries) == 2 and len(runner.failures()) == 2


def test_two_desks_running_the_no_show_job_at_once_mark_each_no_show_once(
    practice,
    admin_password,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    ids, late = booked_and_late(practice, ("Anna", "Ben", "Carla"))
    folder = practice.session.folder
    env = {"CLINICDESK_TEST_PASSWORD": admin_password}
    desks = [
        DeskProcess(CHILD, folder, name, tmp_path, answer_timeout=60, env=env)
        for name in ("desk-a", "desk-b")
    ]
    try:
        for desk in desks:
            assert desk.answer().get("ready"), desk.log.read_text()
        go = time.time() + 0.05
        for desk in desks:
            desk.send_json({"op": "run", "job": "no_shows", "at": late.isoformat(), "go": go})
        answers = [desk.answer() for desk in desks]
    finally:
        for desk in desks:
            desk.stop()
    assert sorted(a["did"] for a in answers) == [False, True], answers
    assert all(a["failures"] == [] for a in answers)
    with practice.session.store.read() as db:
        runs = db.scalars(select(JobRun).where(JobRun.job == "no_shows")).all()
        marked = db.scalars(
            select(AppointmentEvent.appointment_id).where(AppointmentEvent.to_status == "no_show")
        ).all()
    assert len(runs) == 1
    assert sorted(marked) == sorted(ids)  # each once


def test_a_daily_jobs_failure_says_when_it_runs_again_in_days_not_minutes(practice):
    def broken(_s, _actor, _now):
        raise RuntimeError("disk gone")

    runner = JobRunner(
        practice.session.store, (Job("backup", "The daily backup", timedelta(days=1), broken),)
    )
    runner.run("backup")
    [failure] = runner.failures()
    assert failure.error_type == "RuntimeError"
    assert failure.message == (
        "The daily backup did not run (an unexpected error); it will try again in a day."
    )

"""Periodic jobs on an APScheduler background thread, as the system actor.

Each run is one unit of work: it first claims the job's current period in ``job_runs`` and does
the job's work in the same transaction, so when several desks run the jobs on one database each
period's work is done once (the others find the claim taken and do nothing), and a run that
fails claims nothing, so the next tick, here or at another desk, does it again.

A failure is logged by type (never with patient data) and kept, in words, in a short list of
recent failures that the desk shows; listeners are told on the scheduler's thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from clinicdesk.errors import ClinicDeskError
from clinicdesk.ids import utcnow
from clinicdesk.jobs.claims import claim, period_start
from clinicdesk.listeners import Listeners
from clinicdesk.logs import crash_summary, log
from clinicdesk.permissions import SYSTEM, Actor
from clinicdesk.store.database import Store
from clinicdesk.store.desk import this_desk

RECENT_FAILURES = 50


@dataclass(frozen=True)
class Job:
    """``work`` is done inside the claiming transaction, whose ``info["store"]`` is the store.

    ``period`` gives the start of the period due now (None: nothing is due) for a job whose
    periods follow a setting, such as the daily backup at the hour the clinic chose; by default
    the periods are ``every`` long and the job runs in each of them.
    """

    name: str  # the key of its runs in job_runs
    title: str  # what staff read: "The no-show check"
    every: timedelta
    work: Callable[[Session, Actor, datetime], object]
    period: Callable[[Session, datetime], datetime | None] | None = None


@dataclass(frozen=True)
class JobFailure:
    job: str
    at: datetime
    error_type: str
    message: str  # a whole sentence for staff


FailureListener = Callable[[JobFailure], None]


class JobRunner:
    def __init__(
        self,
        store: Store,
        jobs: tuple[Job, ...],
        clock: Callable[[], datetime] = utcnow,
        desk: Callable[[], str] = this_desk,
    ) -> None:
        self.store = store
        self.jobs = {job.name: job for job in jobs}
        self.clock = clock
        self._desk = desk
        self._failures: deque[JobFailure] = deque(maxlen=RECENT_FAILURES)
        self._listeners: Listeners[JobFailure] = Listeners("job failure")
        self._lock = Lock()
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        """Run every job now and then once per its period, until ``stop``."""
        if self._scheduler is not None:
            return
        scheduler = BackgroundScheduler(timezone="UTC")
        for job in self.jobs.values():
            scheduler.add_job(
                self.run,
                IntervalTrigger(seconds=job.every.total_seconds(), timezone="UTC"),
                args=[job.name],
                id=job.name,
                next_run_time=utcnow(),
                max_instances=1,
                coalesce=True,
            )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        """Stop the schedule and wait for a run in progress to end (before the store closes)."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def run(self, name: str) -> bool | None:
        """One run of job ``name`` for the current period: True if this desk did the work,
        False if the period was already done, None if it failed (the failure is kept)."""
        job = self.jobs[name]
        try:
            now = self.clock()
            with self.store.write(SYSTEM) as s:
                start = job.period(s, now) if job.period else period_start(now, job.every)
                if start is None or not claim(s, job.name, start, self._desk()):
                    return False
                s.info["store"] = self.store
                job.work(s, SYSTEM, now)
            return True
        except Exception as exc:  # every failure is kept and told, none dropped
            self._failed(job, exc)
            return None

    def failures(self) -> list[JobFailure]:
        """The recent failures, newest first."""
        with self._lock:
            return list(reversed(self._failures))

    def on_failure(self, listener: FailureListener) -> None:
        self._listeners.subscribe(listener)

    def _failed(self, job: Job, exc: Exception) -> None:
        log.warning("job %s failed: %s", job.name, crash_summary(exc))
        why = exc.message if isinstance(exc, ClinicDeskError) else "an unexpected error"
        failure = JobFailure(
            job.name,
            utcnow(),
            type(exc).__name__,
            f"{job.title} did not run ({why.rstrip('.')}); it will try again "
            f"in {_span(job.every)}.",
        )
        with self._lock:
            self._failures.append(failure)
        self._listeners.publish(failure)


def _span(every: timedelta) -> str:
    """``every`` in words: "a minute", "5 minutes", "an hour", "a day"."""
    minutes = round(every.total_seconds() / 60)
    for size, one, unit in (
        (24 * 60, "a day", "days"),
        (60, "an hour", "hours"),
        (1, "a minute", "minutes"),
    ):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return one if count == 1 else f"{count} {unit}"
    return "a moment" if minutes < 1 else f"{minutes} minutes"

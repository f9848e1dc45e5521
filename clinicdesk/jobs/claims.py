"""Claiming a period's run of a job in the database, so two desks never both do it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from clinicdesk.ids import utcnow
from clinicdesk.store.models import JobRun

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_start(now: datetime, every: timedelta) -> datetime:
    """The start of the period of length ``every`` that holds ``now`` (periods count from the
    epoch, so every desk cuts time the same way whatever its start time)."""
    return EPOCH + every * ((now - EPOCH) // every)


def claim(s: Session, job: str, start: datetime, desk: str) -> bool:
    """Insert the run of ``job`` for the period starting at ``start``, in ``s``'s transaction;
    False when another desk (or an earlier run here) already holds it."""
    row = {"job": job, "period_start": start, "desk": desk, "ran_at": utcnow()}
    done = s.execute(insert(JobRun).values(row).on_conflict_do_nothing())
    return done.rowcount == 1

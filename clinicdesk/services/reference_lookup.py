"""Finding a prescription by its typed reference number, with guessing slowed down.

A reference number is all a person needs to read a prescription at the counter, so a wrong one
is recorded in the audit log, and after FREE_FAILURES wrong ones within WINDOW by one user, each
further look-up by that user waits, longer after every failure. The count is read from the
audit log itself, so it survives a restart and holds across desks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import LookupsPaused
from clinicdesk.permissions import Actor
from clinicdesk.store import audit
from clinicdesk.store.models import AuditEntry, Prescription

FAILED = "prescription.lookup_failed"
WINDOW = timedelta(minutes=10)
FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=15)
LONGEST_WAIT = timedelta(minutes=10)


def find_by_reference(s: Session, actor: Actor, number: str, now: datetime) -> Prescription | None:
    """This clinic's prescription with ``number`` (check digits already checked), or None with
    the failure recorded; raises LookupsPaused, recording nothing, while a wait runs."""
    failures = _recent_failures(s, actor, now)
    if len(failures) >= FREE_FAILURES:
        wait = min(FIRST_WAIT * 2 ** (len(failures) - FREE_FAILURES), LONGEST_WAIT)
        until = failures[0] + wait
        if until > now:
            raise LookupsPaused(len(failures), int((until - now).total_seconds()) + 1)
    row = s.scalar(select(Prescription).where(Prescription.reference == number))
    if row is None:
        audit.append(s, actor, FAILED, "prescriptions", None, reference=number)
    return row


def _recent_failures(s: Session, actor: Actor, now: datetime) -> list[datetime]:
    """When ``actor``'s failed look-ups within WINDOW happened, newest first. The log is read
    backwards from its newest entry and only as far as the window reaches."""
    since = now - WINDOW
    newest_first = select(AuditEntry.at, AuditEntry.action, AuditEntry.actor_id).order_by(
        AuditEntry.seq.desc()
    )
    found = []
    for at, action, actor_id in s.execute(newest_first.execution_options(yield_per=256)):
        if at < since:
            break
        if action == FAILED and actor_id == actor.user_id:
            found.append(at)
    return found

"""The no-show check: confirmed appointments past their grace period become no-shows."""

from __future__ import annotations

from datetime import timedelta

from clinicdesk.jobs.runner import Job
from clinicdesk.services.appointments import mark_no_shows

NO_SHOWS = Job(
    name="no_shows",
    title="The no-show check",
    every=timedelta(minutes=1),
    work=mark_no_shows,
)

"""Background work: periodic jobs run as the system actor, each period's work done once across
every desk on the clinic's database (see ``runner.py``)."""

from clinicdesk.jobs.backups import BACKUPS
from clinicdesk.jobs.no_shows import NO_SHOWS
from clinicdesk.jobs.runner import Job, JobFailure, JobRunner

__all__ = ["BACKUPS", "CLINIC_JOBS", "NO_SHOWS", "Job", "JobFailure", "JobRunner"]

CLINIC_JOBS = (NO_SHOWS, BACKUPS)

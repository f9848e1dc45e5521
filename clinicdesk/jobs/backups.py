"""The daily backup: at the time of day the clinic chose (on its clock), an encrypted, verified
backup into the chosen folder; scheduled backups of this clinic older than the days they are
kept are deleted from that folder (manual ones, and other clinics' files, never).

A day's backup missed because no desk was open is made as soon as one opens. The backup is
written while the job's claim holds the database's write lock, so other desks' changes wait
for it (a few seconds for a clinic's database) rather than land between the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import ClinicDeskError
from clinicdesk.jobs.runner import Job
from clinicdesk.permissions import Actor
from clinicdesk.services.backups import SCHEDULED_PREFIX, record, schedule_in
from clinicdesk.services.clinic import clinic_profile
from clinicdesk.store import audit
from clinicdesk.store.backup import SUFFIX, create_backup, read_manifest
from clinicdesk.store.database import Store
from clinicdesk.store.files import private_dir, refuse_inside
from clinicdesk.store.keyslots import SLOTS_FILE
from clinicdesk.store.locks import exclusive
from clinicdesk.store.models import BackupRecord


def due(s: Session, now: datetime) -> datetime | None:
    """The latest scheduled moment at or before ``now`` (None while the schedule is off)."""
    clinic = clinic_profile(s)
    if not clinic.backup_daily:
        return None
    zone = ZoneInfo(clinic.time_zone)
    at = time(clinic.backup_at_minute // 60, clinic.backup_at_minute % 60)
    today = now.astimezone(zone).date()
    moment = datetime.combine(today, at, tzinfo=zone).astimezone(UTC)
    if moment > now:
        moment = datetime.combine(today - timedelta(days=1), at, tzinfo=zone).astimezone(UTC)
    return moment


def back_up(s: Session, actor: Actor, now: datetime) -> None:
    store: Store = s.info["store"]
    plan = schedule_in(s, store.folder)
    folder = Path(plan.folder)
    refuse_inside(folder, store.folder)
    private_dir(folder)
    dest = folder / f"{SCHEDULED_PREFIX}{now:%Y%m%d-%H%M%S}{SUFFIX}"
    with exclusive(store.folder / SLOTS_FILE):  # no key change between the pages and key file
        assert store.key is not None
        info = create_backup(store, store.key, dest)
    record(s, info, now, None)
    audit.append(s, actor, "data.backup", "clinic", None, file=dest.name, scheduled=True)
    _prune(s, actor, folder, info.clinic_id, now - timedelta(days=plan.keep_days), now)


def _prune(
    s: Session, actor: Actor, folder: Path, clinic_id: str, before: datetime, now: datetime
) -> None:
    """Delete this clinic's scheduled backups in ``folder`` made before ``before``: only files
    it recorded, and only if their manifest names this clinic."""
    old = s.scalars(
        select(BackupRecord).where(
            BackupRecord.made_by.is_(None),
            BackupRecord.removed_at.is_(None),
            BackupRecord.made_at < before,
        )
    )
    for row in old:
        path = Path(row.path)
        if path.parent != folder or not path.name.startswith(SCHEDULED_PREFIX):
            continue
        try:
            ours = read_manifest(path)["clinic_id"] == clinic_id
        except (ClinicDeskError, OSError):  # gone, or not a backup: leave it
            ours = False
        if ours:
            path.unlink(missing_ok=True)
            row.removed_at = now
            audit.append(s, actor, "data.backup_prune", "clinic", None, file=path.name)


BACKUPS = Job(
    name="backup",
    title="The scheduled backup",
    every=timedelta(minutes=5),
    work=back_up,
    period=due,
)

"""The backups a clinic made (from the Backups screen or on its schedule) and the schedule of
its daily backup. The scheduled backup itself is a job: ``clinicdesk/jobs/backups.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import ValidationError
from clinicdesk.permissions import Actor, P
from clinicdesk.services.clinic import clinic_profile
from clinicdesk.store import audit
from clinicdesk.store.backup import BackupInfo
from clinicdesk.store.database import Store
from clinicdesk.store.files import InsideDataFolder, refuse_inside
from clinicdesk.store.models import BackupRecord

SCHEDULED_PREFIX = "clinicdesk-scheduled-"


@dataclass(frozen=True)
class BackupSchedule:
    daily: bool
    at_minute: int  # on the clinic's clock, minutes after midnight
    folder: str
    keep_days: int  # older scheduled backups in the folder are deleted


@dataclass(frozen=True)
class BackupView:
    made_at: datetime
    path: str
    size: int
    made_by: str | None  # None: made on the schedule
    verified: bool
    removed_at: datetime | None  # deleted after the days scheduled backups are kept
    present: bool  # the file is still where it was written (as this computer sees it)


def default_folder(data_folder: Path) -> Path:
    """Beside the data folder, never inside it, until the admin chooses another."""
    return data_folder.parent / "ClinicDesk backups"


def schedule_in(s: Session, data_folder: Path) -> BackupSchedule:
    clinic = clinic_profile(s)
    folder = clinic.backup_folder or str(default_folder(data_folder))
    return BackupSchedule(
        clinic.backup_daily, clinic.backup_at_minute, folder, clinic.backup_keep_days
    )


def record(s: Session, info: BackupInfo, made_at: datetime, made_by: str | None) -> None:
    """Keep a backup just written (and read back and checked by ``create_backup``)."""
    s.add(
        BackupRecord(
            made_at=made_at,
            path=str(info.path),
            size=info.size,
            made_by=made_by,
            verified=True,
        )
    )


class BackupService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def history(self, actor: Actor, limit: int = 200) -> list[BackupView]:
        """The newest backups first."""
        actor.require(P.BACKUP)
        with self.store.read() as s:
            rows = s.scalars(
                select(BackupRecord).order_by(BackupRecord.made_at.desc()).limit(limit)
            ).all()
        return [
            BackupView(
                r.made_at,
                r.path,
                r.size,
                r.made_by,
                r.verified,
                r.removed_at,
                r.removed_at is None and Path(r.path).is_file(),
            )
            for r in rows
        ]

    def schedule(self, actor: Actor) -> BackupSchedule:
        actor.require(P.BACKUP)
        with self.store.read() as s:
            return schedule_in(s, self.store.folder)

    def set_schedule(self, actor: Actor, plan: BackupSchedule) -> BackupSchedule:
        actor.require(P.BACKUP)
        folder = plan.folder.strip()
        problems = {
            "at_minute": None if 0 <= plan.at_minute < 24 * 60 else "must be a time of day",
            "keep_days": None if 1 <= plan.keep_days <= 3650 else "must be 1 to 3650 days",
            "folder": None if folder else "is required",
        }
        if folder:
            try:
                refuse_inside(Path(folder).expanduser(), self.store.folder)
            except InsideDataFolder as inside:
                problems["folder"] = inside.message
        if problems := {k: v for k, v in problems.items() if v}:
            raise ValidationError(problems)
        with self.store.write(actor) as s:
            clinic = clinic_profile(s)
            clinic.backup_daily = plan.daily
            clinic.backup_at_minute = plan.at_minute
            clinic.backup_folder = str(Path(folder).expanduser())
            clinic.backup_keep_days = plan.keep_days
            audit.append(
                s,
                actor,
                "clinic.backup_schedule",
                "clinic",
                clinic.id,
                daily=plan.daily,
                at_minute=plan.at_minute,
                keep_days=plan.keep_days,
            )
            return schedule_in(s, self.store.folder)

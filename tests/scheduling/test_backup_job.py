"""The daily backup job: a real encrypted backup into the chosen folder, old scheduled ones of
this clinic deleted, done once per day however many desks are open."""

from __future__ import annotations

import zipfile
from datetime import timedelta

from clinicdesk.ids import utcnow
from clinicdesk.jobs import BACKUPS, JobRunner
from clinicdesk.services.access import sign_in
from clinicdesk.services.backups import BackupSchedule
from clinicdesk.store import backup
from clinicdesk.store.database import DB_FILE
from clinicdesk.store.models import ClinicProfile
from tests.conftest import ADMIN_PASSWORD


def test_the_daily_backup_is_encrypted_kept_once_and_old_ones_are_deleted(admin, tmp_path):
    folder = tmp_path / "usb" / "backups"
    admin.backups.set_schedule(admin.actor, BackupSchedule(True, 19 * 60, str(folder), 7))
    now = utcnow()
    earlier = now - timedelta(days=40)
    desk_a = JobRunner(admin.store, (BACKUPS,), clock=lambda: earlier, desk=lambda: "a")
    assert desk_a.run("backup") is True, desk_a.failures()
    (old,) = folder.glob("*.cdbak")

    other = sign_in(admin.folder, "admin", ADMIN_PASSWORD)  # a second desk on the same data
    try:
        desk_b = JobRunner(other.store, (BACKUPS,), clock=lambda: earlier, desk=lambda: "b")
        assert desk_b.run("backup") is False  # that day's backup is already made
    finally:
        other.close()
    assert list(folder.glob("*.cdbak")) == [old]

    stray = folder / "clinicdesk-scheduled-not-ours.cdbak"
    stray.write_bytes(b"not a backup this clinic recorded")
    manual = admin.backup(folder)
    desk_a.clock = lambda: now
    assert desk_a.run("backup") is True, desk_a.failures()
    assert not old.exists()
    (new,) = [p for p in folder.glob("clinicdesk-scheduled-2*.cdbak")]
    assert stray.exists() and manual.path.exists()

    assert backup.read_manifest(new)["clinic_id"] == admin.slots.clinic_id
    with zipfile.ZipFile(new) as zf:
        assert not zf.read(DB_FILE).startswith(b"SQLite format 3")  # encrypted
    staging = tmp_path / "opened"
    backup.extract(new, staging)
    backup.check_database(staging / DB_FILE, admin.store.key)

    by_path = {r.path: r for r in admin.backups.history(admin.actor)}
    assert len(by_path) == 3
    made = by_path[str(new)]
    assert (made.made_by, made.verified, made.present, made.removed_at) == (None, True, True, None)
    assert by_path[str(manual.path)].made_by == admin.actor.display_name
    assert by_path[str(old)].removed_at is not None and not by_path[str(old)].present


def test_a_backup_that_cannot_be_written_is_a_job_failure_in_words(admin):
    inside = admin.folder / "backups-inside"
    with admin.store.write(admin.actor) as s:  # as a hand-edited setting would be
        s.query(ClinicProfile).one().backup_folder = str(inside)
    runner = JobRunner(admin.store, (BACKUPS,), desk=lambda: "a")
    assert runner.run("backup") is None
    (failure,) = runner.failures()
    assert failure.message.startswith("The scheduled backup did not run (")
    assert "inside the clinic's data folder" in failure.message
    assert failure.message.endswith("it will try again in 5 minutes.")
    assert admin.backups.history(admin.actor) == []
    assert not inside.exists()

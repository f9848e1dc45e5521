"""A backup is a new file outside the clinic's data folder: it never replaces anything."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from clinicdesk.errors import StoreError
from clinicdesk.services.access import sign_in
from clinicdesk.store.database import DB_FILE
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import ADMIN_PASSWORD
from tests.faults.cli_runner import assert_refused_with_a_sentence, run_cli


def _digests(folder: Path) -> dict[str, str]:
    """The clinic's own files (the database's bytes change at every sign-in, so it is checked
    for being still a database rather than a backup written over it)."""
    return {
        SLOTS_FILE: hashlib.sha256((folder / SLOTS_FILE).read_bytes()).hexdigest(),
        DB_FILE: str(zipfile.is_zipfile(folder / DB_FILE)),
    }


@pytest.mark.parametrize(
    "inside", [DB_FILE, SLOTS_FILE, ".", "backups", "backups/mine.cdbak", "new/x.cdbak"]
)
def test_backup_into_the_data_folder_is_refused_and_the_clinic_still_opens(
    clinic_dir, monkeypatch, capsys, inside
):
    folder = clinic_dir[0]
    (folder / "backups").mkdir(exist_ok=True)
    before = _digests(folder)
    ran = run_cli(
        monkeypatch,
        capsys,
        "backup",
        str(folder / inside),
        "--data-dir",
        str(folder),
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert_refused_with_a_sentence(ran, "data folder")
    assert _digests(folder) == before
    assert not list(folder.rglob("*.cdbak")) and not (folder / "new").exists()
    sign_in(folder, "admin", ADMIN_PASSWORD).close()


def test_backup_never_overwrites_an_existing_file(admin, monkeypatch, capsys, tmp_path: Path):
    earlier = admin.backup(tmp_path / "monday.cdbak").path
    kept = earlier.read_bytes()
    ran = run_cli(
        monkeypatch,
        capsys,
        "backup",
        str(earlier),
        "--data-dir",
        str(admin.folder),
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert_refused_with_a_sentence(ran, "already exists")
    assert earlier.read_bytes() == kept
    with pytest.raises(StoreError, match="already exists"):
        admin.backup(earlier)
    assert earlier.read_bytes() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic", "monday.cdbak"]


def test_backup_through_a_link_into_the_data_folder_is_refused(admin, tmp_path: Path):
    link = tmp_path / "looks-like-a-stick"
    link.symlink_to(admin.folder, target_is_directory=True)
    with pytest.raises(StoreError, match="data folder"):
        admin.backup(link / "x.cdbak")
    assert not list(admin.folder.glob("x.cdbak"))


def test_exports_never_land_in_the_data_folder(admin):
    keyslots = (admin.folder / SLOTS_FILE).read_bytes()
    with pytest.raises(StoreError, match="data folder"):
        admin.save_export(admin.folder / SLOTS_FILE, b"date,drug\n")
    with pytest.raises(StoreError, match="data folder"):
        admin.signing_keys.export_trust_file(admin.actor, admin.folder / SLOTS_FILE)
    assert (admin.folder / SLOTS_FILE).read_bytes() == keyslots
    sign_in(admin.folder, "admin", ADMIN_PASSWORD).close()

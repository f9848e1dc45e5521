"""Restoring is what a clinic does when its key file is lost or damaged: it must work then."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from clinicdesk.services.access import sign_in
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import ADMIN_PASSWORD
from tests.faults.cli_runner import Ran, assert_refused_with_a_sentence, run_cli

KEY_FILE_DAMAGE = {
    "missing": None,
    "cut short": lambda text: text[: len(text) // 2],
    "a list": lambda text: "[]",
    "no slots": lambda text: json.dumps({**json.loads(text), "slots": []}),
}


@pytest.fixture
def good_backup(admin, tmp_path: Path) -> Path:
    return admin.backup(tmp_path / "good.cdbak").path


def _damage(folder: Path, how: str) -> None:
    keyfile = folder / SLOTS_FILE
    change = KEY_FILE_DAMAGE[how]
    if change is None:
        keyfile.unlink()
    else:
        keyfile.write_text(change(keyfile.read_text()))


def _restore_as_admin(monkeypatch, capsys, backup: Path, folder: Path, password: str) -> Ran:
    return run_cli(
        monkeypatch,
        capsys,
        "restore",
        str(backup),
        "--user",
        "admin",
        "--data-dir",
        str(folder),
        stdin=password + "\n",
    )


@pytest.mark.parametrize("how", KEY_FILE_DAMAGE)
def test_restore_with_a_users_password_works_when_the_key_file_is_damaged(
    clinic_dir, good_backup, monkeypatch, capsys, how
):
    folder = clinic_dir[0]
    _damage(folder, how)
    ran = _restore_as_admin(monkeypatch, capsys, good_backup, folder, ADMIN_PASSWORD)
    assert ran.code == 0, ran.err
    assert "backup's own key file was used" in ran.out
    assert "unlocked with the password admin had when the backup was made" in ran.out
    assert "kept in" in ran.out  # the damaged file and the database it sat beside, kept aside
    sign_in(folder, "admin", ADMIN_PASSWORD).close()


def test_restore_with_the_recovery_key_works_when_the_key_file_is_missing(
    clinic_dir, good_backup, monkeypatch, capsys
):
    folder, setup = clinic_dir
    _damage(folder, "missing")
    ran = run_cli(
        monkeypatch,
        capsys,
        "restore",
        str(good_backup),
        "--data-dir",
        str(folder),
        stdin=setup.recovery_key.lower() + "\n",
    )
    assert ran.code == 0, ran.err
    assert "missing" in ran.out and "unlocked with the recovery key" in ran.out
    sign_in(folder, "admin", ADMIN_PASSWORD).close()


def test_a_wrong_password_still_changes_nothing_when_the_key_file_is_damaged(
    clinic_dir, good_backup, monkeypatch, capsys
):
    folder = clinic_dir[0]
    _damage(folder, "cut short")
    damaged = (folder / SLOTS_FILE).read_bytes()
    ran = _restore_as_admin(monkeypatch, capsys, good_backup, folder, "not the password")
    assert ran.code == 2 and "password is not correct" in ran.err
    assert (folder / SLOTS_FILE).read_bytes() == damaged
    assert not list(folder.glob(".restore-*"))


def _repacked(src: Path, dest: Path, name: str, content: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for member in zin.namelist():
            zout.writestr(member, content if member == name else zin.read(member))
    return dest


@pytest.mark.parametrize(
    ("member", "content", "words"),
    [
        (SLOTS_FILE, b"[]", "key file inside the backup"),
        (SLOTS_FILE, b'{"format": "clinicdesk-keyslots/1", "clinic_id": 5}', "clinic id"),
        ("manifest.json", b"[1, 2]", "not a ClinicDesk backup"),
        ("manifest.json", b'{"format": "clinicdesk-backup/1", "sha256": 7}', "manifest"),
    ],
)
def test_a_backup_with_damaged_insides_is_refused_in_words(
    clinic_dir, good_backup, tmp_path, monkeypatch, capsys, member, content, words
):
    folder = clinic_dir[0]
    keyfile = (folder / SLOTS_FILE).read_bytes()
    bad = _repacked(good_backup, tmp_path / "bad.cdbak", member, content)
    ran = _restore_as_admin(monkeypatch, capsys, bad, folder, ADMIN_PASSWORD)
    assert_refused_with_a_sentence(ran, words)
    assert (folder / SLOTS_FILE).read_bytes() == keyfile
    assert not list(folder.glob(".restore-*"))

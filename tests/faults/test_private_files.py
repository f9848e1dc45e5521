"""Everything ClinicDesk writes that holds patient data or wrapped keys is 0600 in 0700 folders,
whatever the umask: the data folder, backups, a restore onto a new PC, exports and the log."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from clinicdesk.errors import WrongPassword
from clinicdesk.logs import configure as configure_log
from clinicdesk.services.access import AdminAccount, create_clinic, restore, sign_in
from clinicdesk.services.patients import PatientInput
from tests.conftest import ADMIN_PASSWORD, DETAILS, FAST_KDF
from tests.faults.cli_runner import run_cli


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Most desktops run with umask 022: what is not made private explicitly is world-readable."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _modes(root: Path) -> dict[str, str]:
    """Each file and folder under ``root`` (and root itself) whose mode is not private."""
    wrong = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            wrong[str(path.relative_to(root.parent))] = oct(mode)
    return wrong


def test_a_whole_workflow_writes_only_private_files(
    usual_umask, tmp_path: Path, monkeypatch, capsys
):
    folder = tmp_path / "data" / "ClinicDesk"
    setup = create_clinic(
        folder, DETAILS, AdminAccount("admin", "Ada Admin", ADMIN_PASSWORD), kdf=FAST_KDF
    )
    configure_log(folder)
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        session.patients.register(
            session.actor,
            PatientInput("Maria", "Okafor", date(1980, 5, 1), "female"),
            not_a_duplicate=True,
        )
        stick = tmp_path / "stick" / "ClinicDesk backups"
        from_screen = session.backup(stick, make_folder=True)  # the Backups screen's call
        exported = session.save_export(tmp_path / "history.csv", b"patient\nMaria\n")
    finally:
        session.close()
    with pytest.raises(WrongPassword):
        sign_in(folder, "admin", "a wrong password")  # the lockout count goes to signin.json
    (tmp_path / "cli").mkdir(mode=0o700)
    ran = run_cli(
        monkeypatch,
        capsys,
        "backup",
        str(tmp_path / "cli" / "nightly.cdbak"),
        "--data-dir",
        str(folder),
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert ran.code == 0, ran.err
    replacement = tmp_path / "new-pc" / "home" / "ClinicDesk"  # not there yet
    restore(from_screen.path, replacement, None, setup.recovery_key)
    restore(from_screen.path, folder, "admin", ADMIN_PASSWORD)  # keeps the replaced data aside

    assert (folder / "signin.json").exists() and (folder / "logs" / "clinicdesk.log").exists()
    assert list((folder / "backups").glob("replaced-*/clinic.db"))
    wrong = {}
    for root in (folder, stick, tmp_path / "cli", replacement, tmp_path / "new-pc"):
        wrong |= _modes(root)
    assert wrong == {}
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600


def test_opening_a_clinic_made_by_an_older_version_makes_its_files_private(usual_umask, clinic_dir):
    folder = clinic_dir[0]
    (folder / "backups").mkdir(exist_ok=True)
    (folder / "backups" / "old.cdbak").write_bytes(b"an older backup")
    for path in [folder, *folder.rglob("*")]:  # as an older version left them
        path.chmod(0o755 if path.is_dir() else 0o644)

    sign_in(folder, "admin", ADMIN_PASSWORD).close()

    assert _modes(folder) == {}

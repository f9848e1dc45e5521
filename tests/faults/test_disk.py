"""A full disk or a read-only data folder: a clear error, nothing half-saved, data intact after.

Uses a small tmpfs mounted for the test (needs root or CAP_SYS_ADMIN; skipped otherwise).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from clinicdesk.errors import StorageFull, StorageReadOnly
from clinicdesk.permissions import Role
from clinicdesk.services.access import AdminAccount, create_clinic, restore, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import ADMIN_PASSWORD, DETAILS, FAST_KDF

SIZE = "4m"


class Tmpfs:
    def __init__(self, path: Path) -> None:
        self.path = path

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)

    def free(self) -> int:
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int = 0) -> Path:
        """Write a filler file until only ``leave`` bytes (about) are free."""
        filler = self.path / "filler"
        with open(filler, "ab") as fh:
            want = max(0, self.free() - leave)
            try:
                while want > 0:
                    chunk = min(want, 1 << 20)
                    fh.write(b"\0" * chunk)
                    fh.flush()
                    want -= chunk
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        return filler


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Tmpfs]:
    if shutil.which("mount") is None:
        pytest.skip("cannot mount a tmpfs here: the mount command is not installed")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield Tmpfs(mnt)
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _new_clinic(folder: Path) -> None:
    create_clinic(folder, DETAILS, AdminAccount("admin", "Ada Admin", ADMIN_PASSWORD), kdf=FAST_KDF)


def _person(n: int) -> PatientInput:
    return PatientInput(
        f"Given{n}",
        f"Family{n}",
        date(1940 + n % 70, 1 + n % 12, 1 + n % 28),
        "other",
        address=f"{n} Long Lane, " + "Springfield " * 35,
    )


def _check_clinic(folder: Path, mrns: list[str]) -> None:
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        with session.store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert session.audit.verify(session.actor).intact
        assert session.patients.count(session.actor) == len(mrns)
        for mrn in mrns:
            assert [r.mrn for r in session.patients.search(session.actor, mrn)] == [mrn]
    finally:
        session.close()


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- disk full ------------------------------------------------------------------------------


def test_disk_full_while_registering_is_a_clear_error_and_loses_nothing(tmpfs):
    folder = tmpfs.path / "clinic"
    _new_clinic(folder)
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    saved: list[str] = []
    try:
        saved += [session.patients.register(session.actor, _person(n)).mrn for n in range(3)]
        filler = tmpfs.fill(leave=600 * 1024)
        with pytest.raises(StorageFull) as caught:
            for n in range(3, 2000):
                saved.append(session.patients.register(session.actor, _person(n)).mrn)
        assert "full" in caught.value.message and "nothing was saved" in caught.value.message
        assert len(saved) > 3, "the disk filled before any registration went through"
        assert session.patients.count(session.actor) == len(saved)

        # Staff free some space and try again, in the same session, as the message says.
        filler.unlink()
        retry = session.patients.register(session.actor, _person(5000))
        saved.append(retry.mrn)
    finally:
        session.close()
    _check_clinic(folder, saved)


def _sign_in_on_a_full_disk(tmpfs) -> BaseException:
    """Sign in when the disk is full; then free the space and check the clinic is intact."""
    folder = tmpfs.path / "clinic"
    _new_clinic(folder)
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    saved = [s.patients.register(s.actor, _person(n)).mrn for n in range(3)]
    s.close()
    filler = tmpfs.fill(leave=0)
    with pytest.raises(Exception) as caught:
        sign_in(folder, "admin", ADMIN_PASSWORD)
    filler.unlink()
    _check_clinic(folder, saved)
    return caught.value


def test_disk_full_at_sign_in_harms_nothing(tmpfs):
    _sign_in_on_a_full_disk(tmpfs)


def test_disk_full_at_sign_in_is_a_clear_error(tmpfs):
    error = _sign_in_on_a_full_disk(tmpfs)
    assert isinstance(error, StorageFull), repr(error)


def _setup_on_a_full_disk(tmpfs) -> BaseException:
    folder = tmpfs.path / "new-clinic"
    filler = tmpfs.fill(leave=64 * 1024)
    with pytest.raises(Exception) as caught:
        _new_clinic(folder)
    assert not (folder / SLOTS_FILE).exists()
    assert not (folder / "clinic.db").exists()
    filler.unlink()
    _new_clinic(folder)  # set-up can simply be run again
    _check_clinic(folder, [])
    return caught.value


def test_disk_full_during_setup_leaves_no_half_clinic(tmpfs):
    _setup_on_a_full_disk(tmpfs)


def test_disk_full_during_setup_is_a_clear_error(tmpfs):
    error = _setup_on_a_full_disk(tmpfs)
    assert isinstance(error, StorageFull), repr(error)


def _slot_users(folder: Path) -> dict[str, str]:
    data = json.loads((folder / SLOTS_FILE).read_text())
    return {s["user_id"]: s["username"] for s in data["slots"] if s["kind"] == "user"}


def test_disk_full_while_creating_a_user_leaves_no_stray_key_slot(tmpfs):
    folder = tmpfs.path / "clinic"
    _new_clinic(folder)
    admin = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        filler = tmpfs.fill(leave=0)
        with pytest.raises(StorageFull):
            admin.users.create(
                admin.actor, "nina", "Nina Reyes", {Role.RECEPTIONIST}, "temporary pw 1"
            )
        filler.unlink()
        assert {u.username for u in admin.users.list(admin.actor)} == {"admin"}
        admin.users.create(admin.actor, "omar", "Omar Haddad", {Role.DOCTOR}, "temporary pw 2")
        admin.users.create(admin.actor, "nina", "Nina Reyes", {Role.RECEPTIONIST}, "other pw 33")
        users = {u.id: u.username for u in admin.users.list(admin.actor)}
    finally:
        admin.close()
    assert _slot_users(folder) == users
    sign_in(folder, "nina", "other pw 33").close()


# --- read-only ------------------------------------------------------------------------------


def test_read_only_data_folder_is_a_clear_error_and_changes_nothing(tmpfs):
    folder = tmpfs.path / "clinic"
    _new_clinic(folder)
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    saved = [s.patients.register(s.actor, _person(n)).mrn for n in range(3)]
    s.close()
    (tmpfs.path / "empty").mkdir()
    before = _snapshot(folder)

    tmpfs.remount("ro")
    # Sign-in needs to write (WAL, last login, audit): it says the folder is read-only.
    with pytest.raises(StorageReadOnly) as caught:
        sign_in(folder, "admin", ADMIN_PASSWORD)
    assert str(folder) in caught.value.message
    assert "cannot be written" in caught.value.message
    assert _snapshot(folder) == before

    for target in (tmpfs.path / "empty", tmpfs.path / "new"):
        with pytest.raises(StorageReadOnly):
            _new_clinic(target)

    tmpfs.remount("rw")
    _check_clinic(folder, saved)


def test_backup_into_a_read_only_place_is_a_clear_error(tmpfs, admin):
    admin.patients.register(admin.actor, _person(1))
    tmpfs.remount("ro")
    with pytest.raises(StorageReadOnly):
        admin.backup(tmpfs.path / "a.cdbak")
    with pytest.raises(StorageReadOnly):
        admin.backup(tmpfs.path)
    assert admin.patients.count(admin.actor) == 1


def test_restore_into_a_read_only_folder_is_a_clear_error(tmpfs, admin, tmp_path: Path):
    good = admin.backup(tmp_path / "good.cdbak").path
    (tmpfs.path / "clinic").mkdir()
    tmpfs.remount("ro")
    with pytest.raises(StorageReadOnly):
        restore(good, tmpfs.path / "elsewhere", "admin", ADMIN_PASSWORD)
    with pytest.raises(StorageReadOnly):
        restore(good, tmpfs.path / "clinic", "admin", ADMIN_PASSWORD)

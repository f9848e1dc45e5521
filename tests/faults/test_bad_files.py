"""Wrong, damaged or foreign files: a clear error, and nothing on disk is changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from clinicdesk.errors import DatabaseMismatch, StoreError, WrongPassword
from clinicdesk.services.access import AdminAccount, create_clinic, restore, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.database import DB_FILE, connect
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import ADMIN_PASSWORD, DETAILS, FAST_KDF

PAGE = 4096


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under the folder and a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _fill(session, n: int, family: str = "Okafor") -> list[str]:
    return [
        session.patients.register(
            session.actor,
            PatientInput(f"Given{i}", family, date(1970, 1, 1 + i), "female", address="x" * 300),
            not_a_duplicate=True,
        ).mrn
        for i in range(n)
    ]


@pytest.fixture
def clinic_a(clinic_dir) -> Path:
    folder, _ = clinic_dir
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    _fill(s, 25)
    s.close()
    return folder


@pytest.fixture
def clinic_b(tmp_path: Path) -> Path:
    """Another clinic whose admin happens to use the same user name and password."""
    folder = tmp_path / "clinic-b"
    create_clinic(folder, DETAILS, AdminAccount("admin", "Bo Admin", ADMIN_PASSWORD), kdf=FAST_KDF)
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    _fill(s, 5, family="Brandt")
    s.close()
    return folder


def _assert_a_intact(folder: Path, patients: int = 25) -> None:
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        assert s.patients.count(s.actor) == patients
        assert s.audit.verify(s.actor).intact
        assert [r.family_name for r in s.patients.search(s.actor, "okafor")][:1] == ["Okafor"]
    finally:
        s.close()


# --- the database file --------------------------------------------------------------------


def test_database_of_another_clinic_is_refused_and_never_overwritten(clinic_a, clinic_b):
    foreign = (clinic_b / DB_FILE).read_bytes()
    for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
        (clinic_a / name).unlink(missing_ok=True)
    shutil.copyfile(clinic_b / DB_FILE, clinic_a / DB_FILE)
    before = _snapshot(clinic_a)

    for _ in range(2):
        with pytest.raises(DatabaseMismatch) as caught:
            sign_in(clinic_a, "admin", ADMIN_PASSWORD)
        assert "another clinic or it is damaged" in caught.value.message
        assert "not been changed" in caught.value.message

    assert (clinic_a / DB_FILE).read_bytes() == foreign
    assert (clinic_b / DB_FILE).read_bytes() == foreign
    assert _snapshot(clinic_a) == before
    # Clinic B itself is untouched and still opens.
    s = sign_in(clinic_b, "admin", ADMIN_PASSWORD)
    try:
        assert s.patients.count(s.actor) == 5
    finally:
        s.close()


def test_database_with_the_right_key_but_another_clinic_id_is_refused(admin):
    """The clinic id inside the database is checked as well as the key."""
    with pytest.raises(DatabaseMismatch):
        connect(admin.folder, admin._db_key, expect_clinic_id="not-this-clinic")


def _damage(path: Path, offset: int, length: int = 48) -> bytes:
    data = bytearray(path.read_bytes())
    data[offset : offset + length] = bytes(b ^ 0x5A for b in data[offset : offset + length])
    path.write_bytes(data)
    return bytes(data)


def test_damaged_first_page_is_refused_and_not_overwritten(clinic_a):
    damaged = _damage(clinic_a / DB_FILE, 200)
    with pytest.raises(DatabaseMismatch):
        sign_in(clinic_a, "admin", ADMIN_PASSWORD)
    assert (clinic_a / DB_FILE).read_bytes() == damaged


@pytest.fixture(scope="module")
def damaged_page_outcomes(tmp_path_factory) -> dict[int, tuple[str, bool]]:
    """Damage each page of a small clinic's database in turn and try to use it.

    Maps page number to (what happened, whether the damaged file was left byte for byte).
    """
    root = tmp_path_factory.mktemp("pages")
    clean = root / "clean"
    create_clinic(clean, DETAILS, AdminAccount("admin", "Ada", ADMIN_PASSWORD), kdf=FAST_KDF)
    s = sign_in(clean, "admin", ADMIN_PASSWORD)
    _fill(s, 25)
    s.close()
    original = (clean / DB_FILE).read_bytes()
    outcomes = {}
    for number in range(1, len(original) // PAGE + 1):
        trial = root / f"page-{number}"
        shutil.copytree(clean, trial)
        damaged = _damage(trial / DB_FILE, (number - 1) * PAGE + 1000)
        try:
            session = sign_in(trial, "admin", ADMIN_PASSWORD)
        except StoreError:
            outcome = "refused"
        except Exception as exc:
            outcome = f"raw {type(exc).__module__}.{type(exc).__name__}"
        else:
            try:
                session.patients.search(session.actor, "okafor")
                session.patients.count(session.actor)
                session.audit.verify(session.actor)
                outcome = "unnoticed"
            except StoreError:
                outcome = "noticed only on reading"
            except Exception as exc:
                outcome = f"raw on reading {type(exc).__name__}"
            finally:
                session.close()
        outcomes[number] = (outcome, (trial / DB_FILE).read_bytes() == damaged)
        shutil.rmtree(trial)
    return outcomes


@pytest.mark.long
def test_a_damaged_page_never_gives_a_raw_error(damaged_page_outcomes):
    raw = {n: o for n, (o, _) in damaged_page_outcomes.items() if o.startswith("raw")}
    assert raw == {}


def test_a_damaged_page_is_refused_at_sign_in_and_the_file_never_written(damaged_page_outcomes):
    let_through = {
        n: o for n, (o, same) in damaged_page_outcomes.items() if o != "refused" or not same
    }
    assert let_through == {}


def test_damaged_key_file_is_a_clear_error(clinic_a):
    keyfile = clinic_a / SLOTS_FILE
    text = keyfile.read_bytes()
    for broken in (text[: len(text) // 2], b"", json.dumps({"format": "other"}).encode()):
        keyfile.write_bytes(broken)
        with pytest.raises(StoreError) as caught:
            sign_in(clinic_a, "admin", ADMIN_PASSWORD)
        assert "key file" in caught.value.message and "damaged" in caught.value.message
        assert keyfile.read_bytes() == broken
    keyfile.write_bytes(text)
    _assert_a_intact(clinic_a)


def test_missing_key_file_is_a_clear_error(clinic_a):
    (clinic_a / SLOTS_FILE).unlink()
    db = (clinic_a / DB_FILE).read_bytes()
    with pytest.raises(StoreError) as caught:
        sign_in(clinic_a, "admin", ADMIN_PASSWORD)
    assert "key file" in caught.value.message
    with pytest.raises(StoreError):  # set-up refuses to start over on top of the data
        create_clinic(clinic_a, DETAILS, AdminAccount("admin", "Eve", ADMIN_PASSWORD), kdf=FAST_KDF)
    assert (clinic_a / DB_FILE).read_bytes() == db


def test_setup_refuses_a_folder_that_already_holds_a_clinic(clinic_a):
    before = _snapshot(clinic_a)
    with pytest.raises(StoreError, match="already holds a clinic"):
        create_clinic(clinic_a, DETAILS, AdminAccount("admin", "Eve", ADMIN_PASSWORD), kdf=FAST_KDF)
    assert _snapshot(clinic_a) == before


# --- backups --------------------------------------------------------------------------------


@pytest.fixture
def backup_a(clinic_a, tmp_path: Path) -> Path:
    s = sign_in(clinic_a, "admin", ADMIN_PASSWORD)
    try:
        return s.backup(tmp_path / "a.cdbak").path
    finally:
        s.close()


def _refused_restore(folder: Path, src: Path, *, user="admin", secret=ADMIN_PASSWORD, error):
    before = _snapshot(folder)
    with pytest.raises(error) as caught:
        restore(src, folder, user, secret)
    assert _snapshot(folder) == before, "a refused restore changed the clinic's files"
    assert not list(folder.glob(".restore-*")), "staging folder left behind"
    return caught.value


def test_restoring_another_clinics_backup_is_refused(clinic_a, clinic_b, tmp_path: Path):
    s = sign_in(clinic_b, "admin", ADMIN_PASSWORD)
    try:
        foreign = s.backup(tmp_path / "b.cdbak").path
    finally:
        s.close()
    err = _refused_restore(clinic_a, foreign, error=StoreError)
    assert "another clinic" in err.message
    _assert_a_intact(clinic_a)


def _rezip(src: Path, dest: Path, db: bytes, manifest: dict | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == DB_FILE:
                data = db
            elif name == "manifest.json" and manifest is not None:
                data = json.dumps(manifest).encode()
            zout.writestr(name, data)
    return dest


def test_restoring_a_backup_with_flipped_bytes_is_refused(clinic_a, backup_a, tmp_path: Path):
    data = bytearray(backup_a.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(b ^ 0xFF for b in data[mid : mid + 64])
    bad = tmp_path / "flipped.cdbak"
    bad.write_bytes(data)
    err = _refused_restore(clinic_a, bad, error=StoreError)
    assert "damaged" in err.message
    _assert_a_intact(clinic_a)


def test_restoring_a_backup_whose_database_fails_its_checksum_is_refused(
    clinic_a, backup_a, tmp_path: Path
):
    with zipfile.ZipFile(backup_a) as zf:
        db = bytearray(zf.read(DB_FILE))
    db[len(db) // 2] ^= 0x01
    bad = _rezip(backup_a, tmp_path / "checksum.cdbak", bytes(db))
    err = _refused_restore(clinic_a, bad, error=StoreError)
    assert "checksum" in err.message
    _assert_a_intact(clinic_a)


def test_restoring_a_backup_with_a_forged_checksum_fails_the_page_check(
    clinic_a, backup_a, tmp_path: Path
):
    with zipfile.ZipFile(backup_a) as zf:
        db = bytearray(zf.read(DB_FILE))
        manifest = json.loads(zf.read("manifest.json"))
    db[len(db) // 2] ^= 0x01
    manifest["sha256"] = hashlib.sha256(db).hexdigest()
    bad = _rezip(backup_a, tmp_path / "forged.cdbak", bytes(db), manifest)
    err = _refused_restore(clinic_a, bad, error=StoreError)
    assert "integrity" in err.message or "cannot be read" in err.message
    _assert_a_intact(clinic_a)


@pytest.mark.parametrize("what", ["truncated", "empty", "not a zip"])
def test_restoring_a_file_that_is_not_a_backup_is_refused(clinic_a, backup_a, tmp_path, what):
    bad = tmp_path / f"{what}.cdbak"
    data = backup_a.read_bytes()
    bad.write_bytes(
        {"truncated": data[: len(data) // 2], "empty": b"", "not a zip": os.urandom(5000)}[what]
    )
    err = _refused_restore(clinic_a, bad, error=StoreError)
    assert bad.name in err.message
    _assert_a_intact(clinic_a)


def test_restore_with_a_wrong_password_or_recovery_key_is_refused(clinic_a, backup_a):
    _refused_restore(clinic_a, backup_a, secret="not the password", error=WrongPassword)
    _refused_restore(clinic_a, backup_a, user="nobody", error=WrongPassword)
    _refused_restore(
        clinic_a, backup_a, user=None, secret="AAAA-BBBB-CCCC-DDDD", error=WrongPassword
    )
    _assert_a_intact(clinic_a)


def test_a_good_restore_brings_back_the_data_and_keeps_the_replaced_data(
    clinic_a, backup_a, clinic_dir
):
    s = sign_in(clinic_a, "admin", ADMIN_PASSWORD)
    _fill(s, 3, family="Later")
    s.close()
    aside = restore(backup_a, clinic_a, None, clinic_dir[1].recovery_key).aside
    assert aside is not None and (aside / DB_FILE).exists()
    _assert_a_intact(clinic_a, patients=25)


def test_backup_into_a_missing_folder_is_a_clear_error(admin, tmp_path: Path):
    with pytest.raises(StoreError):
        admin.backup(tmp_path / "no such stick" / "a.cdbak")

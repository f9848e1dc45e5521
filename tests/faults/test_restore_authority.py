"""Restoring needs an administrator's authority (as it was when the backup was made) or the
recovery key, is recorded in the restored clinic's audit log, gives the restored database a new
key, and brings back no key slot that should be gone."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from clinicdesk.errors import ClinicDeskError
from clinicdesk.permissions import Role
from clinicdesk.services.access import restore, sign_in
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD
from tests.store.stolen_keys import copy_of, key_from_copy, reads_accounts

NEW_PASSWORD = "a brand new passphrase"


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def backup_with_staff(admin, staff, tmp_path: Path) -> Path:
    for role, name in ((Role.RECEPTIONIST, "rita"), (Role.DOCTOR, "drlee")):
        staff(role, username=name).close()
    return admin.backup(tmp_path / "before.cdbak").path


@pytest.mark.parametrize("username", ["rita", "drlee"])
def test_a_receptionists_or_doctors_old_password_cannot_restore(admin, backup_with_staff, username):
    admin.close()
    before = _snapshot(admin.folder)
    with pytest.raises(ClinicDeskError) as refused:
        restore(backup_with_staff, admin.folder, username, STAFF_PASSWORD)
    assert "administrator" in refused.value.message
    assert "Nothing was changed" in refused.value.message
    assert _snapshot(admin.folder) == before


def test_an_administrators_restore_is_audited_and_the_old_key_file_opens_nothing(
    admin, backup_with_staff
):
    folder = admin.folder
    in_backup = copy_of(folder / SLOTS_FILE)  # the key file the backup carries
    rita = sign_in(folder, "rita", STAFF_PASSWORD)
    rita.change_password(STAFF_PASSWORD, NEW_PASSWORD)  # changed since the backup
    rita.close()
    admin.close()

    done = restore(backup_with_staff, folder, "admin", ADMIN_PASSWORD)

    old_key = key_from_copy(in_backup, ADMIN_PASSWORD, "admin")
    assert not reads_accounts(folder / "clinic.db", old_key)
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        entries = [e for e in session.audit.recent(session.actor) if e.action == "data.restore"]
        assert len(entries) == 1 and entries[0].actor_name == "Ada Admin"
        assert "before.cdbak" in entries[0].detail
        assert session.audit.verify(session.actor).intact
    finally:
        session.close()
    sign_in(folder, "rita", NEW_PASSWORD).close()  # her current password still works
    assert done.recovery_key is None


def test_a_restore_with_the_recovery_key_says_so_in_the_audit_log(
    clinic_dir, admin, backup_with_staff
):
    admin.close()
    restore(backup_with_staff, clinic_dir[0], None, clinic_dir[1].recovery_key)
    session = sign_in(clinic_dir[0], "admin", ADMIN_PASSWORD)
    try:
        (entry,) = [e for e in session.audit.recent(session.actor) if e.action == "data.restore"]
        assert "recovery key" in entry.detail
    finally:
        session.close()


def test_doctors_still_sign_prescriptions_after_a_restore(admin, tmp_path: Path):
    from tests.clinical.clinic_setup import three_items, walk_in_consultation

    consultation = walk_in_consultation(admin)
    consultation.doctor.close()
    taken = admin.backup(tmp_path / "clinic.cdbak").path
    admin.close()
    restore(taken, admin.folder, "admin", ADMIN_PASSWORD)
    doctor = sign_in(admin.folder, "dr.hale", "doctor password 1")
    try:
        rx = doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items())
        assert rx.code.startswith("RX1")
    finally:
        doctor.close()


def test_a_restore_brings_back_no_slot_of_an_account_removed_in_the_backup(
    clinic_dir, admin, staff, tmp_path: Path
):
    """A backup whose key file still holds the slot of an account its data shows as removed
    (as versions that lost key file updates between desks could leave it)."""
    import zipfile

    staff(Role.RECEPTIONIST, username="rita").close()
    (her_slot,) = [s for s in copy_of(admin.folder / SLOTS_FILE)["slots"] if s.get("username")
                   == "rita"]  # fmt: skip
    rita_id = next(u.id for u in admin.users.list(admin.actor) if u.username == "rita")
    admin.users.deactivate(admin.actor, rita_id)
    taken = admin.backup(tmp_path / "taken.cdbak").path
    admin.close()
    with zipfile.ZipFile(taken) as zin, zipfile.ZipFile(tmp_path / "stale.cdbak", "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == SLOTS_FILE:
                document = json.loads(data)
                document["slots"].append(her_slot)
                data = json.dumps(document).encode()
            zout.writestr(name, data)

    restore(tmp_path / "stale.cdbak", admin.folder, None, clinic_dir[1].recovery_key)

    slots = copy_of(admin.folder / SLOTS_FILE)["slots"]
    assert "rita" not in {s.get("username") for s in slots}
    assert her_slot.get("public_key", "-") not in {s.get("public_key") for s in slots}
    sign_in(admin.folder, "admin", ADMIN_PASSWORD).close()

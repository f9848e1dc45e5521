"""Key files written by earlier versions, and the key settings kept in the database."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinicdesk.errors import StoreError, WrongPassword
from clinicdesk.permissions import Role
from clinicdesk.services.access import reset_password_with_recovery_key, sign_in
from clinicdesk.store.keyslots import SLOTS_FILE, KdfParams
from clinicdesk.store.models import Meta
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def _as_format_1(folder: Path, db_key: bytes, secrets: dict[str | None, str]) -> None:
    """Write the clinic's key file as ClinicDesk wrote it before key pairs: the database key
    wrapped directly under each password (``secrets`` by user name, None for the recovery key)."""
    doc = json.loads((folder / SLOTS_FILE).read_text())
    slots = []
    for slot in doc["slots"]:
        salt, nonce = os.urandom(16), os.urandom(12)
        kek = KdfParams(**slot["kdf"]).derive(secrets[slot.get("username")], salt)
        aad = f"{doc['clinic_id']}|{slot['slot_id']}|{slot['kind']}|{slot.get('user_id') or ''}"
        slots.append(
            {
                **{k: slot.get(k) for k in ("slot_id", "kind", "user_id", "username", "kdf")},
                "salt": base64.b64encode(salt).decode(),
                "nonce": base64.b64encode(nonce).decode(),
                "wrapped_key": base64.b64encode(
                    AESGCM(kek).encrypt(nonce, db_key, aad.encode())
                ).decode(),
            }
        )
    old = {"format": "clinicdesk-keyslots/1", "clinic_id": doc["clinic_id"], "slots": slots}
    old["clinic_name"] = doc["clinic_name"]
    (folder / SLOTS_FILE).write_text(json.dumps(old))


def _slots(folder: Path) -> dict[str, dict]:
    return {
        s.get("username") or "": s for s in json.loads((folder / SLOTS_FILE).read_text())["slots"]
    }


@pytest.fixture
def updated_clinic(clinic_dir, admin, staff) -> Path:
    """A clinic whose key file an earlier version wrote, with an admin and a receptionist."""
    staff(Role.RECEPTIONIST, username="rita").close()
    key = admin._db_key
    admin.close()
    _as_format_1(
        clinic_dir[0],
        key,
        {"admin": ADMIN_PASSWORD, "rita": STAFF_PASSWORD, None: clinic_dir[1].recovery_key},
    )
    return clinic_dir[0]


def test_a_format_1_slot_becomes_a_key_pair_at_its_owners_sign_in(updated_clinic):
    sign_in(updated_clinic, "admin", ADMIN_PASSWORD).close()
    slots = _slots(updated_clinic)
    assert "public_key" in slots["admin"] and "wrapped_key" not in slots["admin"]
    assert "wrapped_key" in slots["rita"]  # she has not signed in since
    sign_in(updated_clinic, "admin", ADMIN_PASSWORD).close()
    sign_in(updated_clinic, "rita", STAFF_PASSWORD).close()
    assert "public_key" in _slots(updated_clinic)["rita"]


def test_a_key_change_names_and_drops_slots_it_cannot_carry_and_renews_the_recovery_key(
    clinic_dir, updated_clinic
):
    admin = sign_in(updated_clinic, "admin", ADMIN_PASSWORD)
    try:
        assert admin.users.key_change_preview(admin.actor) == ("rita",)
        change = admin.users.change_clinic_key(admin.actor)
        assert change.dropped == ("rita",)
        assert change.recovery_key  # the old recovery slot could not be sealed to
        assert admin.patients.count(admin.actor) == 0
        needing = {u.username for u in admin.users.list(admin.actor) if u.needs_new_password}
        assert needing == {"rita"}
    finally:
        admin.close()
    with pytest.raises(WrongPassword):
        sign_in(updated_clinic, "rita", STAFF_PASSWORD)
    with pytest.raises(WrongPassword):
        reset_password_with_recovery_key(
            updated_clinic, clinic_dir[1].recovery_key, "rita", NEW_PASSWORD
        )
    # her account stays: the new recovery key gives her a new password
    reset_password_with_recovery_key(updated_clinic, change.recovery_key, "rita", NEW_PASSWORD)
    sign_in(updated_clinic, "rita", NEW_PASSWORD).close()
    sign_in(updated_clinic, "admin", ADMIN_PASSWORD).close()


@pytest.mark.parametrize("value", ["1000000,65536,2", "3,1099511627776,2", "3,65536", "x,y,z"])
def test_key_settings_in_the_database_out_of_bounds_are_refused_in_words(admin, value):
    with admin.store.write() as s:
        s.get(Meta, "kdf").value = value
    with pytest.raises(StoreError) as refused:
        sign_in(admin.folder, "admin", ADMIN_PASSWORD)
    assert "key settings" in refused.value.message

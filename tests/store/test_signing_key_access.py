"""The clinic's prescription signing key is readable only through doctor and administrator key
slots: a receptionist who opens the database with her own key cannot read it, and a doctor who
is removed takes nothing that signs new prescriptions."""

from __future__ import annotations

import sqlcipher3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clinicdesk.permissions import Role
from clinicdesk.services.access import reset_password_with_recovery_key, sign_in
from clinicdesk.services.signing import protect_private_keys
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.clinical.clinic_setup import DOCTOR_PASSWORD, three_items, walk_in_consultation
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD
from tests.store.stolen_keys import copy_of, key_from_copy


def _own_keys(db, key: bytes) -> list[tuple[str, str, bytes | None, bytes]]:
    conn = sqlcipher3.connect(str(db))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        return conn.execute(
            "SELECT kid, status, private_key, public_key FROM signing_keys WHERE own = 1"
        ).fetchall()
    finally:
        conn.close()


def _signs_for(private: bytes | None, public: bytes) -> bool:
    """Whether ``private`` is a usable Ed25519 seed whose public half is ``public``."""
    if private is None or len(private) != 32:
        return False
    derived = Ed25519PrivateKey.from_private_bytes(private).public_key()
    raw = derived.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw == public


def test_a_receptionist_with_the_database_key_cannot_read_the_signing_key(admin, staff):
    staff(Role.RECEPTIONIST, username="rita")
    key = key_from_copy(copy_of(admin.folder / SLOTS_FILE), STAFF_PASSWORD, "rita")
    rows = _own_keys(admin.folder / "clinic.db", key)
    assert rows  # she reads the table...
    assert not any(_signs_for(private, public) for _, _, private, public in rows)  # ...not the key


def test_doctors_still_sign_and_a_removed_doctors_key_signs_nothing_new(admin):
    consultation = walk_in_consultation(admin)
    doctor = consultation.doctor
    doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items())
    before = {kid for kid, status, _, _ in _own_keys(admin.folder / "clinic.db", admin._db_key)}
    doctor_id = doctor.actor.user_id
    doctor.close()

    admin.users.deactivate(admin.actor, doctor_id)

    rows = _own_keys(admin.folder / "clinic.db", admin._db_key)
    (active,) = [kid for kid, status, _, _ in rows if status == "active"]
    assert active not in before  # a new signing key, which the removed doctor never held
    # another doctor signs with it
    admin.users.create(
        admin.actor, "dr.new", "Dr New", {Role.DOCTOR}, DOCTOR_PASSWORD, must_change_password=False
    )
    again = sign_in(admin.folder, "dr.new", DOCTOR_PASSWORD)
    try:
        assert again.keys.signing_key(again.slots) is not None
    finally:
        again.close()


def test_a_new_doctor_gets_the_signing_key_once_active_not_while_pending(admin):
    admin.users.create(admin.actor, "dr.lee", "Dr Lee", {Role.DOCTOR}, "temporary pw 12")
    slots = {s.get("username"): s for s in copy_of(admin.folder / SLOTS_FILE)["slots"]}
    assert "sealed_signing" not in slots["dr.lee"]  # the temporary password opens no signing key
    lee = sign_in(admin.folder, "dr.lee", "temporary pw 12")
    lee.change_password("temporary pw 12", DOCTOR_PASSWORD)
    lee.close()
    admin.users.list(admin.actor)  # an administrator opens the Users screen
    lee = sign_in(admin.folder, "dr.lee", DOCTOR_PASSWORD)
    try:
        assert lee.keys.signing_key(lee.slots) is not None
    finally:
        lee.close()


def test_a_clinic_whose_signing_key_is_stored_plain_protects_it_at_an_admins_sign_in(admin):
    """Clinics from before the signing-key key: the first administrator to sign in encrypts the
    private halves and passes the key to every doctor and administrator slot."""
    kek = admin.keys.signing_key(admin.slots)
    with admin.store.write() as s:
        protect_private_keys(s, kek, None)  # as an older version left it
    admin.slots.change(lambda f: [f.seal_signing_key(slot, None) for slot in f.slots])
    rows = _own_keys(admin.folder / "clinic.db", admin._db_key)
    assert all(_signs_for(private, public) for _, _, private, public in rows)
    admin.close()

    sign_in(admin.folder, "admin", ADMIN_PASSWORD).close()

    rows = _own_keys(admin.folder / "clinic.db", sign_in_key(admin.folder))
    assert not any(_signs_for(private, public) for _, _, private, public in rows)
    slots = copy_of(admin.folder / SLOTS_FILE)["slots"]
    assert all(slot.get("sealed_signing") for slot in slots)  # the admin and the recovery key


def sign_in_key(folder) -> bytes:
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        return session._db_key
    finally:
        session.close()


def test_an_administrator_whose_password_was_reset_with_the_recovery_key_still_holds_it(
    clinic_dir,
):
    folder, setup = clinic_dir
    reset_password_with_recovery_key(folder, setup.recovery_key, "admin", "a brand new passphrase")
    session = sign_in(folder, "admin", "a brand new passphrase")
    try:
        assert session.keys.signing_key(session.slots) is not None
    finally:
        session.close()

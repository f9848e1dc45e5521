"""Who may sign in, and with what password, is the same at every desk of a clinic: key slots
travel through the real sync server (sealed under the clinic's key), a key change made at one
desk moves the other's database to the new key at its next sign-in, and a prescription signed
at one desk verifies at the other's pharmacy counter."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import delete, func, select

from clinicdesk.errors import AccountInactive, WrongPassword
from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession, restore, sign_in
from clinicdesk.services.pharmacy_views import SCANNER
from clinicdesk.services.signing import active_key, signing_kek
from clinicdesk.store.keyslots import KeySlotFile
from clinicdesk.store.models import KeySlotRecord, OutboxEntry, SigningKey, SyncConflict
from clinicdesk.store.rekey import opens_with
from clinicdesk.sync import desk
from clinicdesk.sync.server.store import ServerStore
from tests.clinical.clinic_setup import three_items, walk_in_consultation
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD
from tests.pharmacy.pharmacy_setup import PHARMACIST_PASSWORD
from tests.sync.conftest import DESK_BACKENDS, connect, kept_by_server, register

pytestmark = pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)

CARLA_PASSWORD = "carla's own password 1"


def sync_all(*sessions: ClinicSession) -> None:
    """Each desk sends what it made and takes what the others made (twice round, so the first
    desk also gets what the last one sent)."""
    for _round in range(2):
        for session in sessions:
            done = desk.sync(session.store, session.payload_cipher())
            assert not done.unreadable, done.unreadable
    for session in sessions:
        with session.store.read() as s:
            kept = list(s.scalars(select(SyncConflict.entity, SyncConflict.reason)))
        assert not kept, kept


def add_carla(at: ClinicSession, roles: set[Role] | None = None) -> str:
    made = at.users.create(
        at.actor,
        "carla",
        "Carla Reyes",
        roles or {Role.RECEPTIONIST},
        CARLA_PASSWORD,
        must_change_password=False,
    )
    return made.id


def signs_in(folder, username: str, password: str) -> bool:
    try:
        sign_in(folder, username, password).close()
    except (WrongPassword, AccountInactive):
        return False
    return True


def test_a_person_added_at_one_desk_signs_in_at_the_other(desks):
    a, b = desks
    add_carla(a)
    assert not signs_in(b.folder, "carla", CARLA_PASSWORD)  # not known there before sync

    sync_all(a, b)

    carla = sign_in(b.folder, "carla", CARLA_PASSWORD)
    try:
        assert carla.actor.display_name == "Carla Reyes"
        assert register(carla, "Inès", "Laurent")  # she works at B with her own password
    finally:
        carla.close()


def test_a_password_changed_at_one_desk_is_the_password_at_the_other(desks):
    a, b = desks
    add_carla(a)
    sync_all(a, b)
    carla = sign_in(a.folder, "carla", CARLA_PASSWORD)
    carla.change_password(CARLA_PASSWORD, "carla's new password 2")
    carla.close()

    sync_all(a, b)

    assert signs_in(b.folder, "carla", "carla's new password 2")
    assert not signs_in(b.folder, "carla", CARLA_PASSWORD)


def test_an_account_removed_at_one_desk_cannot_sign_in_at_the_other(desks):
    a, b = desks
    carla_id = add_carla(a)
    sync_all(a, b)
    assert signs_in(b.folder, "carla", CARLA_PASSWORD)
    sync_all(b, a)  # her sign-in at B reaches A before A removes her account

    a.users.deactivate(a.actor, carla_id)
    sync_all(a, b)

    assert not signs_in(b.folder, "carla", CARLA_PASSWORD)
    assert KeySlotFile.load(b.folder).slot_for_user_id(carla_id) is None


def test_a_key_change_at_one_desk_moves_the_other_to_the_new_key_at_its_next_sign_in(desks):
    a, b = desks
    before = register(a, "Ana", "Silva")  # made before the key change, sent after it
    a.users.change_clinic_key(a.actor)
    after = register(a, "Bruno", "Costa")
    assert a.slots.generation == 2
    new_key = a.keys.database_key(a.slots)

    sync_all(a, b)

    # B's file knows the new key; its database keeps the old one, and B goes on working
    assert KeySlotFile.load(b.folder).generation == 2
    assert not opens_with(b.store.path, new_key)
    assert {p.id for p in b.patients.search(b.actor, "silva")} == {before}
    assert {p.id for p in b.patients.search(b.actor, "costa")} == {after}
    made_at_b = register(b, "Clara", "Souza")
    b.close()

    again = sign_in(b.folder, "ben", STAFF_PASSWORD)
    try:
        assert opens_with(again.store.path, new_key)  # B's own database is on the new key
        assert again.slots.generation == 2
        assert {p.id for p in again.patients.search(again.actor, "souza")} == {made_at_b}
        desk.sync(again.store, again.payload_cipher())
        desk.sync(a.store, a.payload_cipher())
        assert {p.id for p in a.patients.search(a.actor, "souza")} == {made_at_b}
    finally:
        again.close()


def test_a_prescription_signed_at_one_desk_verifies_at_the_others_pharmacy(desks):
    a, b = desks
    a.signing_keys.rotate(a.actor)  # a key made at A that B has never had
    consultation = walk_in_consultation(a)
    try:
        rx = consultation.doctor.prescriptions.write(
            consultation.doctor.actor, consultation.visit.id, three_items()
        )
    finally:
        consultation.doctor.close()
    a.users.create(
        a.actor,
        "pharmacist",
        "Priya Shah",
        {Role.PHARMACIST},
        PHARMACIST_PASSWORD,
        must_change_password=False,
    )

    sync_all(a, b)

    pharmacist = sign_in(b.folder, "pharmacist", PHARMACIST_PASSWORD)
    try:
        verdict = pharmacist.pharmacy.scan(pharmacist.actor, rx.code, SCANNER)
        assert verdict.own_clinic and verdict.kid == rx.kid
        assert verdict.content.prescription_id == rx.id
    finally:
        pharmacist.close()
    own_keys = [k for k in b.signing_keys.list(b.actor) if k.own and k.status == "active"]
    assert [k.kid for k in own_keys] == [rx.kid]  # B signs with it too, and made none of its own


def test_the_server_keeps_nothing_readable_of_the_slots(desks, server):
    a, b = desks
    add_carla(a)
    sync_all(a, b)
    slot = KeySlotFile.load(a.folder).user_slot("carla")
    assert slot is not None
    with a.store.read() as s:
        assert s.scalar(select(func.count()).where(KeySlotRecord.id == slot.slot_id)) == 1

    kept = kept_by_server(server)

    for secret in (slot.public_key, slot.wrapped_private, slot.sealed_key, slot.salt, "Reyes"):
        assert secret.encode() not in kept
    assert b'"carla"' not in kept and b"Carla" not in kept


def test_two_desks_that_each_made_a_signing_key_before_they_first_synced_keep_both(
    clinic_dir, tmp_path, server
):
    folder = clinic_dir[0]
    first = sign_in(folder, "admin", ADMIN_PASSWORD)
    first.users.create(
        first.actor, "ben", "Ben Okoro", {Role.ADMIN}, STAFF_PASSWORD, must_change_password=False
    )
    with first.store.write() as s:  # a clinic set up before prescriptions: no signing key yet
        s.execute(delete(SigningKey))
        s.execute(delete(OutboxEntry).where(OutboxEntry.entity == "signing_keys"))
    made = server.operator(
        "/v1/clinics",
        {"clinic_id": first.slots.clinic_id, "clinic_name": "Sunrise", "device_name": "Front"},
    )
    connect(first, server, made.json())
    desk.sync(first.store, first.payload_cipher())
    first.close()
    shutil.copytree(folder, tmp_path / "desk-b")
    # each desk, updated, makes the clinic's key at its first sign-in, before they sync
    a = sign_in(folder, "admin", ADMIN_PASSWORD)
    b = sign_in(tmp_path / "desk-b", "ben", STAFF_PASSWORD)
    try:
        connect(b, server, another_device(server, b))
        made_at = {name: own_active(x) for name, x in (("a", a), ("b", b))}
        assert len(made_at["a"]) == len(made_at["b"]) == 1 and made_at["a"] != made_at["b"]

        sync_all(a, b)

        both = made_at["a"] | made_at["b"]
        assert own_active(a) == own_active(b) == both  # both still trusted everywhere
        signing = {x.slots.folder: signing_kid(x) for x in (a, b)}
        assert len(set(signing.values())) == 1  # and every desk signs with the same one
        b.close()
        b = sign_in(tmp_path / "desk-b", "ben", STAFF_PASSWORD)
        assert own_active(b) == both  # having the clinic's keys, it makes no other
    finally:
        a.close()
        b.close()


def own_active(session: ClinicSession) -> set[str]:
    return {
        k.kid for k in session.signing_keys.list(session.actor) if k.own and k.status == "active"
    }


def signing_kid(session: ClinicSession) -> str:
    with session.store.read() as s:
        return active_key(s, signing_kek(session.store)).kid.hex()


def another_device(server, session: ClinicSession) -> dict:
    store = ServerStore(server.db_url)
    try:
        device = store.add_device(session.slots.clinic_id, "Doctor's room")
        return {"device_id": device.device_id, "token": device.token, "epoch": store.epoch()}
    finally:
        store.close()


def test_an_account_added_while_another_desk_changed_the_key_is_shown_needing_a_password(desks):
    a, b = desks
    dave = b.users.create(
        b.actor, "dave", "Dave Lim", {Role.RECEPTIONIST}, CARLA_PASSWORD, must_change_password=False
    ).id
    a.users.change_clinic_key(a.actor)  # before the two desks next sync

    sync_all(a, b)

    # the key change did not carry his slot over (it was made without it): nobody else lost
    # anything, and the administrators at both desks see he needs a new password
    assert signs_in(b.folder, "ben", STAFF_PASSWORD)
    assert not signs_in(b.folder, "dave", CARLA_PASSWORD)
    for session in (a, b):
        listed = {u.username: u.needs_new_password for u in session.users.list(session.actor)}
        assert listed["dave"] and not listed["ben"]
    a.users.reset_password(a.actor, dave, "a temporary password 9")
    sync_all(a, b)
    assert signs_in(b.folder, "dave", "a temporary password 9")


def test_a_backup_made_after_a_key_change_arrived_restores_with_todays_passwords(desks, tmp_path):
    a, b = desks
    a.users.change_clinic_key(a.actor)
    sync_all(a, b)
    made = register(b, "Dora", "Meyer")

    info = b.backup(tmp_path / "backups", make_folder=True)  # B's database still on the old key

    restore(info.path, tmp_path / "restored", "ben", STAFF_PASSWORD)
    restored = sign_in(tmp_path / "restored", "ben", STAFF_PASSWORD)
    try:
        assert {p.id for p in restored.patients.search(restored.actor, "meyer")} == {made}
    finally:
        restored.close()
    assert {p.id for p in b.patients.search(b.actor, "meyer")} == {made}  # B works on

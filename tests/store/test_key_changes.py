"""The clinic's key changes when someone must lose access: what a copied key file, a temporary
password or an old password still opens afterwards, with real files, real SQLCipher databases and
workstations as real OS processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinicdesk.errors import AccountInactive, DatabaseMismatch, WrongPassword
from clinicdesk.permissions import Role
from clinicdesk.services.access import sign_in
from clinicdesk.store.database import KeyChangedElsewhere
from clinicdesk.store.keyslots import SLOTS_FILE
from clinicdesk.store.models import Patient
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD
from tests.store.desks import Desk
from tests.store.stolen_keys import copy_of, key_from_copy, reads_accounts

NEW_PASSWORD = "a brand new passphrase"
TEMPORARY = "temporary pw 12"

pytestmark = pytest.mark.slow


def _user_id(admin, username: str) -> str:
    return next(u.id for u in admin.users.list(admin.actor) if u.username == username)


def _refused(folder: Path, username: str, password: str) -> None:
    with pytest.raises((WrongPassword, AccountInactive, DatabaseMismatch)):
        sign_in(folder, username, password).close()


def _opens(folder: Path, username: str, password: str) -> None:
    session = sign_in(folder, username, password)
    try:
        session.patients.count(session.actor) if session.actor.roles else None
    finally:
        session.close()


# --- a removed account --------------------------------------------------------------------------


def test_a_removed_persons_copy_of_the_key_file_no_longer_opens_the_live_database(admin, staff):
    staff(Role.RECEPTIONIST, username="rita")
    db, keyfile = admin.folder / "clinic.db", admin.folder / SLOTS_FILE
    her_copy = copy_of(keyfile)  # taken while she still worked here
    assert reads_accounts(db, key_from_copy(her_copy, STAFF_PASSWORD, "rita"))

    admin.users.deactivate(admin.actor, _user_id(admin, "rita"))

    assert not reads_accounts(db, key_from_copy(her_copy, STAFF_PASSWORD, "rita"))
    # everyone else still opens it: the admin's open session, a new sign-in, the recovery key
    assert admin.patients.count(admin.actor) == 0
    _opens(admin.folder, "admin", ADMIN_PASSWORD)
    _refused(admin.folder, "rita", STAFF_PASSWORD)


def test_the_recovery_key_opens_the_clinic_after_a_key_change(clinic_dir, admin, staff):
    staff(Role.RECEPTIONIST, username="rita")
    admin.users.deactivate(admin.actor, _user_id(admin, "rita"))
    now = copy_of(admin.folder / SLOTS_FILE)
    recovery_key = clinic_dir[1].recovery_key
    assert reads_accounts(admin.folder / "clinic.db", key_from_copy(now, recovery_key))


def test_a_temporary_password_opens_nothing_once_its_owner_chose_a_password(admin):
    db, keyfile = admin.folder / "clinic.db", admin.folder / SLOTS_FILE
    admin.users.create(admin.actor, "nina", "Nina Reyes", {Role.RECEPTIONIST}, TEMPORARY)
    note = copy_of(keyfile)  # whoever saw the note with the temporary password, and the file
    nina = sign_in(admin.folder, "nina", TEMPORARY)
    nina.change_password(TEMPORARY, NEW_PASSWORD)
    nina.close()

    assert not reads_accounts(db, key_from_copy(note, TEMPORARY, "nina"))
    _opens(admin.folder, "nina", NEW_PASSWORD)
    assert admin.patients.count(admin.actor) == 0  # the admin's session follows the new key


def test_a_reinstated_accounts_temporary_password_opens_nothing_afterwards(admin, staff):
    db, keyfile = admin.folder / "clinic.db", admin.folder / SLOTS_FILE
    staff(Role.RECEPTIONIST, username="nina")
    nina_id = _user_id(admin, "nina")
    admin.users.deactivate(admin.actor, nina_id)
    admin.users.reinstate(admin.actor, nina_id, TEMPORARY)
    note = copy_of(keyfile)
    nina = sign_in(admin.folder, "nina", TEMPORARY)
    nina.change_password(TEMPORARY, NEW_PASSWORD)
    nina.close()

    assert not reads_accounts(db, key_from_copy(note, TEMPORARY, "nina"))
    _opens(admin.folder, "nina", NEW_PASSWORD)


# --- two desks, one key file --------------------------------------------------------------------


@pytest.fixture
def desks(tmp_path: Path):
    opened: list[Desk] = []

    def make(folder: Path, name: str) -> Desk:
        desk = Desk(folder, name, tmp_path)
        opened.append(desk)
        return desk

    yield make
    for desk in opened:
        desk.stop()


def test_two_desks_never_undo_each_others_key_file_changes(admin, staff, desks):
    """Desk A removes Xavier; at desk B Mia changes her password; A then creates an account.
    Xavier's slot stays gone and Mia's new password stays the only one that works."""
    staff(Role.RECEPTIONIST, username="xavier")
    staff(Role.RECEPTIONIST, username="mia")
    a, b = desks(admin.folder, "desk-a"), desks(admin.folder, "desk-b")
    a.do("sign_in", user="admin", password=ADMIN_PASSWORD)
    b.do("sign_in", user="mia", password=STAFF_PASSWORD)

    a.do("remove", username="xavier")
    b.do("change_password", old=STAFF_PASSWORD, new=NEW_PASSWORD)
    a.do("create", username="omar", password=STAFF_PASSWORD)

    assert "xavier" not in {s.get("username") for s in copy_of(admin.folder / SLOTS_FILE)["slots"]}
    _refused(admin.folder, "xavier", STAFF_PASSWORD)
    _refused(admin.folder, "mia", STAFF_PASSWORD)
    _opens(admin.folder, "mia", NEW_PASSWORD)
    _opens(admin.folder, "omar", STAFF_PASSWORD)


@pytest.mark.long
def test_desks_creating_accounts_at_once_lose_none(admin, desks):
    names = [f"user{d}x{n}" for d in range(4) for n in range(3)]
    all_desks = [desks(admin.folder, f"desk-{d}") for d in range(4)]
    for desk in all_desks:
        desk.do("sign_in", user="admin", password=ADMIN_PASSWORD)
    for n in range(3):
        for d, desk in enumerate(all_desks):
            desk.send("create", username=f"user{d}x{n}", password=STAFF_PASSWORD)
        for desk in all_desks:
            assert "ok" in desk.answer()
    slots = {s.get("username") for s in copy_of(admin.folder / SLOTS_FILE)["slots"]}
    assert set(names) <= slots
    for name in names[::3]:
        _opens(admin.folder, name, STAFF_PASSWORD)


def test_a_desk_follows_a_key_change_made_at_another_desk(admin, staff, desks):
    staff(Role.RECEPTIONIST, username="mia")
    staff(Role.RECEPTIONIST, username="xavier")
    a, b = desks(admin.folder, "desk-a"), desks(admin.folder, "desk-b")
    a.do("sign_in", user="admin", password=ADMIN_PASSWORD)
    b.do("sign_in", user="mia", password=STAFF_PASSWORD)
    b.do("register", name="Before")

    a.do("remove", username="xavier")  # the clinic's key changes
    b.do("register", name="After")  # desk B switched to the new key by itself
    assert b.do("count") == 2

    a.do("remove", username="mia")
    refused = b.ask("count")
    assert refused["error"] == "AccountInactive"
    assert refused["message"] == "This account has been removed; ask an administrator."


# --- a key change cut short ---------------------------------------------------------------------


@pytest.mark.parametrize("point", ["before-reencrypting", "after-reencrypting"])
def test_a_key_change_cut_short_still_shuts_the_removed_person_out(
    clinic_dir, admin, staff, desks, point
):
    folder, setup = clinic_dir
    staff(Role.RECEPTIONIST, username="rita")
    staff(Role.RECEPTIONIST, username="mia")
    admin.patients.count(admin.actor)
    her_copy = copy_of(folder / SLOTS_FILE)
    a = desks(folder, "desk-a")
    a.do("sign_in", user="admin", password=ADMIN_PASSWORD)
    a.do("crash", point=point)
    assert a.ask("remove", username="rita") == {"exited": 0}  # the power went off

    _opens(folder, "mia", STAFF_PASSWORD)  # the next opening finishes the change
    _opens(folder, "admin", ADMIN_PASSWORD)
    now = copy_of(folder / SLOTS_FILE)
    assert "next" not in now
    assert reads_accounts(folder / "clinic.db", key_from_copy(now, setup.recovery_key))
    assert not reads_accounts(folder / "clinic.db", key_from_copy(her_copy, STAFF_PASSWORD, "rita"))
    _refused(folder, "rita", STAFF_PASSWORD)
    assert admin.patients.count(admin.actor) == 0  # the session open all along follows


def test_a_unit_of_work_cut_by_a_key_change_elsewhere_says_so_and_the_next_one_works(admin, staff):
    mia = staff(Role.RECEPTIONIST, username="mia")
    assert mia.patients.count(mia.actor) == 0
    with pytest.raises(KeyChangedElsewhere) as caught, mia.store.read() as s:
        admin.users.change_clinic_key(admin.actor)  # at another desk, at this very moment
        s.scalar(select(func.count()).select_from(Patient))
    assert caught.value.message == (
        "The clinic's key was changed at another workstation a moment ago; nothing was saved. "
        "Please try again."
    )
    assert mia.patients.count(mia.actor) == 0

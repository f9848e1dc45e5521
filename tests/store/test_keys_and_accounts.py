"""Key slots, sign-in, lockout, passwords, recovery key and permissions, on a real clinic."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinicdesk.errors import (
    AccountInactive,
    AccountLocked,
    DatabaseMismatch,
    PermissionDenied,
    ValidationError,
    WrongPassword,
)
from clinicdesk.permissions import Role
from clinicdesk.services.access import reset_password_with_recovery_key, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.keyslots import SLOTS_FILE
from clinicdesk.store.signin_guard import GUARD_FILE, LONGEST_PAUSE, SigninGuard, entry_key
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD

WRONG = "not the password at all"
NEW_PASSWORD = "a brand new passphrase"


def _slots(folder: Path) -> dict[str, dict]:
    data = json.loads((folder / SLOTS_FILE).read_text())
    return {s["slot_id"]: s for s in data["slots"]}


def _guard_file(folder: Path) -> dict:
    path = folder / GUARD_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _guard(folder: Path) -> dict:
    """The sign-in record by user name (the file keeps only a hash of each name)."""
    data = _guard_file(folder)
    return {name: data[entry_key(name)] for name in ("admin", "bob") if entry_key(name) in data}


def _audit_count(session) -> int:
    with session.store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar()


def _expire_lock(folder: Path, username: str) -> None:
    """What waiting out the pause does: the lock's end moves into the past."""
    data = _guard_file(folder)
    data[entry_key(username)]["locked_until"] = (
        datetime.now(UTC) - timedelta(seconds=1)
    ).isoformat()
    (folder / GUARD_FILE).write_text(json.dumps(data))


# --- wrong password -------------------------------------------------------------------------


def test_wrong_password_is_refused_and_changes_nothing(clinic_dir):
    folder, _ = clinic_dir
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    with pytest.raises(WrongPassword) as caught:
        sign_in(folder, "admin", WRONG)
    assert caught.value.message.startswith("The user name or password is not correct.")
    assert caught.value.attempts_left == 3

    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after.pop(GUARD_FILE, None) is not None  # only the failure count was written
    after.pop(GUARD_FILE + ".lock", None)  # (under its lock)
    assert after == before
    assert _guard(folder)["admin"]["failures"] == 1


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(clinic_dir):
    folder, _ = clinic_dir
    with pytest.raises(WrongPassword) as unknown:
        sign_in(folder, "nobody", ADMIN_PASSWORD)
    with pytest.raises(WrongPassword) as wrong:
        sign_in(folder, "admin", WRONG)
    assert unknown.value.message == wrong.value.message


def test_user_name_is_not_case_sensitive(clinic_dir):
    sign_in(clinic_dir[0], "  ADMIN ", ADMIN_PASSWORD).close()


# --- lockout --------------------------------------------------------------------------------


def test_fifth_wrong_password_pauses_sign_in_even_for_the_right_password(clinic_dir):
    """Four free attempts; the fifth sign-in attempt is refused with a pause (issue 2)."""
    folder, _ = clinic_dir
    for left in (3, 2, 1, 0):
        with pytest.raises(WrongPassword) as caught:
            sign_in(folder, "admin", WRONG)
        assert caught.value.attempts_left == left
    with pytest.raises(AccountLocked) as locked:
        sign_in(folder, "admin", ADMIN_PASSWORD)
    assert 25 <= locked.value.seconds_left <= 31
    assert "paused" in locked.value.message


def test_lockout_grows_survives_a_restart_and_ends(clinic_dir):
    folder, _ = clinic_dir
    pauses = []
    for _round in range(3):
        while True:
            try:
                sign_in(folder, "admin", WRONG)
            except WrongPassword:
                continue
            except AccountLocked as locked:
                pauses.append(locked.seconds_left)
                break
        # While paused even the right password is refused, and nothing is recorded.
        guard_bytes = (folder / GUARD_FILE).read_bytes()
        with pytest.raises(AccountLocked):
            sign_in(folder, "admin", ADMIN_PASSWORD)
        assert (folder / GUARD_FILE).read_bytes() == guard_bytes
        if _round < 2:
            _expire_lock(folder, "admin")
    assert pauses[0] < pauses[1] < pauses[2], pauses
    assert pauses[1] >= 2 * pauses[0] - 2

    # A fresh process (the app restarted) still sees the pause.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from clinicdesk.errors import AccountLocked\n"
        "from clinicdesk.services.access import sign_in\n"
        "try:\n"
        f"    sign_in(Path(sys.argv[1]), 'admin', {ADMIN_PASSWORD!r})\n"
        "except AccountLocked as e:\n"
        "    print('locked', e.seconds_left)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.startswith("locked"), out.stdout + out.stderr

    # Other accounts are not affected by admin's pause.
    SigninGuard(folder).begin_attempt("someone-else")

    _expire_lock(folder, "admin")
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    session.close()
    assert "admin" not in _guard(folder)  # a good sign-in clears the count


def test_lock_uses_the_guard_clock(tmp_path: Path):
    """SigninGuard's own arithmetic: the pause doubles and is capped."""
    folder = tmp_path
    guard = SigninGuard(folder)
    t0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    for _ in range(3):
        guard.begin_attempt("bob", now=t0)
    seen = []
    now = t0
    for _ in range(10):
        guard.begin_attempt("bob", now=now)
        until = datetime.fromisoformat(_guard(folder)["bob"]["locked_until"])
        seen.append(until - now)
        with pytest.raises(AccountLocked):
            guard.begin_attempt("bob", now=until - timedelta(seconds=1))
        now = until + timedelta(seconds=1)
    assert seen == sorted(seen)
    assert seen[-1] == LONGEST_PAUSE


# --- passwords ------------------------------------------------------------------------------


def test_password_change_rewraps_only_that_users_slot(admin, staff):
    doctor = staff(Role.DOCTOR, username="drlee")
    folder = admin.folder
    before = _slots(folder)
    doctor.change_password(STAFF_PASSWORD, NEW_PASSWORD)
    after = _slots(folder)

    assert before.keys() == after.keys()
    changed = [sid for sid in before if before[sid] != after[sid]]
    assert len(changed) == 1
    (mine,) = changed
    assert after[mine]["username"] == "drlee"
    for part in ("salt", "public_key", "wrapped_private", "sealed_key"):
        assert after[mine][part] != before[mine][part]

    with pytest.raises(WrongPassword):
        sign_in(folder, "drlee", STAFF_PASSWORD)
    sign_in(folder, "drlee", NEW_PASSWORD).close()
    sign_in(folder, "admin", ADMIN_PASSWORD).close()  # the database key itself did not change


def test_password_change_with_wrong_old_password_changes_nothing(admin):
    keyfile = admin.folder / SLOTS_FILE
    before = keyfile.read_bytes()
    with pytest.raises(WrongPassword):
        admin.change_password(WRONG, NEW_PASSWORD)
    with pytest.raises(ValidationError) as weak:
        admin.change_password(ADMIN_PASSWORD, "short")
    assert "new_password" in weak.value.fields
    assert keyfile.read_bytes() == before
    sign_in(admin.folder, "admin", ADMIN_PASSWORD).close()


def test_pending_account_must_change_password_and_can_do_nothing_before(admin):
    admin.users.create(admin.actor, "newbie", "New Bie", {Role.RECEPTIONIST}, "temporary pw 12")
    newbie = sign_in(admin.folder, "newbie", "temporary pw 12")
    try:
        assert newbie.must_change_password
        with pytest.raises(PermissionDenied):
            newbie.patients.register(
                newbie.actor, PatientInput("Ana", "Silva", datetime(1990, 1, 2).date(), "female")
            )
        newbie.change_password("temporary pw 12", NEW_PASSWORD)
        assert not newbie.must_change_password
        assert newbie.patients.count(newbie.actor) == 0
    finally:
        newbie.close()
    again = sign_in(admin.folder, "newbie", NEW_PASSWORD)
    try:
        assert not again.must_change_password
    finally:
        again.close()


# --- removed accounts -----------------------------------------------------------------------


def test_removed_user_can_no_longer_unlock(admin, staff):
    nurse = staff(Role.RECEPTIONIST, username="rita")
    old_keyfile = (admin.folder / SLOTS_FILE).read_bytes()
    admin.users.deactivate(admin.actor, nurse.actor.user_id)

    assert all(s["username"] != "rita" for s in _slots(admin.folder).values())
    with pytest.raises((WrongPassword, AccountInactive)):
        sign_in(admin.folder, "rita", STAFF_PASSWORD)
    # Her already open session cannot be unlocked after an idle lock either.
    with pytest.raises(AccountInactive):
        nurse.unlock(STAFF_PASSWORD)

    # Even with her old key slot put back (an old copy of the key file), the database's key
    # has changed since: the key her slot holds opens nothing.
    (admin.folder / SLOTS_FILE).write_bytes(old_keyfile)
    with pytest.raises(DatabaseMismatch):
        sign_in(admin.folder, "rita", STAFF_PASSWORD)


# --- recovery key ---------------------------------------------------------------------------


def test_recovery_key_resets_a_forgotten_password(clinic_dir):
    folder, setup = clinic_dir
    for _ in range(5):  # the admin forgot the password and got locked out
        with pytest.raises((WrongPassword, AccountLocked)):
            sign_in(folder, "admin", WRONG)
    other_slots = {k: v for k, v in _slots(folder).items() if v["username"] != "admin"}

    typed = setup.recovery_key.lower().replace("-", " ")  # as read aloud and typed
    reset_password_with_recovery_key(folder, typed, "admin", NEW_PASSWORD)

    assert {k: v for k, v in _slots(folder).items() if v["username"] != "admin"} == other_slots
    with pytest.raises(WrongPassword):
        sign_in(folder, "admin", ADMIN_PASSWORD)
    session = sign_in(folder, "admin", NEW_PASSWORD)
    try:
        actions = [r.action for r in session.audit.recent(session.actor)]
        assert "user.password_reset" in actions
    finally:
        session.close()


def test_wrong_recovery_key_is_refused_and_changes_nothing(clinic_dir):
    folder, setup = clinic_dir
    before = (folder / SLOTS_FILE).read_bytes()
    wrong_key = ("B" if setup.recovery_key[0] != "B" else "C") + setup.recovery_key[1:]
    with pytest.raises(WrongPassword):
        reset_password_with_recovery_key(folder, wrong_key, "admin", NEW_PASSWORD)
    assert (folder / SLOTS_FILE).read_bytes() == before
    sign_in(folder, "admin", ADMIN_PASSWORD).close()


# --- permissions ----------------------------------------------------------------------------


def test_receptionist_cannot_manage_users(admin, staff):
    desk = staff(Role.RECEPTIONIST)
    before = (admin.folder / SLOTS_FILE).read_bytes()
    with pytest.raises(PermissionDenied) as caught:
        desk.users.create(desk.actor, "intruder", "In Truder", {Role.ADMIN}, "password 12345")
    assert "not allowed" in caught.value.message
    with pytest.raises(PermissionDenied):
        desk.users.list(desk.actor)
    with pytest.raises(PermissionDenied):
        desk.users.deactivate(desk.actor, admin.actor.user_id)
    with pytest.raises(PermissionDenied):
        desk.backup(admin.folder / "x.cdbak")
    assert (admin.folder / SLOTS_FILE).read_bytes() == before
    assert not (admin.folder / "x.cdbak").exists()
    assert {u.username for u in admin.users.list(admin.actor)} == {"admin", "receptionist"}


def test_pharmacist_cannot_register_patients(admin, staff):
    pharmacy = staff(Role.PHARMACIST)
    audit_before = _audit_count(admin)
    with pytest.raises(PermissionDenied) as caught:
        pharmacy.patients.register(
            pharmacy.actor, PatientInput("Ana", "Silva", datetime(1990, 1, 2).date(), "female")
        )
    assert caught.value.permission == "patients.write"
    assert admin.patients.count(admin.actor) == 0
    assert _audit_count(admin) == audit_before
    assert pharmacy.patients.search(pharmacy.actor, "silva") == []  # reading is allowed

"""Who may change whose account: the attacks an admin could make on the super admin, on herself
and on the last super admin, each refused in words with nothing changed."""

from __future__ import annotations

from functools import partial

import pytest

from clinicdesk.errors import AccountInactive, ClinicDeskError, WrongPassword
from clinicdesk.permissions import SYSTEM, Role
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD

CHOSEN = "bea chose this one"


def snapshot(admin: ClinicSession) -> tuple:
    """Every account with its roles and status, and the key file."""
    accounts = sorted(
        (u.username, sorted(u.roles), u.status) for u in admin.users.list(admin.actor)
    )
    return accounts, (admin.folder / SLOTS_FILE).read_bytes()


def refused(admin: ClinicSession, call, *words: str) -> str:
    """The call is refused with a sentence holding ``words``, and nothing changed."""
    before = snapshot(admin)
    with pytest.raises(ClinicDeskError) as caught:
        call()
    message = caught.value.message
    for word in words:
        assert word in message, message
    assert snapshot(admin) == before
    return message


@pytest.fixture
def bea(staff) -> ClinicSession:
    """An admin (not a super admin)."""
    return staff(Role.ADMIN, username="bea")


def test_an_admin_cannot_reinstate_an_active_super_admin_with_a_password_she_chooses(admin, bea):
    refused(
        admin,
        lambda: bea.users.reinstate(bea.actor, admin.actor.user_id, CHOSEN),
        "super admin",
    )
    with pytest.raises(WrongPassword):
        sign_in(admin.folder, "admin", CHOSEN)
    sign_in(admin.folder, "admin", ADMIN_PASSWORD).close()


def test_reinstate_works_only_on_a_removed_account(admin, staff):
    nurse = staff(Role.RECEPTIONIST, username="nurse")
    nurse_id = nurse.actor.user_id
    refused(admin, lambda: admin.users.reinstate(admin.actor, nurse_id, CHOSEN), "removed")
    pending = admin.users.create(admin.actor, "newbie", "New Bie", {Role.BILLING}, STAFF_PASSWORD)
    refused(admin, lambda: admin.users.reinstate(admin.actor, pending.id, CHOSEN), "removed")

    admin.users.deactivate(admin.actor, nurse_id)
    assert admin.users.reinstate(admin.actor, nurse_id, CHOSEN).status == "pending"
    sign_in(admin.folder, "nurse", CHOSEN).close()


@pytest.mark.parametrize("role", [Role.SUPER_ADMIN, Role.ADMIN, Role.DOCTOR, Role.PHARMACIST])
def test_nobody_changes_their_own_roles(admin, bea, role):
    refused(
        admin,
        lambda: bea.users.set_roles(bea.actor, bea.actor.user_id, {Role.ADMIN, role}),
        "your own roles",
    )


def test_not_even_a_super_admin_changes_her_own_roles(admin):
    refused(
        admin,
        lambda: admin.users.set_roles(admin.actor, admin.actor.user_id, {Role.ADMIN}),
        "your own roles",
    )


def test_an_admin_cannot_remove_or_demote_a_super_admin(admin, bea):
    ada = admin.actor.user_id
    refused(admin, lambda: bea.users.deactivate(bea.actor, ada), "super admin")
    refused(admin, lambda: bea.users.set_roles(bea.actor, ada, {Role.ADMIN}), "super admin")
    refused(admin, lambda: bea.users.set_roles(bea.actor, ada, {Role.DOCTOR}), "super admin")


def test_only_a_super_admin_grants_admin_roles(admin, bea, staff):
    clerk = staff(Role.RECEPTIONIST, username="clerk").actor.user_id
    for grant in ({Role.ADMIN}, {Role.SUPER_ADMIN}):
        refused(admin, partial(bea.users.set_roles, bea.actor, clerk, grant), "super admin")
        refused(
            admin,
            partial(bea.users.create, bea.actor, "boss", "Boss", grant, STAFF_PASSWORD),
            "super admin",
        )
    assert admin.users.set_roles(admin.actor, clerk, {Role.ADMIN}).roles == {Role.ADMIN}


def test_an_admin_gives_clinical_roles_to_others_only(admin, bea, staff):
    clerk = staff(Role.RECEPTIONIST, username="clerk").actor.user_id
    roles = {Role.RECEPTIONIST, Role.PHARMACIST}
    assert bea.users.set_roles(bea.actor, clerk, roles).roles == roles
    refused(
        admin,
        lambda: bea.users.set_roles(bea.actor, bea.actor.user_id, {Role.ADMIN, Role.DOCTOR}),
        "your own roles",
    )


def test_the_last_super_admin_cannot_be_removed_or_demoted(admin, staff):
    ada = admin.actor.user_id
    staff(Role.ADMIN, username="bea")  # another administrator exists, but no other super admin
    refused(admin, lambda: admin.users.deactivate(SYSTEM, ada), "last super admin")
    refused(admin, lambda: admin.users.set_roles(SYSTEM, ada, {Role.ADMIN}), "last super admin")

    # with a second super admin, one may remove the other
    admin.users.create(
        admin.actor, "cleo", "Cleo", {Role.SUPER_ADMIN}, STAFF_PASSWORD, must_change_password=False
    )
    cleo = sign_in(admin.folder, "cleo", STAFF_PASSWORD)
    try:
        assert cleo.users.set_roles(cleo.actor, ada, {Role.ADMIN}).roles == {Role.ADMIN}
    finally:
        cleo.close()


TEMPORARY = "temp-pass-4567"


def test_an_admin_resets_a_password_which_must_be_changed_at_the_next_sign_in(admin, staff):
    nurse = staff(Role.RECEPTIONIST, username="nurse")
    nurse_id = nurse.actor.user_id
    admin.users.reset_password(admin.actor, nurse_id, TEMPORARY)
    with pytest.raises(AccountInactive):  # the desk signed in with the old password stops
        nurse.clinic.details()

    entry = admin.audit.recent(admin.actor, 1)[0]
    assert (entry.action, entry.actor_name, entry.entity_id) == (
        "user.password_reset",
        admin.actor.display_name,
        nurse_id,
    )
    with pytest.raises(WrongPassword):
        sign_in(admin.folder, "nurse", STAFF_PASSWORD)
    session = sign_in(admin.folder, "nurse", TEMPORARY)
    try:
        assert session.must_change_password
        assert not session.actor.roles  # nothing until a password of their own is chosen
        with pytest.raises(ClinicDeskError, match="differ from the temporary password"):
            session.change_password(TEMPORARY, TEMPORARY)
        session.change_password(TEMPORARY, CHOSEN)
        assert not session.must_change_password
        assert session.actor.roles == {Role.RECEPTIONIST}
    finally:
        session.close()
    again = sign_in(admin.folder, "nurse", CHOSEN)
    assert not again.must_change_password
    again.close()
    with pytest.raises(WrongPassword):
        sign_in(admin.folder, "nurse", TEMPORARY)


def test_resetting_a_password_follows_the_rules_of_changing_roles(admin, bea, staff):
    refused(
        admin,
        lambda: admin.users.reset_password(admin.actor, admin.actor.user_id, TEMPORARY),
        "own password",
    )
    refused(
        admin,
        lambda: bea.users.reset_password(bea.actor, admin.actor.user_id, TEMPORARY),
        "super admin",
    )
    nurse = staff(Role.RECEPTIONIST, username="nurse")
    refused(
        admin,
        lambda: admin.users.reset_password(admin.actor, nurse.actor.user_id, "short"),
        "10 characters",
    )
    admin.users.deactivate(admin.actor, nurse.actor.user_id)
    refused(
        admin,
        lambda: admin.users.reset_password(admin.actor, nurse.actor.user_id, TEMPORARY),
        "reinstate",
    )
    sign_in(admin.folder, "admin", ADMIN_PASSWORD).close()

"""Accounts created by an admin: pending until their owner sets a password of their own."""

from __future__ import annotations

from datetime import date

import pytest

from clinicdesk.errors import PermissionDenied
from clinicdesk.permissions import Role
from clinicdesk.services.access import sign_in
from clinicdesk.services.patients import PatientInput


def test_a_pending_account_can_do_nothing_until_its_password_is_changed(admin):
    admin.users.create(admin.actor, "nina", "Nina Reyes", {Role.RECEPTIONIST}, "temporary pw 1")
    nina = sign_in(admin.folder, "nina", "temporary pw 1")
    try:
        assert nina.must_change_password
        with pytest.raises(PermissionDenied):
            nina.patients.search(nina.actor, "anyone")
        nina.change_password("temporary pw 1", "nina's own password")
        assert not nina.must_change_password
        nina.patients.register(nina.actor, PatientInput("Ivo", "Horvat", date(1991, 4, 2), "male"))
    finally:
        nina.close()
    (account,) = [u for u in admin.users.list(admin.actor) if u.username == "nina"]
    assert account.status == "active"

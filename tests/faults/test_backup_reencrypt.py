"""An older backup encrypted again with the clinic's current key: the passwords of its day,
a removed person's included, no longer open it; today's do."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from clinicdesk.errors import Conflict, WrongPassword
from clinicdesk.permissions import Role
from clinicdesk.services.access import restore
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD
from tests.store.stolen_keys import key_from_copy, reads_accounts


def _inside(backup: Path, tmp: Path) -> tuple[Path, dict]:
    import json

    with zipfile.ZipFile(backup) as zf:
        zf.extract("clinic.db", tmp)
        return tmp / "clinic.db", json.loads(zf.read(SLOTS_FILE))


def test_an_old_backup_reencrypted_no_longer_opens_with_a_removed_persons_password(
    admin, staff, tmp_path: Path
):
    staff(Role.ADMIN, username="ravi").close()
    old = admin.backup(tmp_path / "old.cdbak").path
    db, key_file = _inside(old, tmp_path / "before")
    assert reads_accounts(db, key_from_copy(key_file, STAFF_PASSWORD, "ravi"))  # as it was
    ravi_id = next(u.id for u in admin.users.list(admin.actor) if u.username == "ravi")
    admin.users.deactivate(admin.actor, ravi_id)

    admin.reencrypt_backup(old)

    db, key_file = _inside(old, tmp_path / "after")
    assert "ravi" not in {s.get("username") for s in key_file["slots"]}
    with pytest.raises(Conflict):
        admin.reencrypt_backup(old)  # already done
    assert admin.audit.recent(admin.actor, 1)[0].action == "data.backup_reencrypt"
    admin.close()
    with pytest.raises(WrongPassword):
        restore(old, admin.folder, "ravi", STAFF_PASSWORD)
    restore(old, admin.folder, "admin", ADMIN_PASSWORD)  # today's password opens it

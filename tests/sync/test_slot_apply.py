"""Key slot rows applied at a desk write its key file: once (a slot arriving again changes
nothing, not even the file's time), and a removed slot arriving removes it there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clinicdesk.permissions import Role
from clinicdesk.services.access import sign_in
from clinicdesk.store.keyslots import SLOTS_FILE, KeySlotFile
from clinicdesk.sync.apply import apply_page
from tests.conftest import ADMIN_PASSWORD
from tests.sync.test_apply import newest, unpushed

PASSWORD = "carla's own password 1"


@pytest.fixture
def copies(clinic_dir, tmp_path: Path):
    """Desk A and desk B, a copy of it, each signed in by the admin (no server: A's outbox is
    applied at B as the server would relay it)."""
    folder, _ = clinic_dir
    sign_in(folder, "admin", ADMIN_PASSWORD).close()  # its slots recorded, as at any sign-in
    shutil.copytree(folder, tmp_path / "desk-b")
    a = sign_in(folder, "admin", ADMIN_PASSWORD)
    b = sign_in(tmp_path / "desk-b", "admin", ADMIN_PASSWORD)
    yield a, b
    a.close()
    b.close()


def add_carla(a) -> str:
    return a.users.create(
        a.actor, "carla", "Carla Reyes", {Role.RECEPTIONIST}, PASSWORD, must_change_password=False
    ).id


def test_a_slot_arriving_twice_changes_nothing(copies):
    a, b = copies
    mark = newest(a)
    add_carla(a)
    page = unpushed(a, after=mark)
    assert any(p.change.entity == "key_slots" for p in page)

    apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)
    slot_file = b.folder / SLOTS_FILE
    first, first_time = slot_file.read_bytes(), slot_file.stat().st_mtime_ns
    carla = KeySlotFile.load(b.folder).user_slot("carla")
    assert carla is not None
    assert carla.to_json() == KeySlotFile.load(a.folder).user_slot("carla").to_json()

    again = apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)

    assert again.applied == 0
    assert slot_file.read_bytes() == first
    assert slot_file.stat().st_mtime_ns == first_time  # not even written again
    sign_in(b.folder, "carla", PASSWORD).close()


def test_a_removed_slot_arriving_removes_it(copies):
    a, b = copies
    mark = newest(a)
    carla_id = add_carla(a)
    page = unpushed(a, after=mark)
    apply_page(b.store, b.payload_cipher(), page, after=page[-1].seq)
    carla = KeySlotFile.load(b.folder).slot_for_user_id(carla_id)
    assert carla is not None

    mark = newest(a)
    a.users.reset_password(a.actor, carla_id, "a temporary password 9")  # a slot in its place
    removed = [
        p
        for p in unpushed(a, after=mark)
        if p.change.entity == "key_slots" and p.change.entity_id == carla.slot_id
    ]
    assert len(removed) == 1 and removed[0].change.deleted

    apply_page(b.store, b.payload_cipher(), removed, after=removed[-1].seq)

    left = KeySlotFile.load(b.folder)
    assert left.slot(carla.slot_id) is None
    assert left.slot_for_user_id(carla_id) is None  # her new slot was not among what arrived
    assert left.user_slot("admin") is not None  # nothing else went with it

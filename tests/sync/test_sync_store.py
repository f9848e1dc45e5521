"""The server's store as its operator and the desks rely on it, on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest

from clinicdesk.sync.protocol import (
    MAX_PUSH,
    BadRequest,
    Conflict,
    NotFound,
    Revoked,
    TooLarge,
    Unauthorized,
    WireChange,
)
from clinicdesk.sync.server.store import ServerStore


def change(n: int, clinic: str = "c") -> WireChange:
    return WireChange(f"op-{clinic}-{n}", "patients", f"row-{n}", 1, False, 0, os.urandom(40))


def test_operator_tokens_are_kept_as_hashes_and_checked(store: ServerStore):
    token = store.new_operator_token()
    store.check_operator_token(token)
    with pytest.raises(Unauthorized):
        store.check_operator_token(token + "x")
    with store.engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT token_hash FROM operator_tokens").scalars().all()
    assert token not in kept and len(kept) == 1


def test_a_clinic_space_is_made_once_and_its_device_signs_in(store: ServerStore):
    first = store.create_clinic("clinic-1", "Sunrise Family Clinic", "Front desk")
    device = store.authenticate(first.token)
    assert (device.id, device.clinic_id, device.name) == (first.device_id, "clinic-1", "Front desk")
    with pytest.raises(Conflict, match="join code"):
        store.create_clinic("clinic-1", "Sunrise again", "Second desk")
    with pytest.raises(Unauthorized):
        store.authenticate(first.device_id + ".wrong-secret")
    with pytest.raises(Unauthorized):
        store.authenticate("no-dot-at-all")
    with pytest.raises(BadRequest):
        store.create_clinic("clinic 2", "Spaces in the id", "Desk")


def test_a_retried_push_appends_nothing_twice(store: ServerStore):
    device = store.authenticate(store.create_clinic("clinic-1", "Sunrise", "Desk").token)
    batch = [change(n) for n in range(5)]
    first = store.push(device, batch)
    assert [r.seq for r in first.results] == [1, 2, 3, 4, 5] and first.head == 5
    again = store.push(device, [*batch[2:], change(9)])
    assert [(r.seq, r.duplicate) for r in again.results] == [
        (3, True),
        (4, True),
        (5, True),
        (6, False),
    ]
    assert again.head == 6
    # the same op twice in one batch is appended once
    twice = store.push(device, [change(10), change(10)])
    assert [(r.seq, r.duplicate) for r in twice.results] == [(7, False), (7, True)]


def test_a_pull_reads_in_order_in_pages_and_records_the_cursor(store: ServerStore):
    first = store.create_clinic("clinic-1", "Sunrise", "Front desk")
    writer = store.authenticate(first.token)
    reader = store.authenticate(store.add_device("clinic-1", "Doctor's room").token)
    batch = [change(n) for n in range(7)]
    store.push(writer, batch)
    page = store.pull(reader, after=0, limit=3)
    assert [c.seq for c in page.changes] == [1, 2, 3] and page.more and page.head == 7
    assert page.changes[0].change == batch[0] and page.changes[0].device_id == writer.id
    rest = store.pull(reader, after=3, limit=1000)
    assert [c.change for c in rest.changes] == batch[3:] and not rest.more
    seen = {d.name: d for d in store.devices("clinic-1")}
    assert seen["Doctor's room"].cursor == 7 and seen["Doctor's room"].last_seen_at is not None
    assert seen["Front desk"].cursor == 0 and seen["Front desk"].last_seen_at is None


def test_a_push_over_the_limit_applies_nothing(store: ServerStore):
    device = store.authenticate(store.create_clinic("clinic-1", "Sunrise", "Desk").token)
    with pytest.raises(TooLarge):
        store.push(device, [change(n) for n in range(MAX_PUSH + 1)])
    assert store.pull(device, 0).head == 0


def test_a_revoked_device_is_refused_with_its_reason(store: ServerStore):
    first = store.create_clinic("clinic-1", "Sunrise", "Front desk")
    device = store.authenticate(first.token)
    other = store.authenticate(store.create_clinic("clinic-2", "Harbour", "Desk").token)
    with pytest.raises(NotFound):
        store.revoke(device.id, "not yours", clinic_id=other.clinic_id)
    store.revoke(device.id, "laptop stolen from the front desk")
    for attempt in (
        lambda: store.authenticate(first.token),
        lambda: store.push(device, [change(1)]),
        lambda: store.pull(device, 0),
    ):
        with pytest.raises(Revoked, match="laptop stolen") as caught:
            attempt()
        assert caught.value.reason == "laptop stolen from the front desk"
    # revoking again keeps the first reason
    assert store.revoke(device.id, "again").revoked_reason == "laptop stolen from the front desk"
    assert [(c.id, c.devices, c.revoked_devices) for c in store.clinics()] == [
        ("clinic-1", 1, 1),
        ("clinic-2", 1, 0),
    ]


def test_a_new_epoch_replaces_the_old(store: ServerStore):
    before = store.epoch()
    assert store.init() == before  # a second init keeps it
    after = store.new_epoch()
    assert after != before and store.epoch() == after

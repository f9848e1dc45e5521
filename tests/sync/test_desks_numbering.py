"""Numbers a desk hands out (patients' record numbers, the day's queue tokens) stay its own once
another desk's patients and queue have arrived: the next one registered or queued here takes the
next number, instead of failing on one already taken."""

from __future__ import annotations

import pytest

from clinicdesk.sync import desk
from tests.sync.conftest import DESK_BACKENDS, register


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_desk_numbers_on_after_what_arrived_from_the_other(desks, server):
    a, b = desks
    first = register(a, "Ngozi", "Adichie")
    token = a.queue.add_walk_in(a.actor, first).token
    for session in (a, b):
        desk.sync(session.store, session.payload_cipher())
    assert b.patients.get(b.actor, first).mrn == "SFC-000001"

    second = register(b, "Ama", "Ata Aidoo")  # failed on SFC-000001, taken, before
    queued = b.queue.add_walk_in(b.actor, second)

    assert b.patients.get(b.actor, second).mrn == "SFC-000002"
    assert queued.token == token + 1
    for session in (b, a):
        desk.sync(session.store, session.payload_cipher())
    assert a.patients.get(a.actor, second).mrn == "SFC-000002"
    assert [q.token for q in a.queue.board(a.actor)] == [token, token + 1]

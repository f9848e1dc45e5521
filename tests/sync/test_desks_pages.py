"""Pages of changes as a desk applies them: a desk's own change coming back from the server is
never taken for someone else's."""

from __future__ import annotations

import pytest

from clinicdesk.sync import desk
from tests.sync.conftest import DESK_BACKENDS, assert_in_step, conflicts_at, move, register

pytestmark = pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)


def test_a_desks_own_change_coming_back_is_not_a_conflict(desks, server):
    a, b = desks
    patient = register(a, "Wole", "Soyinka")
    client = desk.connection(a.store).client()
    try:
        desk.push(a.store, client, a.payload_cipher())  # the pusher sends the registration
        version = move(a, patient, "3 Abeokuta Street")  # the receptionist edits at once
        done = desk.pull(a.store, client, a.payload_cipher())  # the puller brings it back
    finally:
        client.close()

    assert done.conflicts == 0
    assert conflicts_at(a) == 0
    kept = a.patients.get(a.actor, patient)
    assert (kept.address, kept.version) == ("3 Abeokuta Street", version)
    assert desk.waiting(a.store) > 0  # the edit, still to be sent
    for session in (a, b, a):
        desk.sync(session.store, session.payload_cipher())
    assert b.patients.get(b.actor, patient).address == "3 Abeokuta Street"
    assert_in_step(server, a, b)

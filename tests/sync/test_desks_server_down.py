"""The sync server goes down while the clinic is open: the desks keep working, say since when they
are offline and how much waits to be sent, and catch up by themselves once it is back."""

from __future__ import annotations

import time

import pytest

from clinicdesk.ids import utcnow
from clinicdesk.sync import client, desk, runner
from clinicdesk.sync.runner import SyncRunner
from tests.sync.conftest import DESK_BACKENDS, eventually, register

PAUSES = (0.2, 0.5, 1.0)  # the runner's pauses between attempts, shortened for the test


@pytest.mark.parametrize("own_server", DESK_BACKENDS, indirect=True)
def test_a_desk_works_offline_says_so_and_catches_up_once_the_server_is_back(
    own_desks, own_server, monkeypatch
):
    a, b = own_desks
    monkeypatch.setattr(runner, "PUSH_EVERY", 0.3)  # the pusher looks often, even with nothing
    monkeypatch.setattr(client, "BACKOFF", 0.05)  # and tries the server again sooner
    runners = [SyncRunner(s.store, s.payload_cipher, long_poll=2, pauses=PAUSES) for s in (a, b)]
    for each in runners:
        each.start()
    try:
        eventually(
            lambda: [r.status.text() for r in runners] == ["Synced", "Synced"],
            20,
            "both desks synced at first",
        )
        down = utcnow().replace(microsecond=0)
        own_server.kill()

        patient = register(a, "Amara", "Nwosu")  # the front desk goes on registering
        assert a.patients.search(a.actor, "nwosu")
        waiting = desk.waiting(a.store)
        assert waiting >= 1
        eventually(
            lambda: (
                runners[0].status.offline_since is not None
                and f"{waiting} waiting to be sent" in runners[0].status.text()
            ),
            15,
            lambda: f"desk A says it is offline with its change waiting: {runners[0].status}",
        )
        status = runners[0].status
        assert down <= status.offline_since <= utcnow()
        clock = status.offline_since.strftime("%H:%M")
        assert status.text() == f"Offline since {clock} · {waiting} waiting to be sent"
        assert "cannot be reached" in status.problem
        eventually(lambda: runners[1].status.offline_since is not None, 15, "B is offline too")
        assert not b.patients.search(b.actor, "nwosu")
        # B has nothing to send: its pusher finding nothing to do tells nothing of the server
        seen = set()
        for _ in range(30):
            seen.add(runners[1].status.text())
            time.sleep(0.05)
        assert seen == {f"Offline since {clock}"}, seen

        own_server.start()
        back = time.monotonic()
        took = eventually(
            lambda: [p.id for p in b.patients.search(b.actor, "nwosu")] == [patient],
            20,
            "the patient registered while the server was down reaches desk B",
        )
        eventually(
            lambda: [r.status.text() for r in runners] == ["Synced", "Synced"],
            20,
            lambda: f"both desks synced again: {[r.status.text() for r in runners]}",
        )
        print(f"caught up {took:.1f} s after the server came back")
        assert desk.waiting(a.store) == 0
        assert time.monotonic() - back < 20
    finally:
        for each in runners:
            each.stop()

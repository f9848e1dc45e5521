"""Closing the clinic (signing out, quitting) while sync waits on the server: the wait is cut
short and the clinic closes at once, whether the server is quiet (a long poll waiting for
changes) or not answering at all."""

from __future__ import annotations

import threading
import time

import pytest

from clinicdesk.sync import desk
from tests.sync.conftest import eventually, register, two_desks
from tests.sync.proxy import Fault, FaultyProxy


def sync_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("sync-") and t.is_alive()]


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_clinic_closes_at_once_while_sync_waits_on_the_server(clinic_dir, tmp_path, server):
    proxy = FaultyProxy(server.port, delay=60)
    a, b = two_desks(clinic_dir[0], tmp_path / "desk-b", server, url=proxy.url)
    try:
        for session in (a, b):
            desk.sync(session.store, session.payload_cipher())
            session.start_sync()  # as the main window does: pulls wait 20 s for a change
        for session in (a, b):
            eventually(lambda s=session: s.sync.status(s.actor).text() == "Synced", 10, "synced")
        time.sleep(1)  # both long polls are waiting on the server

        started = time.monotonic()
        b.close()
        quiet = time.monotonic() - started

        proxy.set(Fault.DELAY)  # the server no longer answers A
        register(a, "Aminata", "Sow")  # A's pusher sends it, and waits
        time.sleep(1)
        started = time.monotonic()
        a.close()
        stuck = time.monotonic() - started
    finally:
        proxy.close()

    print(f"closed in {quiet:.2f} s while a long poll waited, {stuck:.2f} s while stuck")
    assert quiet < 2 and stuck < 2
    assert not sync_threads()

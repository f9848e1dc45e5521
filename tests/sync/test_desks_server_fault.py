"""The sync server fails each push with a fault of its own (HTTP 500; here its database refuses to
take changes): the desk says so in words, keeps its changes waiting, and once the server is
mended sends them, each once."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from clinicdesk.store.models import OutboxEntry
from clinicdesk.sync import client, desk
from clinicdesk.sync.protocol import ServerFault
from clinicdesk.sync.runner import SyncRunner
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import (
    DESK_BACKENDS,
    assert_in_step,
    eventually,
    register,
    server_log,
)

REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_changes BEFORE INSERT ON changes "
        "BEGIN SELECT RAISE(ABORT, 'the disk is failing'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the disk is failing'; END $$",
        "CREATE TRIGGER refuse_changes BEFORE INSERT ON changes "
        "FOR EACH ROW EXECUTE FUNCTION refuse_change()",
    ],
}
MEND = {
    "sqlite": ["DROP TRIGGER refuse_changes"],
    "postgresql": ["DROP TRIGGER refuse_changes ON changes", "DROP FUNCTION refuse_change()"],
}


@contextmanager
def refusing_changes(server):
    """The server's database fails every append to a clinic's log until mended."""

    def run(statements: list[str]) -> None:
        store = ServerStore(server.db_url)
        try:
            with store.engine.begin() as conn:
                for statement in statements:
                    conn.exec_driver_sql(statement)
        finally:
            store.close()

    run(REFUSE[server.backend])
    mended = False

    def mend() -> None:
        nonlocal mended
        run(MEND[server.backend])
        mended = True

    try:
        yield mend
    finally:
        if not mended:
            mend()


def unpushed(session) -> set[str]:
    with session.store.read() as s:
        return set(s.scalars(select(OutboxEntry.op_id).where(OutboxEntry.pushed_at.is_(None))))


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_push_the_server_fails_stays_waiting_and_is_sent_once_it_is_mended(
    desks, server, monkeypatch
):
    a, b = desks
    monkeypatch.setattr(client, "BACKOFF", 0.05)
    for session in (a, b):
        desk.sync(session.store, session.payload_cipher())
    known = {c.change.op_id for c in server_log(server, a)}

    with refusing_changes(server) as mend:
        patients = [register(a, "Yaa", name) for name in ("Asantewaa", "Gyasi")]
        waiting = unpushed(a)
        with pytest.raises(ServerFault) as failed:
            desk.sync(a.store, a.payload_cipher())
        assert failed.value.message.startswith("The sync server ran into a fault of its own")
        assert "the disk is failing" not in failed.value.message

        runner = SyncRunner(a.store, a.payload_cipher, long_poll=1, pauses=(0.2, 0.5))
        runner.start()
        try:
            eventually(
                lambda: runner.status.problem,
                10,
                lambda: f"the desk says what went wrong: {runner.status}",
            )
            assert runner.status.text() == (
                f"Sync: {failed.value.message} · {len(waiting)} waiting to be sent"
            )
            assert unpushed(a) == waiting  # kept, every one, however often it was tried
            assert {c.change.op_id for c in server_log(server, a)} == known

            mend()
            eventually(
                lambda: runner.status.text() == "Synced",
                15,
                lambda: f"sent once the server is mended: {runner.status.text()}",
            )
        finally:
            runner.stop()

    assert not unpushed(a)
    for session in (b, a):
        desk.sync(session.store, session.payload_cipher())
    log = assert_in_step(server, a, b)
    sent = [c.change.op_id for c in log if c.change.op_id in waiting]
    assert sorted(sent) == sorted(waiting)  # each once
    for patient in patients:
        assert b.patients.get(b.actor, patient)

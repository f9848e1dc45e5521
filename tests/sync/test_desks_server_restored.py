"""The sync server restored from an old backup (its SQLite file put back, a new epoch made):
the desks are told to start again (410), pull everything from the beginning, and send what the
restored server lacks, what they had not sent and what it lost, until both desks and the server
hold the same clinic."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from clinicdesk.sync import desk
from clinicdesk.sync.apply import cursor
from clinicdesk.sync.server.database import SQLITE_FILE
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import assert_in_step, move, patients_at, register, server_log


def backup(server, to: Path) -> None:
    """A copy of the server's SQLite database as its operator's nightly backup makes it."""
    source = sqlite3.connect(server.folder / SQLITE_FILE)
    copy = sqlite3.connect(to)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


def restore(server, copy: Path) -> None:
    """The operator puts last night's database back and tells the server it was restored."""
    server.stop()
    data = server.folder / SQLITE_FILE
    for extra in (Path(f"{data}-wal"), Path(f"{data}-shm")):
        extra.unlink(missing_ok=True)
    shutil.copyfile(copy, data)
    store = ServerStore(server.db_url)
    try:
        store.new_epoch()
    finally:
        store.close()
    server.start()


def sync(*sessions) -> None:
    for session in sessions:
        desk.sync(session.store, session.payload_cipher())


@pytest.mark.parametrize("own_server", ["sqlite"], indirect=True)
def test_desks_follow_a_server_restored_from_an_old_backup(own_desks, own_server, tmp_path):
    a, b = own_desks
    first = register(a, "Efua", "Sutherland")
    sync(a, b)
    backup(own_server, tmp_path / "nightly.db")

    # the next morning, before the server's disk fails
    second = register(a, "Ayi", "Armah")
    sync(a)
    move(b, first, "7 Cape Coast Road")
    sync(b, a)
    third = register(a, "Kojo", "Laing")  # sent, but never pulled by B
    sync(a)
    fourth = register(a, "Amma", "Darko")  # not yet sent
    head_before = server_log(own_server, a)[-1].seq

    restore(own_server, tmp_path / "nightly.db")
    assert server_log(own_server, a)[-1].seq < head_before  # the morning's changes are gone

    sync(a, b, a)

    log = assert_in_step(own_server, a, b)
    assert cursor(a.store) == cursor(b.store) == log[-1].seq
    for session in (a, b):
        for patient in (first, second, third, fourth):
            assert session.patients.get(session.actor, patient), patient
        found = [p.id for p in session.patients.search(session.actor, "laing")]
        assert found == [third]
        assert session.patients.get(session.actor, first).address == "7 Cape Coast Road"
        assert patients_at(session) == 4
    on_server = {c.change.entity_id for c in log if c.change.entity == "patients"}
    assert on_server == {first, second, third, fourth}  # a desk joining later gets them all

"""A bad network between the desks and the sync server (a proxy on loopback that cuts
connections, cuts answers short or holds them back past the desk's patience): sync says what
went wrong in words, applies nothing twice and loses nothing, and once the network behaves
everything arrives exactly once. TLS passes through the proxy untouched: the desks still pin the
server's own certificate."""

from __future__ import annotations

import pytest

from clinicdesk.sync import client, desk
from clinicdesk.sync.client import Offline
from clinicdesk.sync.server.tls import make_certificate, server_names
from tests.sync.conftest import (
    DESK_BACKENDS,
    assert_in_step,
    move,
    patients_at,
    register,
    two_desks,
)
from tests.sync.proxy import Fault, FaultyProxy

PATIENCE = 0.5  # seconds the desk waits for an answer here (READ_TIMEOUT, shortened)

SAID = {
    Fault.REFUSE: "the connection was cut off",
    Fault.DROP: "the connection was cut off",
    Fault.TRUNCATE: "its answer was cut off part-way",
    Fault.DELAY: "it did not answer in time",
}


@pytest.fixture
def proxy(server):
    between = FaultyProxy(server.port, delay=PATIENCE * 4)
    yield between
    between.close()


@pytest.fixture
def proxied_desks(clinic_dir, tmp_path, server, proxy, monkeypatch):
    monkeypatch.setattr(client, "READ_TIMEOUT", PATIENCE)
    monkeypatch.setattr(client, "BACKOFF", 0.05)
    a, b = two_desks(clinic_dir[0], tmp_path / "desk-b", server, url=proxy.url)
    yield a, b
    a.close()
    b.close()


def sync(*sessions) -> None:
    for session in sessions:
        desk.sync(session.store, session.payload_cipher())


def fails_saying(session, words: str) -> None:
    with pytest.raises(Offline) as failed:
        desk.sync(session.store, session.payload_cipher())
    message = failed.value.message
    assert message == f"The sync server cannot be reached ({words}).", message


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_bad_network_loses_nothing_and_applies_nothing_twice(proxied_desks, proxy, server):
    a, b = proxied_desks
    known = register(a, "Ines", "Duarte")
    sync(a, b, a)
    made: list[str] = []
    for fault in SAID:
        before, spoiled = patients_at(a), proxy.spoiled
        proxy.set(fault)
        names = [f"{family}{fault.value}" for family in ("Mensah", "Owusu", "Boateng")]
        new = [register(a, "Kofi", name) for name in names]
        fails_saying(a, SAID[fault])  # A's push: taken by the server or not, A cannot tell
        fails_saying(b, SAID[fault])  # B's pull: nothing of A's arrives
        assert not b.patients.search(b.actor, names[0]), fault
        moved = move(b, known, f"{fault.value} Quay Street, Porto")  # told the doctor at B
        fails_saying(b, SAID[fault])  # B's push
        fails_saying(a, SAID[fault])  # A's push again
        assert proxy.spoiled - spoiled >= 4, fault
        assert desk.waiting(a.store) >= 3 and desk.waiting(b.store) >= 1, fault

        proxy.set(Fault.NONE)
        sync(a, b, a)

        log = assert_in_step(server, a, b)
        for session in (a, b):
            for name, patient in zip(names, new, strict=True):
                found = session.patients.search(session.actor, name)
                assert [p.id for p in found] == [patient], (fault, name)
            assert patients_at(session) == before + 3, fault
            now = session.patients.get(session.actor, known)
            assert (now.address, now.version) == (f"{fault.value} Quay Street, Porto", moved)
        made += new
        sent = {(c.change.entity_id, c.change.version) for c in log}
        assert {(p, 1) for p in made} | {(known, moved)} <= sent, fault


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_certificate_other_than_the_pinned_one_is_still_told_as_such(desks, tmp_path):
    a, _ = desks
    make_certificate(tmp_path / "other.pem", tmp_path / "other.key", server_names())
    (a.folder / desk.CERTIFICATE).write_bytes((tmp_path / "other.pem").read_bytes())
    with pytest.raises(Offline) as failed:
        desk.sync(a.store, a.payload_cipher())
    assert failed.value.message == (
        "The sync server's certificate is not the one this desk was connected to; nothing was "
        "sent. Ask the server's operator."
    )

"""The server's order of changes is verifiable: a hash chain over each clinic's log, remade by
every desk as it pulls and by the operator's ``clinicdesk server verify``."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import text

from clinicdesk.sync import chain, desk
from clinicdesk.sync.apply import cursor
from clinicdesk.sync.chain import LogAltered
from clinicdesk.sync.protocol import WireChange
from clinicdesk.sync.server import migrate
from clinicdesk.sync.server.database import make_engine
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import DESK_BACKENDS, register


def change(n: int) -> WireChange:
    return WireChange(f"op-{n}", "patients", f"row-{n}", 1, False, 1, os.urandom(40))


def clinic_with_log(store: ServerStore, count: int = 6):
    device = store.authenticate(store.create_clinic("clinic-1", "Sunrise", "Desk").token)
    store.push(device, [change(n) for n in range(count)])
    return device


def test_each_change_is_chained_to_the_one_before_and_a_desk_remakes_the_links(store):
    device = clinic_with_log(store)
    page = store.pull(device, 0).changes
    assert chain.follow(chain.genesis("clinic-1"), page) == page[-1].link
    assert len({p.link for p in page}) == len(page)
    # another clinic's first link is another: a log cannot be passed off as another clinic's
    with pytest.raises(LogAltered, match="change 1"):
        chain.follow(chain.genesis("clinic-2"), page)
    assert store.verify_log("clinic-1") == []


@pytest.mark.parametrize(
    ("tamper", "found"),
    [
        ("UPDATE changes SET payload = :junk WHERE seq = 2", "change 2: its content was altered"),
        ("DELETE FROM changes WHERE seq = 3", "change 3 is missing"),
        ("UPDATE changes SET version = 7 WHERE seq = 4", "change 4: the chain does not follow on"),
        ("DELETE FROM changes WHERE seq = 6", "the log ends at change 5, not at 6"),
    ],
)
def test_the_operator_finds_a_log_altered_in_the_servers_database(store, tamper, found):
    clinic_with_log(store)
    with store.engine.begin() as conn:
        conn.execute(text(tamper), {"junk": os.urandom(40)} if ":junk" in tamper else {})
    problems = store.verify_log("clinic-1")
    assert found in "; ".join(problems)


def test_a_log_kept_before_the_chain_is_chained_by_the_upgrade(db_url):
    """A server updated from the version without the chain: its logs are chained in their
    order, and verify as any other."""
    engine = make_engine(db_url)
    try:
        config = migrate.alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "s0001")
            conn.execute(
                text(
                    "INSERT INTO clinics (id, name, created_at, head_seq) "
                    "VALUES ('clinic-1', 'Sunrise', CURRENT_TIMESTAMP, 2)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO devices (id, clinic_id, name, secret_hash, created_at, cursor) "
                    "VALUES ('dev-1', 'clinic-1', 'Desk', 'x', CURRENT_TIMESTAMP, 0)"
                )
            )
            for seq in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO changes (clinic_id, seq, op_id, device_id, entity, "
                        "entity_id, version, deleted, key_gen, payload, received_at) VALUES "
                        "('clinic-1', :seq, :op, 'dev-1', 'patients', 'row', :seq, false, 1, "
                        ":payload, CURRENT_TIMESTAMP)"
                    ),
                    {"seq": seq, "op": f"op-{seq}", "payload": os.urandom(40)},
                )
        assert migrate.upgrade(engine) is True
    finally:
        engine.dispose()
    store = ServerStore(db_url)
    try:
        assert store.verify_log("clinic-1") == []
        device = store.authenticate(store.add_device("clinic-1", "Desk 2").token)
        page = store.pull(device, 0).changes
        assert [p.seq for p in page] == [1, 2]
        assert chain.follow(chain.genesis("clinic-1"), page) == page[-1].link
    finally:
        store.close()


# ---- the desks ----


def tamper(server, statement: str, **values) -> None:
    store = ServerStore(server.db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(text(statement), values)
    finally:
        store.close()


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_desk_refuses_a_rewritten_log_and_applies_none_of_it(desks, server):
    a, b = desks
    desk.sync(b.store, b.payload_cipher())
    before = cursor(b.store)
    patient = register(a, "Chloé", "Moreau")
    desk.sync(a.store, a.payload_cipher())
    # the server's log is rewritten: the patient's change is made to say it is another version
    tamper(
        server,
        "UPDATE changes SET version = version + 1 WHERE entity = 'patients' AND entity_id = :id",
        id=patient,
    )

    with pytest.raises(LogAltered, match="removed, added, reordered or rewritten"):
        desk.sync(b.store, b.payload_cipher())

    assert cursor(b.store) == before  # nothing of the page was applied
    assert not b.patients.search(b.actor, "moreau")


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_an_altered_payload_is_refused_by_its_tag_and_sync_goes_on(desks, server):
    """The payload is chained by the digest the server took it with: altering the payload
    alone leaves the order verifiable, and the change is refused by its own GCM tag."""
    a, b = desks
    altered = register(a, "Chloé", "Moreau")
    desk.sync(a.store, a.payload_cipher())
    tamper(
        server,
        "UPDATE changes SET payload = :junk WHERE entity = 'patients' AND entity_id = :id",
        junk=os.urandom(60),
        id=altered,
    )
    register(a, "Hugo", "Dubois")
    desk.sync(a.store, a.payload_cipher())

    done = desk.sync(b.store, b.payload_cipher())

    assert len(done.unreadable) == 1 and "does not open" in done.unreadable[0]
    assert b.patients.search(b.actor, "dubois") and not b.patients.search(b.actor, "moreau")

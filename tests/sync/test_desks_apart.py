"""Two desks working apart (one has not yet sent, or not yet received, what the other did):
what each did reaches the other, or is kept there for review; never lost without a word.
Found by the state machine of ``test_desks_stateful.py``; each is its shortest case."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from clinicdesk.store.models import SyncConflict
from clinicdesk.sync import desk
from tests.sync.conftest import move, patients_at, register


def sync(*sessions) -> None:
    for session in sessions:
        desk.sync(session.store, session.payload_cipher())


def pull(session) -> None:
    link = desk.connection(session.store)
    assert link is not None
    client = link.client()
    try:
        desk.pull(session.store, client, session.payload_cipher())
    finally:
        client.close()


def addresses_kept(session, patient: str) -> set[str]:
    """The patient's addresses this desk keeps for review (both sides of each conflict)."""
    with session.store.read() as s:
        conflicts = s.scalars(select(SyncConflict).where(SyncConflict.entity_id == patient))
        payloads = [p for c in conflicts for p in (c.remote_payload, c.local_payload) if p]
    return {json.loads(p)["address"] for p in payloads}


@pytest.mark.xfail(
    strict=True,
    reason="a change made from an older version than this desk's is taken as already here",
)
@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_an_edit_sent_late_from_an_older_version_is_kept_for_review(desks):
    a, b = desks
    patient = register(a, "Amara", "Okafor")
    sync(a, b)
    move(a, patient, "1 Harbour Road")  # version 2 at A, sent
    sync(a)
    move(b, patient, "7 Mill Lane")  # version 2 at B, from version 1: not yet sent
    move(a, patient, "3 Harbour Road")  # version 3 at A, sent
    sync(a)
    pull(b)  # both of A's meet B's own edit waiting: kept for review at B
    sync(b, a)  # B's edit reaches A, older than A's version 3

    shown = a.patients.get(a.actor, patient).address
    assert "7 Mill Lane" in {shown} | addresses_kept(a, patient), (
        "the address saved at desk B is nowhere at desk A"
    )


@pytest.mark.xfail(
    strict=True,
    reason="desks apart hand out the same record number: the second patient is kept for review",
)
@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_patients_registered_at_two_desks_apart_are_at_both(desks):
    a, b = desks
    sync(a, b)
    first = register(a, "Amara", "Okafor")
    second = register(b, "Kofi", "Mensah")
    sync(a, b, a)

    for session in (a, b):
        assert patients_at(session) == 2
        for patient in (first, second):
            session.patients.get(session.actor, patient)  # NotFound if it is not there

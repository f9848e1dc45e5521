"""Parts of large payloads on the real server (HTTPS, SQLite and PostgreSQL): kept per clinic and
never shown to another, sent again harmlessly, checked before a push naming them is applied,
and bounded like every other body."""

from __future__ import annotations

import os

from sqlalchemy import update

from clinicdesk.ids import new_id
from clinicdesk.sync import chain
from clinicdesk.sync.protocol import (
    MAX_PART,
    MAX_SPLIT,
    PART_BYTES,
    Parts,
    WireChange,
    cut,
)
from clinicdesk.sync.server.models import ChangePart
from tests.sync.conftest import Desk, RunningServer
from tests.sync.test_sync_server_http import assert_error, changes, head_of


def post_part(desk: Desk, blob: str, index: int, content: bytes):
    return desk.http.post(
        f"{desk.server.url}/v1/parts/{blob}/{index}",
        data=content,
        headers={"Content-Type": "application/octet-stream"},
        timeout=60,
    )


def get(desk: Desk, path: str):
    return desk.http.get(f"{desk.server.url}/v1/parts/{path}", timeout=60)


def sent_in_parts(desk: Desk, sealed: bytes, skip: frozenset[int] = frozenset()) -> WireChange:
    """The parts of ``sealed`` sent (but those in ``skip``), and the change naming them."""
    parts = Parts.of(sealed)
    for index, content in enumerate(cut(sealed)):
        if index not in skip:
            assert post_part(desk, parts.blob, index, content).status_code == 200
    return WireChange(new_id(), "chart_documents", new_id(), 1, False, 1, b"", parts)


def test_a_clinic_s_parts_are_never_shown_to_another(server: RunningServer):
    _, ours = server.new_clinic()
    _, theirs = server.new_clinic("Harbour Street Practice")
    sealed = os.urandom(PART_BYTES + 1000)
    change = sent_in_parts(ours, sealed)
    blob = change.parts.blob
    assert ours.push([change]).status_code == 200

    assert get(ours, f"{blob}/1").content == sealed[PART_BYTES:]
    assert get(ours, blob).json()["held"] == [0, 1]
    assert_error(get(theirs, f"{blob}/0"), 404, "not_found")
    assert get(theirs, blob).json()["held"] == []
    # the other clinic cannot borrow them by naming them, nor spoil them by sending its own
    before = head_of(theirs)
    assert_error(theirs.push([replace_op(change)]), 422, "missing_parts")
    assert head_of(theirs) == before
    assert post_part(theirs, blob, 0, b"not ours" * 100).status_code == 200
    assert get(ours, f"{blob}/0").content == sealed[:PART_BYTES]
    pulled = ours.pull().json()["changes"]
    assert [c["parts"] for c in pulled] == [change.parts.to_json()]
    assert pulled[0]["payload"] == ""


def replace_op(change: WireChange) -> WireChange:
    return WireChange(new_id(), change.entity, change.entity_id, 1, False, 1, b"", change.parts)


def test_a_push_naming_parts_not_all_there_applies_nothing_of_its_batch(server: RunningServer):
    _, desk = server.new_clinic()
    sealed = os.urandom(3 * PART_BYTES)
    missing = sent_in_parts(desk, sealed, skip=frozenset({1}))
    before = head_of(desk)

    body = assert_error(desk.push([*changes(3), missing]), 422, "missing_parts")
    assert "Change 4" in body["message"] and "part(s) 1" in body["message"]
    assert head_of(desk) == before

    # sent again, a part already held is kept as it was; the missing one completes the push
    again = post_part(desk, missing.parts.blob, 0, cut(sealed)[0])
    assert again.status_code == 200 and again.json()["stored"] is False
    assert post_part(desk, missing.parts.blob, 1, cut(sealed)[1]).json()["stored"] is True
    assert desk.push([*changes(3), missing]).status_code == 200
    assert head_of(desk) == before + 4


def test_parts_that_do_not_make_up_their_blob_are_refused_and_dropped(server: RunningServer):
    _, desk = server.new_clinic()
    sealed = os.urandom(PART_BYTES + 10)
    named = Parts.of(sealed)
    wrong = os.urandom(PART_BYTES + 10)
    for index, content in enumerate(cut(wrong)):
        post_part(desk, named.blob, index, content)
    change = WireChange(new_id(), "chart_documents", new_id(), 1, False, 1, b"", named)

    body = assert_error(desk.push([change]), 422, "missing_parts")
    assert "SHA-256" in body["message"]
    assert get(desk, named.blob).json()["held"] == []  # dropped: the desk sends them again
    assert sent_in_parts(desk, sealed).parts == named
    assert desk.push([change]).status_code == 200


def test_parts_and_payloads_in_parts_are_bounded(server: RunningServer):
    _, desk = server.new_clinic()
    blob = "ab" * 32
    assert_error(post_part(desk, blob, 0, os.urandom(MAX_PART + 1)), 413, "too_large")
    assert_error(post_part(desk, blob, 64, b"x" * 100), 413, "too_large")
    assert_error(get(desk, f"{blob}?size={MAX_SPLIT + 1}"), 413, "too_large")
    assert get(desk, f"{blob}?size={MAX_SPLIT}").status_code == 200
    assert_error(post_part(desk, "not-a-blob", 0, b"x" * 100), 400, "bad_request")
    big = Parts(blob, -(-(MAX_SPLIT + 1) // PART_BYTES), MAX_SPLIT + 1)
    change = WireChange(new_id(), "chart_documents", new_id(), 1, False, 1, b"", big)
    assert_error(desk.push([change]), 413, "too_large")
    assert_error(get(desk, f"{blob}/0"), 404, "not_found")
    assert_error(get(desk, f"{blob}/{2**40}"), 404, "not_found")


def test_a_change_in_parts_is_chained_by_its_blob_and_an_altered_part_is_found(store):
    device = store.authenticate(store.create_clinic("clinic-1", "Sunrise", "Desk").token)
    sealed = os.urandom(PART_BYTES + 500)
    parts = Parts.of(sealed)
    for index, content in enumerate(cut(sealed)):
        assert store.put_part(device, parts.blob, index, content) is True
    in_parts = WireChange("op-1", "chart_documents", "doc-1", 1, False, 1, b"", parts)
    store.push(device, [*changes(2), in_parts])

    page = store.pull(device, 0).changes
    assert page[-1].payload_digest == parts.blob == chain.digest(sealed)
    assert chain.follow(chain.genesis("clinic-1"), page) == page[-1].link
    assert store.verify_log("clinic-1") == []

    with store.engine.begin() as conn:
        conn.execute(
            update(ChangePart).where(ChangePart.index == 1).values(content=os.urandom(500))
        )
    assert store.verify_log("clinic-1") == ["change 3: its content was altered"]

"""Documents between desks: a scanned file of up to 25 MB travels in parts (never one request
over the server's limit), a push cut short resumes with the parts the server lacks, parts
altered on the server are refused by the desk that fetches them, and a change still too large
for the server is said in words while the rest goes on."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
import requests
from sqlalchemy import select, update

from clinicdesk.ids import new_id, utcnow
from clinicdesk.services.attachments import MAX_BYTES
from clinicdesk.store.models import ChartDocument
from clinicdesk.sync import desk
from clinicdesk.sync.client import Offline, SyncClient
from clinicdesk.sync.protocol import MAX_BODY, MAX_PART, blob_name
from clinicdesk.sync.runner import SyncRunner
from clinicdesk.sync.server.models import Change, ChangePart
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import DESK_BACKENDS, patients_at, register, server_log, two_desks
from tests.sync.proxy import Fault, FaultyProxy


def pdf(size: int) -> bytes:
    """A PDF's first bytes, then ``size`` bytes in all of what a scan is to a compressor."""
    return b"%PDF-1.7\n" + os.urandom(size - 9)


def attach(session, content: bytes, file_name: str = "scan.pdf") -> str:
    patient = register(session, "Ines", "Halvorsen")
    info = session.chart.attach(session.actor, patient, "lab", "Blood panel", file_name, content)
    return info.id


def content_at(session, document_id: str) -> bytes:
    with session.store.read() as s:
        return s.get(ChartDocument, document_id).content


class Requests:
    """The requests a desk's client makes, as they went over the wire: method, path, the
    body's bytes as sent (gzip included) and the answer's status."""

    def __init__(self, client: SyncClient) -> None:
        self.seen: list[tuple[str, str, int, int]] = []
        self.client = client
        client.http.hooks["response"].append(self._record)

    def _record(self, answer: requests.Response, *args, **kwargs) -> None:
        sent = answer.request
        path = sent.path_url.split("?")[0].removeprefix("/v1")
        self.seen.append((sent.method, path, len(sent.body or b""), answer.status_code))

    def parts_posted(self) -> list[int]:
        return [
            int(p.rsplit("/", 1)[1]) for m, p, _, _ in self.seen if m == "POST" and "/parts/" in p
        ]


def client_of(session) -> SyncClient:
    link = desk.connection(session.store)
    assert link is not None
    return link.client()


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_25_mb_document_reaches_the_other_desk_byte_for_byte_in_parts(desks, server):
    a, b = desks
    content = pdf(MAX_BYTES)
    document = attach(a, content)

    client = client_of(a)
    wire = Requests(client)
    try:
        desk.sync(a.store, a.payload_cipher(), client=client)
    finally:
        client.close()
    done = desk.sync(b.store, b.payload_cipher())

    assert not done.unreadable and done.conflicts == 0
    arrived = content_at(b, document)
    assert hashlib.sha256(arrived).hexdigest() == hashlib.sha256(content).hexdigest()
    # a 25 MB file is about 33 MB as sealed JSON: it went as parts, each under the limits
    largest = max(size for _, _, size, _ in wire.seen)
    assert largest <= MAX_PART < MAX_BODY, f"a request of {largest:,} bytes was sent"
    assert sorted(wire.parts_posted()) == list(range(9))  # 9 parts of 4 MiB, each once
    assert all(status == 200 for *_, status in wire.seen), wire.seen
    assert desk.waiting(a.store) == 0 and not desk.held_back(a.store)
    (change,) = [c for c in server_log(server, a) if c.change.entity == "chart_documents"]
    assert change.change.payload == b"" and change.change.parts.count == 9


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_push_cut_half_way_through_the_parts_sends_only_the_missing_ones_again(
    clinic_dir, tmp_path, server
):
    proxy = FaultyProxy(server.port)
    a, b = two_desks(clinic_dir[0], tmp_path / "desk-b", server, url=proxy.url)
    try:
        content = pdf(11 * 2**20)  # about 15 MB sealed: 4 parts
        document = attach(a, content)
        client = client_of(a)
        wire = Requests(client)

        def cut_after_two(answer: requests.Response, *args, **kwargs) -> None:
            if len(wire.parts_posted()) == 2:
                proxy.set(Fault.DROP)  # the next answer is lost, and the connection with it

        client.http.hooks["response"].append(cut_after_two)
        try:
            with pytest.raises(Offline):
                desk.push(a.store, client, a.payload_cipher())
        finally:
            client.close()
        assert proxy.spoiled, "the push was not cut"
        proxy.set(Fault.NONE)
        assert desk.waiting(a.store) == 2  # the patient and the document: nothing was pushed
        with ServerStore(server.db_url).engine.connect() as conn:
            held = set(
                conn.execute(
                    select(ChangePart.index).where(ChangePart.clinic_id == a.slots.clinic_id)
                ).scalars()
            )
        assert 2 <= len(held) < 4, held

        client = client_of(a)
        again = Requests(client)
        try:
            desk.sync(a.store, a.payload_cipher(), client=client)
        finally:
            client.close()
        assert sorted(again.parts_posted()) == sorted({0, 1, 2, 3} - held)
        assert desk.waiting(a.store) == 0
        done = desk.sync(b.store, b.payload_cipher())
        assert not done.unreadable
        assert content_at(b, document) == content
    finally:
        a.close()
        b.close()
        proxy.close()


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
@pytest.mark.parametrize("altered", ["a part", "a part and the blob it is named by"])
def test_a_part_altered_on_the_server_is_refused_and_sync_goes_on(desks, server, altered):
    a, b = desks
    content = pdf(5 * 2**20)  # about 7 MB sealed: 2 parts
    document = attach(a, content)
    later = register(a, "Tomas", "Lindgren")
    desk.sync(a.store, a.payload_cipher())

    store = ServerStore(server.db_url)
    try:
        with store.engine.begin() as conn:
            (blob,) = conn.execute(
                select(Change.parts_blob).where(
                    Change.clinic_id == a.slots.clinic_id, Change.parts_blob.is_not(None)
                )
            ).scalars()
            parts = [
                bytes(p)
                for p in conn.execute(
                    select(ChangePart.content)
                    .where(ChangePart.blob == blob)
                    .order_by(ChangePart.index)
                ).scalars()
            ]
            parts[1] = parts[1][:100] + bytes([parts[1][100] ^ 1]) + parts[1][101:]
            conn.execute(
                update(ChangePart)
                .where(ChangePart.blob == blob, ChangePart.index == 1)
                .values(content=parts[1])
            )
            if altered != "a part":  # named anew, so that its SHA-256 holds: the tag does not
                renamed = blob_name(b"".join(parts))
                conn.execute(update(ChangePart).where(ChangePart.blob == blob).values(blob=renamed))
                conn.execute(
                    update(Change).where(Change.parts_blob == blob).values(parts_blob=renamed)
                )
    finally:
        store.close()

    runner = SyncRunner(b.store, b.payload_cipher, long_poll=1)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while not runner.status.refused and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
    assert runner.status.refused == 1, runner.status
    assert "1 refused (altered or not this clinic's)" in runner.status.text()
    assert b.patients.get(b.actor, later)  # what came after it arrived
    with b.store.read() as s:
        assert s.get(ChartDocument, document) is None  # nothing altered was applied


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_change_too_large_for_the_server_is_said_in_words_and_the_rest_goes_on(desks):
    a, b = desks
    patient = register(a, "Mara", "Quist")
    # a 40 MB file, as a desk without the 25 MB check would have kept it
    with a.store.write(a.actor) as s:
        s.add(
            ChartDocument(
                id=new_id(),
                patient_id=patient,
                kind="image",
                title="Whole-body scan",
                file_name="whole-body.pdf",
                media_type="application/pdf",
                size_bytes=40 * 2**20,
                sha256="0" * 64,
                dated=utcnow().date(),
                content=pdf(40 * 2**20),
            )
        )
    after = register(a, "Jon", "Berg")

    runner = SyncRunner(a.store, a.payload_cipher, long_poll=1)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while (not runner.status.held_back or runner.status.waiting) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
    finally:
        runner.stop()
    said = "The document “whole-body.pdf” of 40.0 MB is too large for the sync server"
    assert said in runner.status.text(), runner.status
    assert runner.status.waiting == 0  # everything else was sent
    done = desk.sync(b.store, b.payload_cipher())
    assert not done.unreadable
    assert b.patients.get(b.actor, after)
    assert patients_at(b) == patients_at(a)
    # asked again, the desk does not send it again and still says so
    client = client_of(a)
    wire = Requests(client)
    try:
        assert desk.push(a.store, client, a.payload_cipher()) == 0
    finally:
        client.close()
    assert wire.seen == []
    assert desk.held_back(a.store) == [said + ": it stays on this desk only."]


@pytest.mark.long
@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_batch_too_large_for_the_server_is_sent_in_smaller_ones(desks, monkeypatch):
    a, b = desks
    # four documents each just small enough to go whole, in a batch allowed past the limit
    monkeypatch.setattr(desk, "BATCH_BYTES", 64 * 2**20)
    documents = [attach(a, pdf(2_900_000), f"letter-{n}.pdf") for n in range(4)]
    client = client_of(a)
    wire = Requests(client)
    try:
        desk.sync(a.store, a.payload_cipher(), client=client)
    finally:
        client.close()
    pushes = [(size, status) for method, path, size, status in wire.seen if path == "/push"]
    assert 413 in [status for _, status in pushes]  # the first batch was refused whole
    assert not wire.parts_posted()
    assert desk.waiting(a.store) == 0 and not desk.held_back(a.store)
    desk.sync(b.store, b.payload_cipher())
    for document in documents:
        assert content_at(b, document) == content_at(a, document)

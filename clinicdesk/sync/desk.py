"""This desk's sync: what it keeps of its server, pushing its outbox, pulling the others'.

The connection (address, device, token, epoch) lives in the clinic's encrypted database; the
server's certificate, which is public, beside it in the data folder. A push seals each outbox
row (``payload.py``), sends at most a batch at a time and marks what the server took, in order;
what the server has acknowledged is then compacted away. A pull applies page after page
(``apply.py``). When the server says its log was restored (410), the desk pulls everything
again from the start, then sends what it had not yet pushed and what the restored server lost
(every row newer here than in its log).

A payload sealed larger than PART_BYTES (a scanned document) is sent in parts ahead of its
change, which then only names them; a pull fetches them back and checks them before the page
is applied. A change the server refuses as too large is held back and said in words; the
others go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import delete, func, select, update

from clinicdesk.ids import new_id, utcnow
from clinicdesk.logs import log
from clinicdesk.store import outbox, slot_sync
from clinicdesk.store.database import CLINIC_ID_KEY, Store
from clinicdesk.store.models import Meta, OutboxEntry
from clinicdesk.sync import chain
from clinicdesk.sync.apply import (
    CATCHING_UP,
    CURSOR,
    DEVICE,
    LINK,
    Applied,
    apply_page,
    cursor,
    set_meta,
    synced_models,
)
from clinicdesk.sync.client import SyncClient
from clinicdesk.sync.payload import PayloadCipher, UnreadableChange
from clinicdesk.sync.protocol import (
    MAX_PULL,
    MAX_PUSH,
    MIN_PAYLOAD,
    PART_BYTES,
    NotFound,
    Parts,
    PulledChange,
    Rebootstrap,
    TooLarge,
    WireChange,
    blob_name,
    cut,
)

SERVER, TOKEN, EPOCH = "sync.server", "sync.token", "sync.epoch"
TOO_LARGE = "sync.too_large."  # and an op id: a change the server refused as too large
BATCH_BYTES = 8 * 1024 * 1024  # of payload in one push, well under the server's 16 MiB
CERTIFICATE = "sync-server.pem"


@dataclass(frozen=True)
class Connection:
    url: str
    device_id: str
    token: str
    epoch: str | None
    certificate: Path | None

    def client(self) -> SyncClient:
        return SyncClient(self.url, self.token, self.certificate, self.epoch)


def connection(store: Store) -> Connection | None:
    """The server this desk syncs with, or None when it works alone."""
    with store.read() as s:
        values = {m.key: m.value for m in s.scalars(select(Meta).where(Meta.key.like("sync.%")))}
    if SERVER not in values:
        return None
    pem = store.folder / CERTIFICATE
    return Connection(
        values[SERVER],
        values[DEVICE],
        values[TOKEN],
        values.get(EPOCH),
        pem if pem.exists() else None,
    )


def connect(
    store: Store, url: str, device_id: str, token: str, epoch: str, pem: bytes | None
) -> None:
    """Remember the server (and pin its certificate); the next sync pulls from the start."""
    if pem is not None:
        (store.folder / CERTIFICATE).write_bytes(pem)
    with store.write() as s:
        for key, value in ((SERVER, url), (DEVICE, device_id), (TOKEN, token), (EPOCH, epoch)):
            set_meta(s, key, value)


def sealed(row: OutboxEntry, cipher: PayloadCipher, generation: int | None = None) -> WireChange:
    """The row's change sealed under the key of ``generation`` (by default the current one);
    one to go in parts seals the same each time."""
    deleted = row.op == "delete"
    generation = generation or cipher.generation
    plain = row.payload.encode()
    stable = in_parts(len(plain) + MIN_PAYLOAD)
    payload = cipher.seal(
        row.entity, row.entity_id, row.row_version, deleted, plain, generation, stable=stable
    )
    return WireChange(
        row.op_id, row.entity, row.entity_id, row.row_version, deleted, generation, payload
    )


def in_parts(size: int) -> bool:
    """Does a sealed payload of ``size`` bytes travel in parts?"""
    return size > PART_BYTES


def waiting(store: Store) -> int:
    """Changes made here that the server has not yet taken (but those it refused as too
    large: they are never sent)."""
    with store.read() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.pushed_at.is_(None), OutboxEntry.op_id.not_in(_held(s)))
            )
            or 0
        )


def held_back(store: Store) -> list[str]:
    """What the server refused as too large, in words (each once), oldest first."""
    with store.read() as s:
        said = s.scalars(select(Meta.value).where(Meta.key.startswith(TOO_LARGE))).all()
    return list(dict.fromkeys(said))


def _held(s) -> list[str]:
    keys = s.scalars(select(Meta.key).where(Meta.key.startswith(TOO_LARGE))).all()
    return [k.removeprefix(TOO_LARGE) for k in keys]


def push(store: Store, client: SyncClient, cipher: PayloadCipher) -> int:
    """Send everything waiting, a batch at a time; returns how many the server took. A change
    the server refuses as too large is held back (``held_back``) and the others go on."""
    sent = 0
    limit = MAX_PUSH
    while True:
        with store.read() as s:
            rows = s.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.pushed_at.is_(None), OutboxEntry.op_id.not_in(_held(s)))
                .order_by(OutboxEntry.seq)
                .limit(limit)
            ).all()
            generations = slot_sync.sealing_generations(s, list(rows), cipher.generations)
            changes = first_batch(
                sealed(r, cipher, g) for r, g in zip(rows, generations, strict=True)
            )
        if not changes:
            return sent
        try:
            answer = client.push([_parts_sent(client, c) for c in changes])
        except _Refused as refused:
            _hold_back(store, refused.change, refused.error)
            continue
        except TooLarge as error:
            if len(changes) == 1:
                _hold_back(store, changes[0], error)
            limit = max(1, len(changes) // 2)  # which one is too large: fewer at a time
            continue
        taken = [c.op_id for c in changes if c.op_id in answer.seqs]
        with store.write() as s:
            s.execute(
                update(OutboxEntry).where(OutboxEntry.op_id.in_(taken)).values(pushed_at=utcnow())
            )
            _compact(s)
        sent += len(taken)
        if len(taken) < len(changes):
            return sent  # the server took part: the rest waits for the next sync


def first_batch(changes: Iterable[WireChange]) -> list[WireChange]:
    """The first changes, in order, whose payloads fit one request (always at least one); the
    changes are taken one by one, so those after a full batch are never sealed."""
    batch: list[WireChange] = []
    size = 0
    for change in changes:
        size += len(change.payload)
        if size > BATCH_BYTES and batch:
            return batch
        batch.append(change)
    return batch


class _Refused(Exception):
    """The server takes no payload as large as this change's."""

    def __init__(self, change: WireChange, error: TooLarge) -> None:
        self.change, self.error = change, error


def _parts_sent(client: SyncClient, change: WireChange) -> WireChange:
    """The change as it is pushed: a large payload's parts are sent first (but those the
    server holds already, from a push cut short), and the change names them."""
    if not in_parts(len(change.payload)):
        return change
    parts = Parts.of(change.payload)
    try:
        held = client.held_parts(parts.blob, parts.size)
        for index, content in enumerate(cut(change.payload)):
            if index not in held:
                client.put_part(parts.blob, index, content)
    except TooLarge as error:
        raise _Refused(change, error) from None
    return replace(change, payload=b"", parts=parts)


def _hold_back(store: Store, change: WireChange, error: TooLarge) -> None:
    """Keep the change here, unsent, with what to tell the clinic's staff."""
    log.warning("sync: change %s held back: %s", change.op_id, error.message)
    with store.write() as s:
        row = s.scalar(select(OutboxEntry).where(OutboxEntry.op_id == change.op_id))
        what = _described(row.entity, row.payload) if row else None
        said = (what or f"A change of {_mb(len(change.payload))} MB") + (
            " is too large for the sync server: it stays on this desk only."
        )
        set_meta(s, TOO_LARGE + change.op_id, said)


def _described(entity: str, payload: str) -> str | None:
    """A document in words, as staff know it; None for anything else."""
    if entity != "chart_documents":
        return None
    values = json.loads(payload)
    return f"The document “{values.get('file_name')}” of {_mb(values.get('size_bytes') or 0)} MB"


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}"


def _compact(s) -> None:
    """Drop what the server has taken, but the newest row, whose number other desks on this
    database watch for (``change_watch.py``)."""
    newest = s.scalar(select(func.max(OutboxEntry.seq)))
    s.execute(
        delete(OutboxEntry).where(OutboxEntry.pushed_at.is_not(None), OutboxEntry.seq < newest)
    )


def pull(
    store: Store,
    client: SyncClient,
    cipher: PayloadCipher,
    wait: float = 0,
    seen: dict[tuple[str, str], int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Applied:
    """Apply every change after this desk's cursor; with ``wait``, the first request waits up
    to that long for one to arrive (a long poll). ``seen``, if given, gathers the newest version
    of each row the pages held; ``progress``, if given, is told after each page where this desk
    stands in the server's log and the log's head."""
    total = Applied()
    while True:
        at = cursor(store)
        page = client.pull(at, MAX_PULL, wait)
        wait = 0
        # the whole page's chain first: nothing of a rewritten log is fetched or applied
        chain.follow(_link(store, at), page.changes)
        for ready, last, refused in _fetched(client, page.changes):
            done = apply_page(store, cipher, ready, after=last.seq, link=last.link)
            total.applied += done.applied
            total.unchanged += done.unchanged
            total.conflicts += done.conflicts
            total.unreadable += refused + done.unreadable
        if seen is not None:
            for pulled in page.changes:
                key = (pulled.change.entity, pulled.change.entity_id)
                seen[key] = max(seen.get(key, 0), pulled.change.version)
        if progress is not None:
            progress(page.changes[-1].seq if page.changes else page.head, page.head)
        if not page.more:
            return total


def _link(store: Store, at: int) -> str | None:
    """The last link this desk verified, at its cursor ``at``: the clinic's first when it
    starts from the beginning; None when it synced before the server kept a chain."""
    with store.read() as s:
        row = s.get(Meta, LINK)
        if row is not None:
            return row.value
        clinic = s.get(Meta, CLINIC_ID_KEY)
    return chain.genesis(clinic.value) if at == 0 and clinic is not None else None


def _fetched(
    client: SyncClient, page: list[PulledChange]
) -> Iterator[tuple[list[PulledChange], PulledChange, list[str]]]:
    """The page in pieces to apply, each with the change it ends at and the changes refused
    in it: payloads sent in parts are fetched, a piece ending after BATCH_BYTES of them
    (so a page of documents is never all in memory at once). A payload whose parts are gone
    or altered is refused, as one that does not open would be, and the rest goes on."""
    ready: list[PulledChange] = []
    refused: list[str] = []
    size = 0
    for number, pulled in enumerate(page, start=1):
        try:
            if pulled.change.parts is not None:
                pulled = _with_parts(client, pulled)
                size += len(pulled.change.payload)
            ready.append(pulled)
        except UnreadableChange as error:
            refused.append(f"Change {pulled.seq}: {error.message}")
        if size > BATCH_BYTES or number == len(page):
            yield ready, page[number - 1], refused
            ready, refused, size = [], [], 0


def _with_parts(client: SyncClient, pulled: PulledChange) -> PulledChange:
    """The change with its payload fetched from its parts, checked against the SHA-256 it was
    sent with (the digest the log's chain holds); UnreadableChange if the server no longer has
    them, or they were altered."""
    c = pulled.change
    parts = c.parts
    assert parts is not None
    where = f"The change to {c.entity} {c.entity_id} (version {c.version})"
    if parts.blob != pulled.payload_digest:
        raise UnreadableChange(
            f"{where} names parts other than the ones it was sent with: they were altered on "
            "the way. It was not applied."
        )
    content: list[bytes] = []
    size = 0
    try:
        for index in range(parts.count):
            content.append(client.part(parts.blob, index))
            size += len(content[-1])
            if size > parts.size:  # more than was sent: no need to fetch the rest
                break
    except NotFound:
        raise UnreadableChange(
            f"{where} was sent in parts the server no longer holds. It was not applied."
        ) from None
    payload = b"".join(content)
    if len(payload) != parts.size or blob_name(payload) != parts.blob:
        raise UnreadableChange(
            f"{where} came in parts that are not the ones sent (their SHA-256 differs): they "
            "were altered on the way. It was not applied."
        )
    return replace(pulled, change=replace(c, payload=payload, parts=None))


def sync(
    store: Store,
    cipher: PayloadCipher,
    wait: float = 0,
    client: SyncClient | None = None,
    push_first: bool = True,
) -> Applied:
    """One round: push what is waiting (unless ``push_first`` is off, where a pusher of its own
    sends it), then pull. A restored server (410) is followed. ``client``: the one to use (its
    caller closes it), else one made for this round."""
    link = connection(store)
    if link is None:
        return Applied()
    own = client is None
    client = client or link.client()
    try:
        try:
            if _catching_up(store):  # a restart cut short: done again from its beginning
                return _catch_up(store, client, cipher)
            if push_first:
                push(store, client, cipher)
            return pull(store, client, cipher, wait)
        except Rebootstrap:
            client.epoch = _restart(store, client)
            return _catch_up(store, client, cipher)
    finally:
        if own:
            client.close()


def _restart(store: Store, client: SyncClient) -> str:
    """The server's log is not the one this desk followed (it was restored from a backup, or
    replaced): follow the new one from its beginning."""
    client.epoch = None
    epoch = client.pull(0, 1).epoch
    with store.write() as s:
        set_meta(s, EPOCH, epoch)
        set_meta(s, CATCHING_UP, "1")
    return epoch


def _catching_up(store: Store) -> bool:
    with store.read() as s:
        return s.get(Meta, CATCHING_UP) is not None


def _catch_up(store: Store, client: SyncClient, cipher: PayloadCipher) -> Applied:
    """Pull the server's whole log (what this desk has already is unchanged), then send what
    the server lacks: what was never pushed, and every row of which this desk holds a newer
    version than the log does (pushed, by this desk or another, after the backup the server
    was restored from). The other desks take those as already theirs, or as news."""
    with store.write() as s:
        set_meta(s, CURSOR, "0")
        s.execute(delete(Meta).where(Meta.key == LINK))
    seen: dict[tuple[str, str], int] = {}
    applied = pull(store, client, cipher, seen=seen)
    with store.write() as s:
        _resend(s, seen)
        s.execute(delete(Meta).where(Meta.key == CATCHING_UP))
    push(store, client, cipher)
    return applied


def _resend(s, seen: dict[tuple[str, str], int]) -> None:
    """An outbox row for the current state of each synced row that is newer here than in the
    server's log and is not waiting to be sent already."""
    waiting = set(
        s.execute(
            select(OutboxEntry.entity, OutboxEntry.entity_id).where(OutboxEntry.pushed_at.is_(None))
        ).all()
    )
    now = utcnow()
    for entity, model in synced_models().items():
        newer = [
            row_id
            for row_id, version in s.execute(select(model.id, model.version))
            if version > seen.get((entity, row_id), 0) and (entity, row_id) not in waiting
        ]
        for start in range(0, len(newer), 500):
            for row in s.scalars(select(model).where(model.id.in_(newer[start : start + 500]))):
                deleted = row.deleted_at is not None
                s.add(
                    OutboxEntry(
                        op_id=new_id(),
                        entity=entity,
                        entity_id=row.id,
                        op="delete" if deleted else "insert" if row.version == 1 else "update",
                        row_version=row.version,
                        payload=outbox.row_payload(row),
                        created_at=now,
                    )
                )

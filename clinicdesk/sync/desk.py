"""This desk's sync: what it keeps of its server, pushing its outbox, pulling the others'.

The connection (address, device, token, epoch) lives in the clinic's encrypted database; the
server's certificate, which is public, beside it in the data folder. A push seals each outbox
row (``payload.py``), sends at most a batch at a time and marks what the server took, in order;
what the server has acknowledged is then compacted away. A pull applies page after page
(``apply.py``). When the server says its log was restored (410), the desk pulls everything
again from the start, then sends what it had not yet pushed and what the restored server lost
(every row newer here than in its log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, update

from clinicdesk.ids import new_id, utcnow
from clinicdesk.store import outbox
from clinicdesk.store.database import Store
from clinicdesk.store.models import Meta, OutboxEntry
from clinicdesk.sync.apply import CURSOR, DEVICE, Applied, apply_page, cursor, synced_models
from clinicdesk.sync.client import SyncClient
from clinicdesk.sync.payload import PayloadCipher
from clinicdesk.sync.protocol import MAX_PULL, MAX_PUSH, Rebootstrap, WireChange

SERVER, TOKEN, EPOCH = "sync.server", "sync.token", "sync.epoch"
BATCH_BYTES = 8 * 1024 * 1024  # of payload in one push, well under the server's 16 MiB
CATCHING_UP = "sync.catching_up"  # set by a restart until the server has what it lacks
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
            _set(s, key, value)


def _set(s, key: str, value: str) -> None:
    row = s.get(Meta, key)
    if row is None:
        s.add(Meta(key=key, value=value))
    else:
        row.value = value


def sealed(row: OutboxEntry, cipher: PayloadCipher) -> WireChange:
    deleted = row.op == "delete"
    payload = cipher.seal(row.entity, row.entity_id, row.row_version, deleted, row.payload.encode())
    return WireChange(
        row.op_id, row.entity, row.entity_id, row.row_version, deleted, cipher.generation, payload
    )


def waiting(store: Store) -> int:
    """Changes made here that the server has not yet taken."""
    with store.read() as s:
        return (
            s.scalar(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.pushed_at.is_(None))
            )
            or 0
        )


def push(store: Store, client: SyncClient, cipher: PayloadCipher) -> int:
    """Send everything waiting, a batch at a time; returns how many the server took."""
    sent = 0
    while True:
        with store.read() as s:
            rows = s.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.pushed_at.is_(None))
                .order_by(OutboxEntry.seq)
                .limit(MAX_PUSH)
            ).all()
            changes = first_batch([sealed(r, cipher) for r in rows])
        if not changes:
            return sent
        answer = client.push(changes)
        taken = [c.op_id for c in changes if c.op_id in answer.seqs]
        with store.write() as s:
            s.execute(
                update(OutboxEntry).where(OutboxEntry.op_id.in_(taken)).values(pushed_at=utcnow())
            )
            _compact(s)
        sent += len(taken)
        if len(taken) < len(changes):
            return sent  # the server took part: the rest waits for the next sync


def first_batch(changes: list[WireChange]) -> list[WireChange]:
    """The first changes, in order, whose payloads fit one request (always at least one)."""
    size = 0
    for count, change in enumerate(changes):
        size += len(change.payload)
        if size > BATCH_BYTES and count:
            return changes[:count]
    return changes


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
        page = client.pull(cursor(store), MAX_PULL, wait)
        wait = 0
        if page.changes:
            done = apply_page(store, cipher, page.changes, after=page.changes[-1].seq)
            total.applied += done.applied
            total.unchanged += done.unchanged
            total.conflicts += done.conflicts
            total.unreadable += done.unreadable
            if seen is not None:
                for pulled in page.changes:
                    key = (pulled.change.entity, pulled.change.entity_id)
                    seen[key] = max(seen.get(key, 0), pulled.change.version)
        if progress is not None:
            progress(page.changes[-1].seq if page.changes else page.head, page.head)
        if not page.more:
            return total


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
        _set(s, EPOCH, epoch)
        _set(s, CATCHING_UP, "1")
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
        _set(s, CURSOR, "0")
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

"""This desk's sync: what it keeps of its server, pushing its outbox, pulling the others'.

The connection (address, device, token, epoch) lives in the clinic's encrypted database; the
server's certificate, which is public, beside it in the data folder. A push seals each outbox
row (``payload.py``), sends at most a batch at a time and marks what the server took, in order;
what the server has acknowledged is then compacted away. A pull applies page after page
(``apply.py``). When the server says its log was restored (410), the desk pulls everything
again from the start and keeps what it has not yet pushed, which the next push sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, update

from clinicdesk.ids import utcnow
from clinicdesk.store.database import Store
from clinicdesk.store.models import Meta, OutboxEntry
from clinicdesk.sync.apply import CURSOR, DEVICE, Applied, apply_page, cursor
from clinicdesk.sync.client import SyncClient
from clinicdesk.sync.payload import PayloadCipher
from clinicdesk.sync.protocol import MAX_PULL, MAX_PUSH, Rebootstrap, WireChange

SERVER, TOKEN, EPOCH = "sync.server", "sync.token", "sync.epoch"
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


def pull(store: Store, client: SyncClient, cipher: PayloadCipher, wait: float = 0) -> Applied:
    """Apply every change after this desk's cursor; with ``wait``, the first request waits up
    to that long for one to arrive (a long poll)."""
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
        if not page.more:
            return total


def sync(store: Store, cipher: PayloadCipher, wait: float = 0) -> Applied:
    """One round: push what is waiting, then pull. A restored server (410) is followed."""
    link = connection(store)
    if link is None:
        return Applied()
    client = link.client()
    try:
        try:
            push(store, client, cipher)
            return pull(store, client, cipher, wait)
        except Rebootstrap:
            client.epoch = _restart(store, client)
            applied = pull(store, client, cipher)
            push(store, client, cipher)
            return applied
    finally:
        client.close()


def _restart(store: Store, client: SyncClient) -> str:
    """The server's log is not the one this desk followed: start again from its beginning,
    keeping what was never pushed."""
    client.epoch = None
    epoch = client.pull(0, 1).epoch
    with store.write() as s:
        _set(s, EPOCH, epoch)
        _set(s, CURSOR, "0")
    return epoch

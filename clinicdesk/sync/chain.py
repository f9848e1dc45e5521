"""The server's order of a clinic's changes, made verifiable: a hash chain over its log.

Each change in a clinic's log carries a link: the SHA-256 of the link before it and of the
change's routing fields and payload digest (its place, who pushed it, which row and version).
The first link follows from the clinic's id alone. The server makes each link as it appends;
a desk remakes every link it pulls from the last one it holds, so a change removed, inserted,
reordered or rewritten in the server's log (after this desk saw the log) is found before anything
of the page is applied. The payload is chained by the digest the server recorded when it took
the change: a payload altered afterwards is refused by its own GCM tag, reported, and sync goes
on; one altered with its digest breaks the chain. A payload sent in parts is chained by the
SHA-256 it is named by (its blob), which is the digest of the payload it makes up.

``clinicdesk server verify`` remakes every clinic's chain on the server's own database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from clinicdesk.sync.protocol import PulledChange, SyncError

PREFIX = b"clinicdesk-log/1"


class LogAltered(SyncError):
    """The server's log does not follow on from what this desk verified before."""


def genesis(clinic_id: str) -> str:
    """The link before a clinic's first change."""
    return hashlib.sha256(PREFIX + b"\0" + clinic_id.encode()).hexdigest()


def digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def link(
    before: str,
    seq: int,
    device_id: str,
    op_id: str,
    entity: str,
    entity_id: str,
    version: int,
    deleted: bool,
    key_gen: int,
    payload_digest: str,
) -> str:
    fields = (
        before,
        str(seq),
        device_id,
        op_id,
        entity,
        entity_id,
        str(version),
        "1" if deleted else "0",
        str(key_gen),
        payload_digest,
    )
    return hashlib.sha256("\0".join(fields).encode()).hexdigest()


def row_link(before: str, row: Any, payload_digest: str) -> str:
    """The link of a log's ``row`` (with the fields of a change) after ``before``."""
    return link(
        before,
        row.seq,
        row.device_id,
        row.op_id,
        row.entity,
        row.entity_id,
        row.version,
        bool(row.deleted),
        row.key_gen,
        payload_digest,
    )


def link_of(before: str, pulled: PulledChange) -> str:
    c = pulled.change
    return link(
        before,
        pulled.seq,
        pulled.device_id,
        c.op_id,
        c.entity,
        c.entity_id,
        c.version,
        c.deleted,
        c.key_gen,
        pulled.payload_digest,
    )


def follow(before: str | None, page: Iterable[PulledChange]) -> str | None:
    """The last link of ``page``, each one remade from ``before`` (the last link this desk
    verified); LogAltered where one does not follow. ``before`` None: this desk holds no link
    yet (it synced before the server kept a chain), so the page's first link is taken as given
    and the rest are checked from it."""
    for pulled in page:
        if before is not None and link_of(before, pulled) != pulled.link:
            raise LogAltered(
                f"The sync server's record of changes does not follow on at change {pulled.seq}: "
                "a change was removed, added, reordered or rewritten on the server. Nothing of "
                "it was applied; tell the server's operator."
            )
        before = pulled.link
    return before

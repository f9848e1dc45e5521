"""Changing the clinic's database key, crash-safe, under the key file's lock.

1. The key file is read afresh; a new key for generation g+1 is sealed to every slot that is
   carried over, with the older keys under the new one, in the file's ``next`` section.
2. The database's WAL is checkpointed and SQLCipher re-encrypts every page (``PRAGMA rekey``,
   one transaction: a crash leaves the old key or the new one, never a mix).
3. ``next`` becomes the current key; slots it does not name (removed accounts, slots of format 1
   whose owner has not signed in since the update) are gone.

A change interrupted after step 1 is finished by whoever opens the clinic next (``finish``):
whatever key the database opens with, it ends on the new one, so a removed person's old key
file never opens the live database again.

A key change made at another desk of the clinic reaches this desk's key file through sync
(``slot_sync.py``) while this desk's database is still encrypted with an older generation's
key, which the file's history holds. ``finish`` (at sign-in) and ``change_key`` move the
database on to the current key first (``catch_up_locked``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sqlcipher3

from clinicdesk.store.database import DB_FILE, Store, translate_db_errors
from clinicdesk.store.engine import BUSY_TIMEOUT_MS
from clinicdesk.store.keyslots import (
    KdfParams,
    KeySlotFile,
    PendingKey,
    new_database_key,
    new_recovery_key,
)
from clinicdesk.store.locks import exclusive

Progress = Callable[[str], None]


class KeySource(Protocol):
    """What opens the current and next key from the file (a session's ``KeyHolder``)."""

    def database_key(self, slots: KeySlotFile, *, pending: bool = False) -> bytes: ...


@dataclass(frozen=True)
class KeyChange:
    generation: int
    dropped: tuple[str, ...]  # accounts that will need a new password (format 1, not carried)
    recovery_key: str | None  # a new recovery key, when the old one could not be carried over


def not_carried_over(slots: KeySlotFile) -> tuple[str, ...]:
    """The user names whose slots a key change cannot carry over (format 1: their owner has
    not signed in since ClinicDesk was updated), to say so before the change."""
    return tuple(s.username or "" for s in slots.slots if s.kind == "user" and s.is_v1)


def change_key(
    store: Store,
    slots: KeySlotFile,
    holder: KeySource,
    kdf: KdfParams,
    *,
    remove_user_ids: Iterable[str] = (),
    progress: Progress | None = None,
) -> KeyChange:
    """Give the clinic a new database key (removing ``remove_user_ids``' slots first)."""
    report = progress or (lambda _stage: None)
    with exclusive(slots.path):
        report("Preparing the new key")
        f = KeySlotFile.load(slots.folder)
        if f.pending is not None:
            finish_locked(f, holder, store.path)
            store.use_key(holder.database_key(f))
        catch_up_store(store, f, holder)
        old = holder.database_key(f)
        for user_id in remove_user_ids:
            f.remove_user(user_id)
        dropped = not_carried_over(f)
        recovery_key = None
        recovery = f.recovery_slot()
        if recovery is None or recovery.is_v1:
            recovery_key = new_recovery_key()
            slot, _ = f.new_slot("recovery", recovery_key, kdf)
            f.seal_database_key(slot, old)
            f.put(slot)
        new = new_database_key()
        f.pending = PendingKey(f.generation + 1, {}, f.history_under(new, old))
        for slot in f.slots:
            if not slot.is_v1:
                f.seal_pending_key(slot, new)
        f.write()
        size_mb = max(1, round(store.path.stat().st_size / 1e6))
        report(f"Re-encrypting the clinic's data ({size_mb} MB)")
        store.engine.dispose()
        rekey_database(store.path, old, new)
        store.use_key(new)
        report("Saving the keys")
        _promote(f)
        f.write()
    slots.adopt(f)
    return KeyChange(f.generation, dropped, recovery_key)


def finish(slots: KeySlotFile, holder: KeySource) -> bytes:
    """The current database key, after finishing a key change that was interrupted, and after
    moving the database on from an older generation (a key change made at another desk)."""
    path = slots.folder / DB_FILE
    if slots.pending is None:
        current = holder.database_key(slots)
        older = slots.old_keys(current).values()
        if opens_with(path, current) or not any(opens_with(path, key) for key in older):
            return current  # on the current key; or no key of this clinic's opens it, as its
            # opening then says, with nothing on disk changed
    with exclusive(slots.path):
        f = KeySlotFile.load(slots.folder)
        if f.pending is not None:
            finish_locked(f, holder, path)
        catch_up_locked(f, holder, path)
    slots.adopt(f)
    return holder.database_key(f)


def catch_up_store(store: Store, f: KeySlotFile, holder: KeySource) -> None:
    """With the lock held: the open ``store`` moved on to the current key, if it is still on an
    older generation's."""
    if opens_with(store.path, holder.database_key(f)):
        return
    store.engine.dispose()  # no connection of this desk's holds the old key during the rekey
    if catch_up_locked(f, holder, store.path):
        store.use_key(holder.database_key(f))


def catch_up_locked(f: KeySlotFile, holder: KeySource, path: Path) -> bool:
    """With the lock held: re-encrypt the database with the current key if it is still on an
    older generation's (from the history); whether it was. The file is written again, so the
    other workstations on this folder switch keys."""
    current = holder.database_key(f)
    if not path.exists() or opens_with(path, current):
        return False
    older = f.old_keys(current)
    for generation in sorted(older, reverse=True):
        if opens_with(path, older[generation]):
            rekey_database(path, older[generation], current)
            f.write()
            return True
    return False  # opening it says what is wrong


def finish_locked(f: KeySlotFile, holder: KeySource, path: Path) -> None:
    """Steps 2 and 3 of an interrupted change, with the lock held."""
    new = holder.database_key(f, pending=True)
    if not opens_with(path, new):
        rekey_database(path, holder.database_key(f), new)
    _promote(f)
    f.write()


def _promote(f: KeySlotFile) -> None:
    pending = f.pending
    assert pending is not None
    f.slots = [s for s in f.slots if s.slot_id in pending.sealed]
    for slot in f.slots:
        slot.sealed_key = pending.sealed[slot.slot_id]
    f.generation, f.history, f.pending = pending.generation, pending.history, None


def rekey_database(path: Path, old: bytes, new: bytes) -> None:
    """Re-encrypt every page of the database at ``path`` from ``old`` to ``new``."""
    with translate_db_errors(path.parent):
        conn = _connect(path, old)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute(f"PRAGMA rekey = \"x'{new.hex()}'\"")
            # the re-encrypted pages are in the WAL: write them into the file itself, so the
            # page check at the next opening (which reads the file) finds them
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()


def opens_with(path: Path, key: bytes) -> bool:
    conn = _connect(path, key)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def _connect(path: Path, key: bytes) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn

"""What a signed-in session holds of the clinic's keys, and how it follows key changes.

A session keeps its slot id and the private half of its slot's key pair, never the password.
The database key (and the signing-key key, for doctor and administrator slots) is unsealed from
the key file as it is now, so when another desk changes the clinic's key this session still
opens the new one, and when its slot is gone it opens nothing.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from clinicdesk.errors import AccountInactive
from clinicdesk.store.database import Store
from clinicdesk.store.keyslots import KdfParams, KeySlotFile, Slot
from clinicdesk.store.rekey import opens_with
from clinicdesk.store.sealing import b64, public_bytes

ACCOUNT_REMOVED = "This account has been removed; ask an administrator."
CHANGED_ELSEWHERE = (
    "The password of this account was changed at another workstation; please sign in again."
)


class KeyHolder:
    def __init__(self, slot_id: str, private: X25519PrivateKey) -> None:
        self.slot_id = slot_id
        self._private = private

    def take(self, other: KeyHolder) -> None:
        self.slot_id, self._private = other.slot_id, other._private

    def own_slot(self, slots: KeySlotFile) -> Slot:
        slot = slots.slot(self.slot_id)
        if slot is None:
            raise AccountInactive(ACCOUNT_REMOVED)
        return slot

    def _usable_slot(self, slots: KeySlotFile) -> Slot:
        slot = self.own_slot(slots)
        if slot.public_key != b64(public_bytes(self._private)):
            raise AccountInactive(CHANGED_ELSEWHERE)
        return slot

    def database_key(self, slots: KeySlotFile, *, pending: bool = False) -> bytes:
        return slots.database_key(self._usable_slot(slots), self._private, pending=pending)

    def signing_key(self, slots: KeySlotFile) -> bytes | None:
        return slots.signing_key(self._usable_slot(slots), self._private)

    def set_secret(self, slots: KeySlotFile, secret: str, kdf: KdfParams) -> None:
        """A new key pair for this session's slot under ``secret``, holding the same keys."""

        def apply(f: KeySlotFile) -> X25519PrivateKey:
            slot = self._usable_slot(f)
            key, signing = self.database_key(f), self.signing_key(f)
            carried = f.pending is not None and self.slot_id in f.pending.sealed
            pending = self.database_key(f, pending=True) if carried else None
            private = f.set_secret(slot, secret, kdf)
            f.seal_database_key(slot, key)
            f.seal_signing_key(slot, signing)
            if pending is not None:
                f.seal_pending_key(slot, pending)
            return private

        self._private = slots.change(apply)

    def key_now(self, slots: KeySlotFile, path: Path) -> bytes:
        """The key the database opens with now: during another desk's key change, the new one
        once the pages are re-encrypted; after a key change made at another desk of the clinic
        (which reached this file through sync), the older key it is still encrypted with until
        the next sign-in here."""
        current = self.database_key(slots)
        if opens_with(path, current):
            return current
        candidates = []
        if slots.pending is not None and slots.pending.sealed.get(self.slot_id) is not None:
            candidates.append(self.database_key(slots, pending=True))
        older = slots.old_keys(current)
        candidates += [older[g] for g in sorted(older, reverse=True)]
        return next((key for key in candidates if opens_with(path, key)), current)


class KeyWatch:
    """Before each unit of work: has keyslots.json changed (one ``os.stat``)? If so, read it
    and switch the store to the key it holds for this session."""

    def __init__(self, holder: KeyHolder, slots: KeySlotFile) -> None:
        self.holder = holder
        self.slots = slots
        self._seen = _signature(slots.path)
        self._lock = threading.Lock()

    def check(self, store: Store, *, force: bool = False) -> bool:
        seen = _signature(self.slots.path)
        if seen == self._seen and not force:
            return False
        with self._lock:
            self.slots.reload()
            self._seen = seen
            key = self.holder.key_now(self.slots, store.path)
            if key == store.key:
                return False
            store.use_key(key)
            return True

    def signing_key(self) -> bytes | None:
        return self.holder.signing_key(self.slots)


def _signature(path: Path) -> tuple[int, int, int]:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return (0, 0, 0)
    return (info.st_mtime_ns, info.st_size, info.st_ino)

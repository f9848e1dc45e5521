"""Who holds the clinic's signing-key key: active doctors and administrators, and the recovery key.

The private halves of the clinic's prescription keys are stored under this 32-byte key
(``signing.py``), and the key itself is sealed to the key slots of the people allowed to sign or
manage keys. A pending account (its temporary password known to others) never gets it; it is
passed to an account when a holder signs in or manages accounts after it became active. When a
holder loses it (removed, or no longer a doctor or administrator), the key is replaced and the
clinic's signing key rotated, so what that person may have taken signs nothing new.
"""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.services.signing import (
    SIGNING_ROLES,
    has_plain_private_keys,
    protect_private_keys,
    rotate_own_key,
)
from clinicdesk.store.keyholder import KeyHolder
from clinicdesk.store.keyslots import KeySlotFile, Slot
from clinicdesk.store.models import User

ACTIVE = "active"


def _eligible(s: Session) -> set[str]:
    return {
        u.id
        for u in s.scalars(select(User).where(User.status == ACTIVE))
        if {r for r in u.roles.split(",") if r} & {r.value for r in SIGNING_ROLES}
    }


def _should_hold(slot: Slot, eligible: set[str], exclude: str | None) -> bool:
    if slot.is_v1 or slot.slot_id == exclude:
        return False
    return slot.kind == "recovery" or slot.user_id in eligible


def share(s: Session, slots: KeySlotFile, holder: KeyHolder) -> bytes | None:
    """The signing-key key for ``holder`` (made on first use in a clinic whose private halves
    are still plain), passed on to every eligible slot that lacks it. Call only for a holder
    who is an active doctor or administrator."""
    slots.reload()
    kek = holder.signing_key(slots)
    if kek is None:
        if any(slot.sealed_signing for slot in slots.slots) or not has_plain_private_keys(s):
            return None  # the clinic has one, not yet passed to this slot
        kek = os.urandom(32)
        protect_private_keys(s, None, kek)
    eligible = _eligible(s)
    if any(_should_hold(x, eligible, None) and not x.sealed_signing for x in slots.slots):
        _seal_to(slots, kek, eligible, None, only_missing=True)
    return kek


def renew(s: Session, slots: KeySlotFile, holder: KeyHolder, exclude: str | None = None) -> None:
    """A new signing-key key and a new clinic signing key, after a holder lost the right to it
    (``exclude``: the slot that must not get the new one)."""
    slots.reload()
    old = holder.signing_key(slots)
    if old is None and not has_plain_private_keys(s):
        return
    kek = os.urandom(32)
    protect_private_keys(s, old, kek)
    rotate_own_key(s, kek)
    _seal_to(slots, kek, _eligible(s), exclude, only_missing=False)


def _seal_to(
    slots: KeySlotFile, kek: bytes, eligible: set[str], exclude: str | None, *, only_missing: bool
) -> None:
    def apply(f: KeySlotFile) -> None:
        for slot in f.slots:
            if _should_hold(slot, eligible, exclude):
                if not (only_missing and slot.sealed_signing):
                    f.seal_signing_key(slot, kek)
            elif not only_missing:
                f.seal_signing_key(slot, None)

    slots.change(apply)

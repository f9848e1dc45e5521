"""A clinic's Ed25519 signing keys and the public keys a pharmacy trusts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from clinicdesk.rx.errors import RetiredSigningKey
from clinicdesk.rx.payload import MAX_VALID_DAYS

ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"
KEY_STATUS_LABELS = {ACTIVE: "In use", RETIRED: "Retired", REVOKED: "Revoked"}
FINGERPRINT_BYTES = 16  # 128 bits: no one can make another key with the same fingerprint


@dataclass(frozen=True)
class KeyPair:
    kid: bytes
    private: bytes  # raw 32-byte Ed25519 seed
    public: bytes  # raw 32 bytes


@dataclass(frozen=True)
class TrustedKey:
    kid: bytes
    public: bytes
    clinic_name: str
    status: str  # ACTIVE, RETIRED or REVOKED
    issuer: str = ""  # the clinic id of the clinic holding the key (the signing clinic)
    own: bool = False  # this clinic's own key
    retired_on: date | None = None  # the issuing clinic's date, for a retired key

    @property
    def kid_hex(self) -> str:
        return self.kid.hex()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)


def fingerprint(public: bytes) -> str:
    """The public key's SHA-256 in groups of four hex digits ('1a2b 3c4d …', eight groups), as
    Admin → Signing keys shows it and the import of a trust file asks to confirm, read out over
    the phone. It begins with the key id (key_id)."""
    text = hashlib.sha256(public).digest()[:FINGERPRINT_BYTES].hex()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def trusted_until(retired_on: date) -> date:
    """A retired key's last day: a prescription signed the day it was retired, valid for as
    long as any can be, runs out then."""
    return retired_on + timedelta(days=MAX_VALID_DAYS)


def retired_refusal(key: TrustedKey, dated: date, today: date) -> RetiredSigningKey | None:
    """Why a code signed with a retired key dated ``dated`` is refused ``today``, if it is."""
    if key.status != RETIRED or key.retired_on is None:
        return None
    if dated > key.retired_on:
        return RetiredSigningKey(key.kid_hex, key.clinic_name, key.retired_on, dated)
    if today > trusted_until(key.retired_on):
        return RetiredSigningKey(key.kid_hex, key.clinic_name, key.retired_on)
    return None


def key_id(public: bytes) -> bytes:
    """Eight bytes of the public key's SHA-256: short enough for the QR, unique per clinic."""
    return hashlib.sha256(public).digest()[:8]


def new_key_pair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return KeyPair(key_id(public), seed, public)


def sign(seed: bytes, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)

"""A clinic's Ed25519 signing keys and the public keys a pharmacy trusts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"
KEY_STATUS_LABELS = {ACTIVE: "In use", RETIRED: "Retired (still trusted)", REVOKED: "Revoked"}


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

    @property
    def kid_hex(self) -> str:
        return self.kid.hex()

    @property
    def fingerprint(self) -> str:
        """The key id in groups of four ('1a2b 3c4d 5e6f 7a8b'), as Admin → Signing keys
        and a trust file show it: what tells two clinics of one name apart."""
        text = self.kid_hex
        return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


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

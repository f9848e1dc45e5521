"""Sealing a secret to an X25519 public key, and the AES-GCM boxes the key file is made of.

``seal`` encrypts for the holder of a private key without knowing it: an ephemeral X25519 key
agrees a secret with the recipient's public key, HKDF-SHA256 turns it into an AES-256-GCM key,
and the associated data binds the box to where it belongs (clinic, slot, generation, purpose),
so a box moved to another slot or generation does not open. A sealed box is
ephemeral public key (32) + nonce (12) + ciphertext with tag.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEALED_OVERHEAD = 32 + 12 + 16
_INFO = b"clinicdesk sealed box v1"


class OpenFailed(ValueError):
    """A box that does not open with this key (wrong key, wrong place, or altered)."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    """Raises ValueError on anything but strict base64."""
    return base64.b64decode(text, validate=True)


def new_private_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_bytes(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def private_bytes(private: X25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def private_from_bytes(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def box(key: bytes, secret: bytes, aad: bytes) -> str:
    """AES-256-GCM under ``key``: nonce + ciphertext, base64."""
    nonce = os.urandom(12)
    return b64(nonce + AESGCM(key).encrypt(nonce, secret, aad))


def unbox(key: bytes, text: str, aad: bytes) -> bytes:
    raw = unb64(text)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], aad)
    except InvalidTag:
        raise OpenFailed() from None


def seal(public: bytes, secret: bytes, aad: bytes) -> str:
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    eph_public = public_bytes(ephemeral)
    key = _derive(shared, eph_public + public)
    nonce = os.urandom(12)
    return b64(eph_public + nonce + AESGCM(key).encrypt(nonce, secret, aad))


def unseal(private: X25519PrivateKey, text: str, aad: bytes) -> bytes:
    raw = unb64(text)
    eph_public, nonce, body = raw[:32], raw[32:44], raw[44:]
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(eph_public))
        key = _derive(shared, eph_public + public_bytes(private))
        return AESGCM(key).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError):
        raise OpenFailed() from None


def _derive(shared: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(shared)

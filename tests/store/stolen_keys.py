"""What a person holding a copy of keyslots.json and a password can do outside ClinicDesk: derive
the database key by hand and open clinic.db with SQLCipher directly."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import sqlcipher3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinicdesk.store.keyslots import KdfParams


def key_from_copy(document: dict, secret: str, username: str | None = None) -> bytes:
    """The database key a slot of ``document`` holds (the recovery key's when no user name)."""
    (slot,) = [
        s
        for s in document["slots"]
        if (s.get("username") == username if username else s["kind"] == "recovery")
    ]
    kek = KdfParams(**slot["kdf"]).derive(secret, base64.b64decode(slot["salt"]))
    aad = f"{document['clinic_id']}|{slot['slot_id']}|{slot['kind']}|{slot.get('user_id') or ''}"
    if "wrapped_key" in slot:  # format 1
        return AESGCM(kek).decrypt(
            base64.b64decode(slot["nonce"]), base64.b64decode(slot["wrapped_key"]), aad.encode()
        )
    from clinicdesk.store import sealing

    private = sealing.private_from_bytes(
        sealing.unbox(kek, slot["wrapped_private"], aad.encode() + b"|private")
    )
    sealed_aad = f"{document['clinic_id']}|{slot['slot_id']}|{document['generation']}|database"
    return sealing.unseal(private, slot["sealed_key"], sealed_aad.encode())


def reads_accounts(db: Path, key: bytes) -> bool:
    """Whether ``key`` opens the database file and reads its accounts."""
    conn = sqlcipher3.connect(str(db))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("SELECT count(*) FROM users").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def copy_of(keyfile: Path) -> dict:
    return json.loads(keyfile.read_text())

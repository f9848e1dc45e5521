"""A change's payload as the sync server keeps it: encrypted on the desk, bound to its place.

The key is derived with HKDF-SHA256 from the clinic's database key of a generation (the server
never holds it). The associated data names the clinic, table, row, version and tombstone flag,
so a payload the server altered, or moved to another row, version or clinic, fails to open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clinicdesk.errors import ClinicDeskError

INFO = b"clinicdesk sync payload v1"
NONCE_INFO = b"clinicdesk sync nonce v1"
NONCE = 12


class UnreadableChange(ClinicDeskError):
    """A change from the server that this clinic's keys do not open as it claims to be."""


def payload_key(database_key: bytes, clinic_id: str, info: bytes = INFO) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=clinic_id.encode(), info=info)
    return hkdf.derive(database_key)


def associated_data(
    clinic_id: str, entity: str, entity_id: str, version: int, deleted: bool
) -> bytes:
    return "\x1f".join(
        (clinic_id, entity, entity_id, str(version), "1" if deleted else "0")
    ).encode()


class PayloadCipher:
    """Seals with the current generation's key; opens with any generation this desk holds."""

    def __init__(self, clinic_id: str, keys: Mapping[int, bytes], generation: int) -> None:
        if generation not in keys:
            raise ValueError(f"no database key of generation {generation}")
        self.clinic_id = clinic_id
        self.generation = generation
        self._aead = {g: AESGCM(payload_key(k, clinic_id)) for g, k in keys.items()}
        self._nonce_key = payload_key(keys[generation], clinic_id, NONCE_INFO)

    def seal(
        self,
        entity: str,
        entity_id: str,
        version: int,
        deleted: bool,
        plain: bytes,
        *,
        stable: bool = False,
    ) -> bytes:
        """The change sealed under a random nonce; ``stable``: under a nonce derived from the
        change itself (an HMAC of its place and content under a key of its own), so the same
        change seals to the same bytes each time. A payload sent in parts is stable: a push cut
        short and tried again names the same parts, and sends only those the server lacks.
        Two different changes never share a nonce (but by a 96-bit collision)."""
        aad = associated_data(self.clinic_id, entity, entity_id, version, deleted)
        if stable:
            mac = hmac.new(self._nonce_key, aad + b"\x00", hashlib.sha256)
            mac.update(plain)
            nonce = mac.digest()[:NONCE]
        else:
            nonce = os.urandom(NONCE)
        return nonce + self._aead[self.generation].encrypt(nonce, plain, aad)

    def open(
        self,
        entity: str,
        entity_id: str,
        version: int,
        deleted: bool,
        generation: int,
        sealed: bytes,
    ) -> bytes:
        where = f"the change to {entity} {entity_id} (version {version})"
        aead = self._aead.get(generation)
        if aead is None:
            raise UnreadableChange(
                f"{where} was sealed with key generation {generation}, which this desk does not "
                "hold; it is kept aside until the clinic's key reaches this desk."
            )
        aad = associated_data(self.clinic_id, entity, entity_id, version, deleted)
        try:
            return aead.decrypt(sealed[:NONCE], sealed[NONCE:], aad)
        except (InvalidTag, ValueError):
            raise UnreadableChange(
                f"{where} does not open with the clinic's key: it was altered on the way or "
                "belongs elsewhere. It was not applied."
            ) from None

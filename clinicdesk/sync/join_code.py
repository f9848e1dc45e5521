"""A join code: how an admin's desk hands the clinic's keys to a new desk through the server.

The code is 23 random characters of Crockford's base32 (115 bits) and a check character, shown
in six groups of four. Two values are derived from it with HKDF-SHA256: ``lookup``, which the
server is given (it keeps only its SHA-256) to find the code's bundle, and ``wrap_key``, which
never leaves a desk: the bundle (the clinic's database keys and its key slot file) is sealed
under it with AES-256-GCM, bound to the clinic's id. So the server holds the bundle but cannot
open it, and a guess at the code that the server does not know opens nothing.

The QR shown beside the code carries the server's address and its certificate's fingerprint
too, as a ``clinicdesk-join:`` URI, which a barcode scanner types into the code field.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clinicdesk.errors import ClinicDeskError, ValidationError
from clinicdesk.sync.protocol import same_fingerprint

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O or U
RANDOM_CHARS = 23  # 115 bits
GROUP = 4
URI_SCHEME = "clinicdesk-join"
_SALT = b"clinicdesk join code v1"
_NONCE = 12
# what a person may type for a character that looks like it (Crockford's rule)
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class JoinCodeError(ClinicDeskError):
    """A join code that is not one as typed (before anything is asked of the server)."""


class BundleUnreadable(ClinicDeskError):
    """The server's bundle does not open with the code: it is not this code's, or was altered."""


def _check_char(chars: str) -> str:
    """Luhn mod 32 over the characters: any one character mistyped, or two neighbours swapped,
    gives another check character."""
    factor, total = 2, 0
    for ch in reversed(chars):
        addend = factor * ALPHABET.index(ch)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_code() -> str:
    """A fresh code, grouped for reading out: ``ABCD-EFGH-...``."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return grouped(chars + _check_char(chars))


def grouped(chars: str) -> str:
    return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))


def normalize(text: str) -> str:
    """The code's characters as typed in any case, with or without dashes and spaces; the
    check character must agree, or JoinCodeError says it was mistyped."""
    chars = re.sub(r"[\s\-]", "", text).upper().translate(_READS_AS)
    if not chars:
        raise JoinCodeError("Type the join code shown on the administrator's desk.")
    wrong = sorted({ch for ch in chars if ch not in ALPHABET})
    if wrong:
        raise JoinCodeError(
            f"A join code has no {', '.join(repr(ch) for ch in wrong)}: check what you typed."
        )
    if len(chars) != RANDOM_CHARS + 1:
        raise JoinCodeError(
            f"A join code has {RANDOM_CHARS + 1} characters (six groups of four); this has "
            f"{len(chars)}."
        )
    if _check_char(chars[:-1]) != chars[-1]:
        raise JoinCodeError(
            "This join code has a typing mistake (its last character does not match the "
            "others): compare it with the one shown, group by group."
        )
    return chars


@dataclass(frozen=True)
class CodeKeys:
    lookup: str  # hex, sent to the server
    wrap_key: bytes  # never leaves a desk


def code_keys(text: str) -> CodeKeys:
    chars = normalize(text).encode("ascii")

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(chars)

    return CodeKeys(derive(b"lookup").hex(), derive(b"wrap key"))


@dataclass(frozen=True)
class Scanned:
    """What a join code's text gives: the code, and with a scanned QR the server too."""

    code: str
    server: str | None = None
    fingerprint: str | None = None


def join_uri(server: str, fingerprint: str, code: str) -> str:
    """The QR's text, kept short so the symbol stays coarse enough for a scanner across a
    desk: ``clinicdesk-join:?server=host:port&fp=HEX&code=CHARS`` (the server is https)."""
    fields = {
        "server": server.removeprefix("https://"),
        "fp": fingerprint.replace(":", "").upper(),
        "code": code.replace("-", ""),
    }
    return f"{URI_SCHEME}:?" + urlencode(fields, safe=":/")


def read_code(text: str) -> Scanned:
    """A code as typed, or a scanned ``clinicdesk-join:`` URI; JoinCodeError if it is neither."""
    text = text.strip()
    if not text.lower().startswith(f"{URI_SCHEME}:"):
        normalize(text)
        return Scanned(text)
    fields = parse_qs(urlsplit(text).query)
    server, fp, code = (fields.get(name, [""])[0] for name in ("server", "fp", "code"))
    if not (server and code and same_fingerprint(fp, fp)):
        raise JoinCodeError(
            "The scanned code is not complete (it lacks the server, its fingerprint or the "
            "code): scan it again, or type the server's address and the code."
        )
    code = grouped(normalize(code))
    if "://" not in server:
        server = f"https://{server}"
    pairs = fp.replace(":", "").upper()
    return Scanned(code, server, ":".join(pairs[i : i + 2] for i in range(0, len(pairs), 2)))


def seal_bundle(wrap_key: bytes, clinic_id: str, bundle: dict[str, Any]) -> bytes:
    nonce = os.urandom(_NONCE)
    plain = json.dumps(bundle, separators=(",", ":")).encode()
    return nonce + AESGCM(wrap_key).encrypt(nonce, plain, clinic_id.encode())


def open_bundle(wrap_key: bytes, clinic_id: str, sealed: bytes) -> dict[str, Any]:
    try:
        plain = AESGCM(wrap_key).decrypt(sealed[:_NONCE], sealed[_NONCE:], clinic_id.encode())
        bundle = json.loads(plain)
    except (InvalidTag, ValueError):
        raise BundleUnreadable(
            "The clinic's keys that came with this join code do not open with it: the server "
            "gave something else, or it was altered. Nothing was set up; ask the server's "
            "operator."
        ) from None
    if not isinstance(bundle, dict) or bundle.get("clinic_id") != clinic_id:
        raise BundleUnreadable("The clinic's keys that came with this join code are not whole.")
    return bundle


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def required_code(text: str) -> Scanned:
    """``read_code`` for a form: its refusal as the code field's error."""
    try:
        return read_code(text)
    except JoinCodeError as error:
        raise ValidationError({"code": error.message}) from None

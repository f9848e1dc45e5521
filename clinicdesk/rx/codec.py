"""The prescription code: COSE_Sign1 (Ed25519) over the CBOR content, deflated, as digits.

Layout of the text in the QR: ``RX1`` then digits. Deflate starts from a preset dictionary of
prescription words (clinicdesk.rx.dictionary). Every 7 bytes become 17 digits (a shorter
last group fewer), which QR numeric mode packs at 3.33 bits a digit: 0.4% above the bytes
themselves, and digits survive keyboard-wedge scanners on any keyboard layout.

Verification checks the signature before the content is parsed at all. The envelope must be
written exactly as the encoder writes it (shortest CBOR, an empty unprotected header): the
unprotected header is not signed, so anything allowed there would let one signature stand
behind many code texts.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import cbor2
from cryptography.exceptions import InvalidSignature

from clinicdesk.rx import keys
from clinicdesk.rx.code_text import PREFIX, normalize
from clinicdesk.rx.dictionary import RX1_DICTIONARY
from clinicdesk.rx.errors import (
    CodeDamaged,
    NotAPrescriptionCode,
    RevokedSigningKey,
    SignatureInvalid,
    UnknownSigningKey,
)
from clinicdesk.rx.keys import KeyPair, TrustedKey
from clinicdesk.rx.payload import PrescriptionContent, from_cbor, to_cbor

COSE_SIGN1_TAG = 18
ALG_EDDSA = -8
_HDR_ALG, _HDR_KID = 1, 4
_GROUP = 7
_DIGITS = {n: math.ceil(n * math.log10(256)) for n in range(1, _GROUP + 1)}
_LENGTHS = {d: n for n, d in _DIGITS.items()}
MAX_CODE_BYTES = 4096  # far above a 40-item prescription; bounds the work on a hostile input
MAX_CONTENT_BYTES = 16384


@dataclass(frozen=True)
class Verified:
    content: PrescriptionContent
    key: TrustedKey
    code: str  # the code's text as printed (clinicdesk.rx.code_text.normalize)
    # SHA-256 of the signed payload bytes, hex: fixed by the signature, so every text that
    # verifies as this prescription has this digest (the pharmacy's record of it)
    digest: str

    @property
    def issuer(self) -> str:
        """The signing clinic, by the id its key is trusted under (never a name in the code)."""
        return self.key.issuer


def encode(content: PrescriptionContent, key: KeyPair) -> str:
    protected = cbor2.dumps({_HDR_ALG: ALG_EDDSA, _HDR_KID: key.kid})
    payload = to_cbor(content)
    signature = keys.sign(key.private, _to_be_signed(protected, payload))
    message = _envelope(protected, payload, signature)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=RX1_DICTIONARY)
    return PREFIX + to_digits(deflater.compress(message) + deflater.flush())


def verify(text: str, trust: Mapping[bytes, TrustedKey]) -> Verified:
    """The content of a genuine code, or a CodeRefused that says why not."""
    text = normalize(text)
    protected, payload, signature = _open_envelope(_inflate(from_digits(_strip(text))))
    kid = _kid(protected)
    key = trust.get(kid)
    if key is None:
        raise UnknownSigningKey(kid.hex())
    try:
        keys.public_key(key.public).verify(signature, _to_be_signed(protected, payload))
    except InvalidSignature:
        raise SignatureInvalid() from None
    if key.status == keys.REVOKED:
        raise RevokedSigningKey(kid.hex(), key.clinic_name)
    try:
        content = from_cbor(payload)
    except Exception as exc:  # signed by a trusted key yet not our shape: a newer format
        raise CodeDamaged(f"content: {type(exc).__name__}") from None
    return Verified(content, key, text, hashlib.sha256(payload).hexdigest())


def _envelope(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    """The one accepted form of a COSE_Sign1 message: nothing unsigned in it."""
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def _strip(text: str) -> str:
    if not text.startswith(PREFIX):
        raise NotAPrescriptionCode()
    return text[len(PREFIX) :]


def to_digits(data: bytes) -> str:
    out = []
    for start in range(0, len(data), _GROUP):
        chunk = data[start : start + _GROUP]
        out.append(f"{int.from_bytes(chunk, 'big'):0{_DIGITS[len(chunk)]}d}")
    return "".join(out)


def from_digits(digits: str) -> bytes:
    if not digits.isascii() or not digits.isdigit():
        raise CodeDamaged("not digits") if digits else NotAPrescriptionCode()
    full, rest = divmod(len(digits), _DIGITS[_GROUP])
    if rest and rest not in _LENGTHS:
        raise CodeDamaged("length")
    if len(digits) > MAX_CODE_BYTES * 3:
        raise CodeDamaged("too long")
    out = bytearray()
    groups = [(_DIGITS[_GROUP], _GROUP)] * full + ([(rest, _LENGTHS[rest])] if rest else [])
    pos = 0
    for width, size in groups:
        value = int(digits[pos : pos + width])
        pos += width
        if value >= 256**size:
            raise CodeDamaged("digit group out of range")
        out += value.to_bytes(size, "big")
    return bytes(out)


def _inflate(data: bytes) -> bytes:
    message = _inflated(data)
    if message is None:
        raise CodeDamaged("deflate")
    if _padding_set(data, message):
        raise CodeDamaged("deflate padding")
    return message


def _inflated(data: bytes) -> bytes | None:
    """The whole message, or None unless the stream is complete with nothing after it."""
    inflater = zlib.decompressobj(-15, zdict=RX1_DICTIONARY)
    try:
        message = inflater.decompress(data, MAX_CODE_BYTES)
    except zlib.error:
        return None
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        return None
    return message


def _padding_set(data: bytes, message: bytes) -> bool:
    """Deflate pads its last byte with high bits the decoder never reads, so a changed digit
    in the last group could still decode. The encoder writes them as zeros: a set bit that can
    be cleared without changing the message is padding, and the code was altered."""
    last = data[-1]
    return any(
        last & (1 << bit) and _inflated(data[:-1] + bytes([last & ~(1 << bit)])) == message
        for bit in range(1, 8)
    )


def _open_envelope(message: bytes) -> tuple[bytes, bytes, bytes]:
    try:
        envelope = cbor2.loads(message)
    except Exception:
        raise CodeDamaged("cbor") from None
    if not (
        isinstance(envelope, cbor2.CBORTag)
        and envelope.tag == COSE_SIGN1_TAG
        and isinstance(envelope.value, list | tuple)
        and len(envelope.value) == 4
    ):
        raise CodeDamaged("not COSE_Sign1")
    protected, unprotected, payload, signature = envelope.value
    if not all(isinstance(v, bytes) for v in (protected, payload, signature)):
        raise CodeDamaged("COSE fields")
    if len(payload) > MAX_CONTENT_BYTES or len(signature) != 64:
        raise CodeDamaged("COSE sizes")
    if unprotected != {}:
        raise CodeDamaged("unprotected header")
    if message != _envelope(protected, payload, signature):
        raise CodeDamaged("envelope not in its one form")
    return protected, payload, signature


def _kid(protected: bytes) -> bytes:
    try:
        header = cbor2.loads(protected)
    except Exception:
        raise CodeDamaged("header") from None
    if not isinstance(header, dict) or header.get(_HDR_ALG) != ALG_EDDSA:
        raise CodeDamaged("algorithm")
    kid = header.get(_HDR_KID)
    if not isinstance(kid, bytes) or not kid:
        raise CodeDamaged("key id")
    return kid

"""The sync wire protocol (version 1), shared by the desk and the server; docs/sync.md is its text.

Nothing here imports the server, the store or Qt: the desk imports this module as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from clinicdesk.errors import ClinicDeskError

PROTOCOL_VERSION = 1
API_PREFIX = f"/v{PROTOCOL_VERSION}"
MAX_PUSH = 500  # changes in one push
MAX_PULL = 1000  # changes in one pull
MAX_WAIT = 30  # seconds a pull may wait for a change (long poll)
MAX_BODY = 16 * 1024 * 1024  # bytes of a request body, after gzip is undone
# a payload sealed larger than PART_BYTES travels as parts (docs/sync.md, "Parts")
PART_BYTES = 4 * 1024 * 1024  # bytes of one part, as the desk cuts them
MAX_PART = PART_BYTES + 64 * 1024  # bytes of one part the server takes (a little slack)
MAX_PARTS = 64  # parts of one payload
MAX_SPLIT = 48 * 1024 * 1024  # bytes of a payload sent in parts (a 25 MB file, base64 in JSON)
EPOCH_HEADER = "X-ClinicDesk-Epoch"

# the smallest payload there can be: a 12-byte nonce and a 16-byte AES-GCM tag
NONCE_SIZE = 12
TAG_SIZE = 16
MIN_PAYLOAD = NONCE_SIZE + TAG_SIZE
MAX_ID = 64  # characters of an op id, entity id, clinic id or device id
MAX_NAME = 200  # characters of a clinic's or a device's name
MAX_BIGINT = 2**63 - 1
JOIN_CODE_LIFE = 30 * 60  # seconds a join code may stay valid, at most
MAX_BUNDLE = 1024 * 1024  # bytes of a join code's wrapped bundle
LOOKUP_LENGTH = 64  # hex characters of a join code's lookup (32 bytes)

BAD_REQUEST = "bad_request"
UNAUTHORIZED = "unauthorized"
REVOKED = "revoked"
NOT_FOUND = "not_found"
CONFLICT = "conflict"
REBOOTSTRAP = "rebootstrap"
TOO_LARGE = "too_large"
MISSING_PARTS = "missing_parts"  # a push names parts of a payload the server does not hold
SERVER_ERROR = "server_error"  # not in the contract's list: a fault of the server itself (500)
UNAVAILABLE = "unavailable"  # the server's database cannot be reached for now (503)
UNKNOWN_CODE = "unknown_code"  # a join code the server does not know (404)
CODE_USED = "code_used"  # a join code that has joined a desk already (409)
CODE_EXPIRED = "code_expired"  # a join code past its time (410)
TOO_MANY_TRIES = "too_many_tries"  # too many wrong join codes from one address (429)

STATUS = {
    BAD_REQUEST: 400,
    UNAUTHORIZED: 401,
    REVOKED: 401,
    NOT_FOUND: 404,
    CONFLICT: 409,
    REBOOTSTRAP: 410,
    TOO_LARGE: 413,
    MISSING_PARTS: 422,
    SERVER_ERROR: 500,
    UNAVAILABLE: 503,
    UNKNOWN_CODE: 404,
    CODE_USED: 409,
    CODE_EXPIRED: 410,
    TOO_MANY_TRIES: 429,
}

_ENTITY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PRINTABLE = re.compile(r"[\x21-\x7e]+")  # visible ASCII, no spaces
_SHA256 = re.compile(r"[0-9a-f]{64}")  # a SHA-256 in lower-case hex


class SyncError(ClinicDeskError):
    """An error of the protocol: its ``code`` and HTTP ``status`` are what the wire carries."""

    code: ClassVar[str] = SERVER_ERROR

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def to_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class BadRequest(SyncError):
    code = BAD_REQUEST


class Unauthorized(SyncError):
    code = UNAUTHORIZED


class Revoked(SyncError):
    code = REVOKED

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(
            message
            or f"This device was removed from the clinic's sync: {reason.rstrip('.')}. It "
            "syncs again only once an administrator adds it anew."
        )

    def to_json(self) -> dict[str, str]:
        return {**super().to_json(), "reason": self.reason}


class NotFound(SyncError):
    code = NOT_FOUND


class Conflict(SyncError):
    code = CONFLICT


class Rebootstrap(SyncError):
    code = REBOOTSTRAP


class TooLarge(SyncError):
    code = TOO_LARGE


class MissingParts(SyncError):
    code = MISSING_PARTS


class ServerFault(SyncError):
    code = SERVER_ERROR


class Unavailable(SyncError):
    code = UNAVAILABLE


class JoinRefused(SyncError):
    """A join code that cannot join a desk; nothing changed on the server."""


class UnknownCode(JoinRefused):
    code = UNKNOWN_CODE


class CodeUsed(JoinRefused):
    code = CODE_USED


class CodeExpired(JoinRefused):
    code = CODE_EXPIRED


class TooManyTries(JoinRefused):
    code = TOO_MANY_TRIES


ERRORS: dict[str, type[SyncError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        NotFound,
        Conflict,
        Rebootstrap,
        TooLarge,
        MissingParts,
        ServerFault,
        UnknownCode,
        CodeUsed,
        CodeExpired,
        TooManyTries,
    )
}
ERRORS[UNAVAILABLE] = Unavailable


def error_from_json(body: Any) -> SyncError:
    """The error an answer's ``{"error", "message"}`` body stands for."""
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), str):
        return ServerFault("The sync server gave an answer that is not one of its errors.")
    message = body.get("message")
    if not isinstance(message, str):
        message = f"The sync server answered {body['error']}."
    if body["error"] == REVOKED:
        reason = body.get("reason")
        return Revoked(reason if isinstance(reason, str) else "", message)
    return ERRORS.get(body["error"], ServerFault)(message)


class MalformedChange(BadRequest):
    """A change on the wire is not one: ``field`` says which part is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(f"The change's field '{field}' {reason}.")


def _text(data: Mapping[str, Any], field: str, pattern: re.Pattern[str]) -> str:
    value = data.get(field)
    if not isinstance(value, str):
        raise MalformedChange(field, "is missing or not text")
    if not 1 <= len(value) <= MAX_ID:
        raise MalformedChange(field, f"must be 1 to {MAX_ID} characters long")
    if not pattern.fullmatch(value):
        raise MalformedChange(field, "holds characters an id cannot have")
    return value


def _int(data: Mapping[str, Any], field: str, least: int) -> int:
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedChange(field, "is missing or not a whole number")
    if not least <= value <= MAX_BIGINT:
        raise MalformedChange(field, f"must be {least} or more")
    return value


def _checked(data: Mapping[str, Any], payload: bytes, parts: Parts | None) -> dict[str, Any]:
    deleted = data.get("deleted")
    if not isinstance(deleted, bool):
        raise MalformedChange("deleted", "is missing or not true or false")
    if parts is not None and payload:
        raise MalformedChange("payload", "must be empty when the change names its parts")
    if parts is None and len(payload) < MIN_PAYLOAD:
        raise MalformedChange(
            "payload", f"is shorter than a nonce and an AES-GCM tag ({MIN_PAYLOAD} bytes)"
        )
    return {
        "op_id": _text(data, "op_id", _PRINTABLE),
        "entity": _text(data, "entity", _ENTITY),
        "entity_id": _text(data, "entity_id", _PRINTABLE),
        "version": _int(data, "version", 1),
        "deleted": deleted,
        "key_gen": _int(data, "key_gen", 0),
        "payload": payload,
        "parts": parts,
    }


def part_count(size: int) -> int:
    """How many parts a payload of ``size`` bytes is cut into."""
    return -(-size // PART_BYTES)


def blob_name(sealed: bytes) -> str:
    return hashlib.sha256(sealed).hexdigest()


def is_blob(text: str) -> bool:
    return bool(_SHA256.fullmatch(text))


@dataclass(frozen=True)
class Parts:
    """A payload sent in parts: ``blob`` is the SHA-256 (hex) of the whole sealed payload,
    ``size`` its length; it is cut into ``count`` parts of PART_BYTES, the last one shorter.

    How large a payload the server takes is its own rule (TooLarge), not checked here."""

    blob: str
    count: int
    size: int

    def __post_init__(self) -> None:
        if not isinstance(self.blob, str) or not is_blob(self.blob):
            raise MalformedChange("parts", "names a blob that is not a SHA-256 in hex")
        size = _int({"parts.size": self.size}, "parts.size", MIN_PAYLOAD)
        if _int({"parts.count": self.count}, "parts.count", 1) != part_count(size):
            raise MalformedChange("parts", f"must count {part_count(size)} parts for {size} bytes")

    @classmethod
    def of(cls, sealed: bytes) -> Parts:
        return cls(blob_name(sealed), part_count(len(sealed)), len(sealed))

    def to_json(self) -> dict[str, Any]:
        return {"blob": self.blob, "count": self.count, "size": self.size}

    @classmethod
    def from_json(cls, data: Any) -> Parts:
        if not isinstance(data, Mapping):
            raise MalformedChange("parts", "is not an object of blob, count and size")
        return cls(data.get("blob"), data.get("count"), data.get("size"))  # type: ignore[arg-type]


def cut(sealed: bytes) -> list[bytes]:
    """A sealed payload's parts, in order."""
    return [sealed[i : i + PART_BYTES] for i in range(0, len(sealed), PART_BYTES)]


@dataclass(frozen=True)
class WireChange:
    """One change of a synced row, as the desk pushes it: routing fields in clear, the row
    itself in ``payload`` (a 12-byte nonce, then AES-GCM ciphertext and tag), or, when that is
    larger than PART_BYTES, sent apart in the ``parts`` named.

    Made directly or read with ``from_json``, it is checked the same way (MalformedChange)."""

    op_id: str
    entity: str
    entity_id: str
    version: int
    deleted: bool
    key_gen: int
    payload: bytes
    parts: Parts | None = None  # a payload sent in parts: then ``payload`` is empty

    def __post_init__(self) -> None:
        if not isinstance(self.payload, bytes):
            raise MalformedChange("payload", "is not bytes")
        _checked(self.__dict__, self.payload, self.parts)

    def to_json(self) -> dict[str, Any]:
        data = {
            "op_id": self.op_id,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "version": self.version,
            "deleted": self.deleted,
            "key_gen": self.key_gen,
            "payload": base64.b64encode(self.payload).decode("ascii"),
        }
        if self.parts is not None:
            data["parts"] = self.parts.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any) -> WireChange:
        """The change in ``data`` (a decoded JSON object); MalformedChange if it is not one.

        Other keys (a pulled change's ``seq`` and ``device_id``) are left to the caller."""
        if not isinstance(data, Mapping):
            raise MalformedChange("body", "is not a JSON object")
        encoded = data.get("payload")
        if not isinstance(encoded, str):
            raise MalformedChange("payload", "is missing or not base64 text")
        try:
            payload = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedChange("payload", "is not valid base64") from None
        parts = None if data.get("parts") is None else Parts.from_json(data["parts"])
        return cls(**_checked(data, payload, parts))


@dataclass(frozen=True)
class PulledChange:
    """A change as a pull answers it: where it stands in the clinic's log, which device pushed
    it, and its link in the log's hash chain (``chain.py``) with the payload digest the server
    recorded when it took the change."""

    seq: int
    device_id: str
    change: WireChange
    link: str = ""
    payload_digest: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            **self.change.to_json(),
            "seq": self.seq,
            "device_id": self.device_id,
            "link": self.link,
            "digest": self.payload_digest,
        }

    @classmethod
    def from_json(cls, data: Any) -> PulledChange:
        change = WireChange.from_json(data)
        seq = _int(data, "seq", 1)
        device_id = _text(data, "device_id", _PRINTABLE)
        return cls(
            seq, device_id, change, _text(data, "link", _SHA256), _text(data, "digest", _SHA256)
        )


def certificate_fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a certificate (its DER bytes) as a person compares it:
    upper-case hex in pairs, ``AB:CD:...``, as ``openssl x509 -fingerprint -sha256`` shows it."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def same_fingerprint(a: str, b: str) -> bool:
    """Do two written fingerprints name the same certificate (case, colons and spaces aside)?"""

    def plain(text: str) -> str:
        return re.sub(r"[\s:]", "", text).lower()

    return plain(a) == plain(b) and len(plain(a)) == 64

"""What the sync server does with its database: clinic spaces, devices, the change logs.

Every operation is one transaction. Appends of one clinic are serialized by the clinic's row
(``SELECT ... FOR UPDATE`` on PostgreSQL, the database's write lock on SQLite), so sequence numbers
commit in the order they are given, and a pull after N never misses a lower number that commits
later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from clinicdesk.ids import new_id, utcnow
from clinicdesk.sync import chain
from clinicdesk.sync.protocol import (
    JOIN_CODE_LIFE,
    LOOKUP_LENGTH,
    MAX_BUNDLE,
    MAX_ID,
    MAX_NAME,
    MAX_PARTS,
    MAX_PULL,
    MAX_PUSH,
    MAX_SPLIT,
    BadRequest,
    CodeExpired,
    CodeUsed,
    Conflict,
    MissingParts,
    NotFound,
    Parts,
    PulledChange,
    Revoked,
    TooLarge,
    Unauthorized,
    UnknownCode,
    WireChange,
)
from clinicdesk.sync.server import migrate
from clinicdesk.sync.server.database import BUSY_TIMEOUT_S, WRITE, make_engine, write_engine
from clinicdesk.sync.server.models import (
    Change,
    ChangePart,
    Clinic,
    Device,
    JoinCode,
    OperatorToken,
    ServerMeta,
)

EPOCH_KEY = "epoch"
CURSOR_WAIT_MS = 100
_CLINIC_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_ID}}}")
_UNKNOWN_DEVICE = hashlib.sha256(b"no such device").hexdigest()
_LOOKUP = re.compile(rf"[0-9a-f]{{{LOOKUP_LENGTH}}}")


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"The {what} is missing.")
    value = value.strip()
    if len(value) > MAX_NAME or any(ord(ch) < 0x20 for ch in value):
        raise BadRequest(f"The {what} must be one line of at most {MAX_NAME} characters.")
    return value


def _lookup(value: Any, refusal: type[BadRequest] | type[UnknownCode] = BadRequest) -> str:
    if not isinstance(value, str) or not _LOOKUP.fullmatch(value):
        raise refusal(
            "That is not a join code this server can know: its lookup must be "
            f"{LOOKUP_LENGTH} hexadecimal characters."
        )
    return value


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class AuthedDevice:
    """A device that proved who it is (by its id and secret) and is not revoked."""

    id: str
    clinic_id: str
    name: str


@dataclass(frozen=True)
class NewDevice:
    clinic_id: str
    device_id: str
    token: str  # "<device_id>.<secret>": shown to the desk once, only the secret's hash is kept


@dataclass(frozen=True)
class Appended:
    op_id: str
    seq: int
    duplicate: bool

    def to_json(self) -> dict[str, Any]:
        return {"op_id": self.op_id, "seq": self.seq, "duplicate": self.duplicate}


@dataclass(frozen=True)
class PushResult:
    results: list[Appended]
    head: int


@dataclass(frozen=True)
class PullResult:
    changes: list[PulledChange]
    head: int
    more: bool


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    clinic_id: str
    name: str
    created_at: datetime
    last_seen_at: datetime | None
    cursor: int
    revoked_at: datetime | None
    revoked_reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": _utc(self.created_at),
            "last_seen_at": _utc(self.last_seen_at),
            "cursor": self.cursor,
            "revoked_at": _utc(self.revoked_at),
            "revoked_reason": self.revoked_reason,
        }


@dataclass(frozen=True)
class Joined:
    """A desk made from a join code: its device and the bundle the code's maker sealed."""

    device: NewDevice
    wrapped: bytes


@dataclass(frozen=True)
class ClinicInfo:
    id: str
    name: str
    created_at: datetime
    head: int
    devices: int
    revoked_devices: int


class ServerStore:
    """The server's data at ``url`` (``sqlite:///...`` or ``postgresql://...``)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._write = write_engine(self.engine)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # ---- the server itself ----

    def init(self) -> str:
        """Bring the schema to head and make the epoch if there is none yet; the epoch."""
        migrate.upgrade(self.engine)
        with self._write.begin() as conn:
            epoch = conn.execute(
                select(ServerMeta.value).where(ServerMeta.key == EPOCH_KEY)
            ).scalar_one_or_none()
            if epoch is None:
                epoch = str(uuid.uuid4())
                conn.execute(insert(ServerMeta).values(key=EPOCH_KEY, value=epoch))
        return epoch

    def is_current(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision()

    def epoch(self) -> str:
        with self.engine.connect() as conn:
            epoch = conn.execute(
                select(ServerMeta.value).where(ServerMeta.key == EPOCH_KEY)
            ).scalar_one_or_none()
        if epoch is None:
            raise BadRequest(
                "The sync server's database is not set up: run clinicdesk server init."
            )
        return epoch

    def new_epoch(self) -> str:
        """A new epoch, after the server was restored from a backup: every desk pulls all
        again (410 rebootstrap) and then pushes what the restored server may have lost."""
        epoch = str(uuid.uuid4())
        with self._write.begin() as conn:
            conn.execute(update(ServerMeta).where(ServerMeta.key == EPOCH_KEY).values(value=epoch))
        return epoch

    def new_operator_token(self) -> str:
        """A token that may create clinic spaces; returned once, only its SHA-256 is kept."""
        token = secrets.token_urlsafe(32)
        with self._write.begin() as conn:
            conn.execute(
                insert(OperatorToken).values(
                    id=new_id(), token_hash=_sha256(token), created_at=utcnow()
                )
            )
        return token

    def check_operator_token(self, token: str) -> None:
        given = _sha256(token)
        with self.engine.connect() as conn:
            known = conn.execute(select(OperatorToken.token_hash)).scalars().all()
        found = False
        for stored in known:  # compare with each, so the time taken tells nothing
            found |= hmac.compare_digest(stored, given)
        if not found:
            raise Unauthorized("This operator token is not known to the sync server.")

    # ---- clinics and devices ----

    def create_clinic(self, clinic_id: Any, clinic_name: Any, device_name: Any) -> NewDevice:
        """The clinic's space and its first device; Conflict if the space exists."""
        if not isinstance(clinic_id, str) or not _CLINIC_ID.fullmatch(clinic_id):
            raise BadRequest(f"The clinic id must be 1 to {MAX_ID} visible characters.")
        clinic_name = _name(clinic_name, "clinic's name")
        device_name = _name(device_name, "device's name")
        try:
            with self._write.begin() as conn:
                exists = conn.execute(select(Clinic.id).where(Clinic.id == clinic_id)).first()
                if exists:
                    raise self._space_exists(clinic_id)
                conn.execute(
                    insert(Clinic).values(
                        id=clinic_id,
                        name=clinic_name,
                        created_at=utcnow(),
                        head_seq=0,
                        head_link=chain.genesis(clinic_id),
                    )
                )
                return self._add_device(conn, clinic_id, device_name)
        except IntegrityError:  # another request made it between the look and the insert
            raise self._space_exists(clinic_id) from None

    @staticmethod
    def _space_exists(clinic_id: str) -> Conflict:
        return Conflict(
            f"The clinic {clinic_id} already has its space on this server; a further desk "
            "joins it with a join code."
        )

    def add_device(self, clinic_id: str, name: str) -> NewDevice:
        """A further device of an existing clinic."""
        name = _name(name, "device's name")
        with self._write.begin() as conn:
            if not conn.execute(select(Clinic.id).where(Clinic.id == clinic_id)).first():
                raise NotFound(f"There is no clinic {clinic_id} on this server.")
            return self._add_device(conn, clinic_id, name)

    def _add_device(self, conn, clinic_id: str, name: str) -> NewDevice:
        device_id = new_id()
        secret = secrets.token_urlsafe(32)
        conn.execute(
            insert(Device).values(
                id=device_id,
                clinic_id=clinic_id,
                name=name,
                secret_hash=_sha256(secret),
                created_at=utcnow(),
                cursor=0,
            )
        )
        return NewDevice(clinic_id, device_id, f"{device_id}.{secret}")

    # ---- join codes ----

    def add_join_code(
        self, device: AuthedDevice, lookup: Any, wrapped: bytes, device_name: Any, life: Any
    ) -> datetime:
        """Keep a join code of ``device``'s clinic for ``life`` seconds (at most 30 minutes):
        the hash of its lookup, and the bundle, which only the code opens. When it expires."""
        _lookup(lookup)
        device_name = _name(device_name, "new desk's name")
        if isinstance(life, bool) or not isinstance(life, int) or not 1 <= life <= JOIN_CODE_LIFE:
            raise BadRequest(f"A join code lasts 1 to {JOIN_CODE_LIFE} seconds.")
        if not 0 < len(wrapped) <= MAX_BUNDLE:
            raise BadRequest(f"A join code's bundle holds 1 to {MAX_BUNDLE} bytes.")
        now = utcnow()
        expires = now + timedelta(seconds=life)
        try:
            with self._write.begin() as conn:
                self._still_allowed(conn, device)
                self._drop_stale_bundles(conn, now)
                conn.execute(
                    insert(JoinCode).values(
                        lookup_hash=_sha256(lookup),
                        clinic_id=device.clinic_id,
                        made_by=device.id,
                        device_name=device_name,
                        wrapped=wrapped,
                        created_at=now,
                        expires_at=expires,
                    )
                )
        except IntegrityError:  # the same lookup twice: a desk's code is never made again
            raise Conflict("This join code is known to the server already.") from None
        return expires

    def join(self, lookup: Any) -> Joined:
        """Use a join code, once: a new device of its clinic, named as its maker said, and the
        sealed bundle. A code unknown, used or expired is refused, and nothing changes."""
        _lookup(lookup, refusal=UnknownCode)
        with self._write.begin() as conn:
            code = conn.execute(
                select(JoinCode).where(JoinCode.lookup_hash == _sha256(lookup)).with_for_update()
            ).first()
            if code is None:
                raise UnknownCode(
                    "The sync server knows no such join code. Check it against the one shown "
                    "on the administrator's desk."
                )
            if code.used_at is not None:
                raise CodeUsed(
                    "This join code has been used already: each code adds one desk. Ask the "
                    "administrator for a new one."
                )
            if code.expires_at <= utcnow():
                raise CodeExpired(
                    "This join code has expired (a code lasts 30 minutes). Ask the "
                    "administrator for a new one."
                )
            maker = conn.execute(select(Device.revoked_at).where(Device.id == code.made_by)).one()
            if maker.revoked_at is not None:
                raise CodeExpired(
                    "The desk that made this join code was removed from the clinic since, so "
                    "the code no longer works. Ask the administrator for a new one."
                )
            made = self._add_device(conn, code.clinic_id, code.device_name)
            taken = conn.execute(
                update(JoinCode)
                .where(JoinCode.lookup_hash == code.lookup_hash, JoinCode.used_at.is_(None))
                .values(used_at=utcnow(), device_id=made.device_id, wrapped=b"")
            )
            if taken.rowcount != 1:  # used by another request meanwhile: undo this device
                raise CodeUsed("This join code has been used already: each code adds one desk.")
        return Joined(made, bytes(code.wrapped))

    @staticmethod
    def _drop_stale_bundles(conn, now: datetime) -> None:
        """Bundles of codes past their time are emptied (a used one is, as it is used): a copy
        of the server's database taken later holds none, even for whoever saw the code."""
        conn.execute(
            update(JoinCode)
            .where(JoinCode.expires_at <= now, func.length(JoinCode.wrapped) > 0)
            .values(wrapped=b"")
        )

    @staticmethod
    def _still_allowed(conn, device: AuthedDevice) -> None:
        row = conn.execute(
            select(Device.revoked_at, Device.revoked_reason).where(Device.id == device.id)
        ).one()
        if row.revoked_at is not None:
            raise Revoked(row.revoked_reason or "no reason was given")

    def authenticate(self, token: str) -> AuthedDevice:
        """The device whose ``<device_id>.<secret>`` this is; Unauthorized, or Revoked with
        the reason."""
        device_id, _, secret = token.partition(".")
        row = None
        if secret and len(device_id) <= 36:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(
                        Device.id,
                        Device.clinic_id,
                        Device.name,
                        Device.secret_hash,
                        Device.revoked_at,
                        Device.revoked_reason,
                    ).where(Device.id == device_id)
                ).first()
        stored = row.secret_hash if row else _UNKNOWN_DEVICE
        if not hmac.compare_digest(stored, _sha256(secret)) or row is None:
            raise Unauthorized("This device is not known to the sync server, or its key is wrong.")
        if row.revoked_at is not None:
            raise Revoked(row.revoked_reason or "no reason was given")
        return AuthedDevice(row.id, row.clinic_id, row.name)

    def devices(self, clinic_id: str) -> list[DeviceInfo]:
        with self.engine.connect() as conn:
            if not conn.execute(select(Clinic.id).where(Clinic.id == clinic_id)).first():
                raise NotFound(f"There is no clinic {clinic_id} on this server.")
            rows = conn.execute(
                select(Device).where(Device.clinic_id == clinic_id).order_by(Device.created_at)
            ).all()
        return [self._info(r) for r in rows]

    def device(self, device_id: str) -> DeviceInfo:
        with self.engine.connect() as conn:
            row = conn.execute(select(Device).where(Device.id == device_id)).first()
        if row is None:
            raise NotFound(f"There is no device {device_id} on this server.")
        return self._info(row)

    @staticmethod
    def _info(row) -> DeviceInfo:
        return DeviceInfo(
            id=row.id,
            clinic_id=row.clinic_id,
            name=row.name,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            cursor=row.cursor,
            revoked_at=row.revoked_at,
            revoked_reason=row.revoked_reason,
        )

    def revoke(self, device_id: str, reason: Any, *, clinic_id: str | None = None) -> DeviceInfo:
        """Refuse the device from now on. With ``clinic_id`` (a device asking), a device of
        another clinic is NotFound, as if it did not exist. A device revoked before keeps its
        first reason."""
        reason = _name(reason, "reason for removing the device")
        with self._write.begin() as conn:
            row = conn.execute(select(Device).where(Device.id == device_id)).first()
            if row is None or (clinic_id is not None and row.clinic_id != clinic_id):
                raise NotFound(f"There is no device {device_id} in this clinic.")
            if row.revoked_at is None:
                conn.execute(
                    update(Device)
                    .where(Device.id == device_id)
                    .values(revoked_at=utcnow(), revoked_reason=reason)
                )
        return self.device(device_id)

    def clinics(self) -> list[ClinicInfo]:
        revoked = func.count(Device.revoked_at)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    Clinic.id,
                    Clinic.name,
                    Clinic.created_at,
                    Clinic.head_seq,
                    func.count(Device.id),
                    revoked,
                )
                .outerjoin(Device, Device.clinic_id == Clinic.id)
                .group_by(Clinic.id, Clinic.name, Clinic.created_at, Clinic.head_seq)
                .order_by(Clinic.created_at)
            ).all()
        return [ClinicInfo(*row) for row in rows]

    # ---- the change log ----

    def push(self, device: AuthedDevice, changes: Sequence[WireChange]) -> PushResult:
        """Append the changes to the clinic's log, all or none, in one transaction. A change
        whose op id is in the log already is not appended again: it answers its first seq."""
        if len(changes) > MAX_PUSH:
            raise TooLarge(f"A push holds at most {MAX_PUSH} changes; this one has {len(changes)}.")
        for number, change in enumerate(changes, start=1):
            if change.parts is not None:
                self._check_parts(device.clinic_id, change.parts, f"Change {number}")
        now = utcnow()
        with self._write.begin() as conn:
            # The clinic's row is the lock: the next push of this clinic waits here until this
            # one commits, so sequence numbers commit in order. (FOR NO KEY UPDATE on
            # PostgreSQL: pushes wait for each other, not for a device being added.)
            clinic = conn.execute(
                select(Clinic.head_seq, Clinic.head_link)
                .where(Clinic.id == device.clinic_id)
                .with_for_update(key_share=True)
            ).one_or_none()
            if clinic is None:
                raise NotFound(f"There is no clinic {device.clinic_id} on this server.")
            head, last_link = clinic
            revoked = conn.execute(
                select(Device.revoked_at, Device.revoked_reason).where(Device.id == device.id)
            ).one()
            if revoked.revoked_at is not None:
                raise Revoked(revoked.revoked_reason or "no reason was given")
            known: dict[str, int] = {}
            wanted = list({c.op_id for c in changes})
            for start in range(0, len(wanted), 250):
                known.update(
                    conn.execute(
                        select(Change.op_id, Change.seq).where(
                            Change.clinic_id == device.clinic_id,
                            Change.op_id.in_(wanted[start : start + 250]),
                        )
                    ).all()
                )
            results: list[Appended] = []
            rows: list[dict[str, Any]] = []
            for change in changes:
                if change.op_id in known:
                    results.append(Appended(change.op_id, known[change.op_id], True))
                    continue
                head += 1
                known[change.op_id] = head
                results.append(Appended(change.op_id, head, False))
                # a payload in parts: its blob, checked above, is its payload's digest
                payload_digest = change.parts.blob if change.parts else chain.digest(change.payload)
                last_link = chain.link(
                    last_link,
                    head,
                    device.id,
                    change.op_id,
                    change.entity,
                    change.entity_id,
                    change.version,
                    change.deleted,
                    change.key_gen,
                    payload_digest,
                )
                rows.append(
                    {
                        "clinic_id": device.clinic_id,
                        "seq": head,
                        "op_id": change.op_id,
                        "device_id": device.id,
                        "entity": change.entity,
                        "entity_id": change.entity_id,
                        "version": change.version,
                        "deleted": change.deleted,
                        "key_gen": change.key_gen,
                        "payload": change.payload,
                        "parts_blob": change.parts.blob if change.parts else None,
                        "parts_count": change.parts.count if change.parts else None,
                        "parts_size": change.parts.size if change.parts else None,
                        "received_at": now,
                        "digest": payload_digest,
                        "link": last_link,
                    }
                )
            if rows:
                conn.execute(insert(Change), rows)
                conn.execute(
                    update(Clinic)
                    .where(Clinic.id == device.clinic_id)
                    .values(head_seq=head, head_link=last_link)
                )
        return PushResult(results, head)

    def verify_log(self, clinic_id: str, batch: int = 1000) -> list[str]:
        """Remake the clinic's hash chain from its first change: what does not hold, in words
        (nothing: the log is as it was appended)."""
        problems: list[str] = []
        with self.engine.connect() as conn:
            clinic = conn.execute(
                select(Clinic.head_seq, Clinic.head_link).where(Clinic.id == clinic_id)
            ).one_or_none()
            if clinic is None:
                raise NotFound(f"There is no clinic {clinic_id} on this server.")
            last, after, count = chain.genesis(clinic_id), 0, 0
            while True:
                rows = conn.execute(
                    select(Change)
                    .where(Change.clinic_id == clinic_id, Change.seq > after)
                    .order_by(Change.seq)
                    .limit(batch)
                ).all()
                for r in rows:
                    # each link remade from the one before it as stored: a fault is told once
                    payload_digest = self._stored_digest(conn, r)
                    remade = chain.row_link(last, r, payload_digest)
                    count += 1
                    if r.seq != count:
                        problems.append(f"change {count} is missing (the next is {r.seq})")
                        count = r.seq
                    if payload_digest != r.digest:
                        problems.append(f"change {r.seq}: its content was altered")
                    elif remade != r.link:
                        problems.append(f"change {r.seq}: the chain does not follow on")
                    last = r.link
                if len(rows) < batch:
                    break
                after = rows[-1].seq
        if count != clinic.head_seq or last != clinic.head_link:
            problems.append(f"the log ends at change {count}, not at {clinic.head_seq}")
        return problems

    # ---- parts of large payloads ----

    def put_part(self, device: AuthedDevice, blob: str, index: int, content: bytes) -> bool:
        """Keep a part of the blob for the device's clinic; whether it is new (a part held
        already is kept as it was: sending it again changes nothing)."""
        if not 0 <= index < MAX_PARTS:
            raise TooLarge(f"A payload is sent in at most {MAX_PARTS} parts, numbered from 0.")
        if not content:
            raise BadRequest("A part cannot be empty.")
        key = (ChangePart.clinic_id == device.clinic_id) & (ChangePart.blob == blob)
        try:
            with self._write.begin() as conn:
                if conn.execute(
                    select(ChangePart.index).where(key, ChangePart.index == index)
                ).first():
                    return False
                conn.execute(
                    insert(ChangePart).values(
                        clinic_id=device.clinic_id,
                        blob=blob,
                        index=index,
                        content=content,
                        received_at=utcnow(),
                    )
                )
        except IntegrityError:  # the same part, sent at once by another request
            return False
        return True

    def held_parts(self, device: AuthedDevice, blob: str, size: int | None = None) -> list[int]:
        """The parts of the blob the device's clinic holds here; TooLarge first when a payload
        of ``size`` bytes is more than the server takes."""
        if size is not None and size > MAX_SPLIT:
            raise TooLarge(
                f"A change may hold at most {MAX_SPLIT // 2**20} MiB; this one has "
                f"{size / 2**20:.1f} MiB."
            )
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(ChangePart.index)
                    .where(ChangePart.clinic_id == device.clinic_id, ChangePart.blob == blob)
                    .order_by(ChangePart.index)
                ).scalars()
            )

    def part(self, device: AuthedDevice, blob: str, index: int) -> bytes:
        """A part the device's clinic holds; NotFound for any other (another clinic's too)."""
        if not 0 <= index < MAX_PARTS:
            raise NotFound(f"A payload has no part {index}: it is sent in at most {MAX_PARTS}.")
        with self.engine.connect() as conn:
            content = conn.execute(
                select(ChangePart.content).where(
                    ChangePart.clinic_id == device.clinic_id,
                    ChangePart.blob == blob,
                    ChangePart.index == index,
                )
            ).scalar_one_or_none()
        if content is None:
            raise NotFound(f"This clinic holds no part {index} of {blob} on the server.")
        return bytes(content)

    def _check_parts(self, clinic_id: str, parts: Parts, which: str) -> None:
        """The parts a change names are all here and make up its blob (their SHA-256): else
        MissingParts, before anything of the push is applied. Parts that do not make up the
        blob are dropped, so that the desk sends them again."""
        if parts.size > MAX_SPLIT:
            raise TooLarge(
                f"{which} holds {parts.size / 2**20:.1f} MiB; a change may hold at most "
                f"{MAX_SPLIT // 2**20} MiB."
            )
        with self.engine.connect() as conn:
            held, size, digest = self._read_parts(conn, clinic_id, parts)
        missing = sorted(set(range(parts.count)) - set(held))
        if missing:
            shown = ", ".join(str(i) for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise MissingParts(
                f"{which} is sent in {parts.count} parts, but the server lacks part(s) {shown}; "
                "nothing of this push was applied. Send the missing parts, then the push again."
            )
        if size != parts.size or digest != parts.blob:
            with self._write.begin() as conn:
                conn.execute(
                    delete(ChangePart).where(
                        ChangePart.clinic_id == clinic_id, ChangePart.blob == parts.blob
                    )
                )
            raise MissingParts(
                f"{which}: the parts the server held do not make up its payload (their SHA-256 "
                "differs), so they were dropped; nothing of this push was applied. Send the "
                "parts again, then the push."
            )

    @staticmethod
    def _read_parts(conn, clinic_id: str, parts: Parts) -> tuple[list[int], int, str]:
        """Of the parts a change names, those held here: their numbers, their length in all
        and the SHA-256 of their content in order."""
        digest = hashlib.sha256()
        held: list[int] = []
        size = 0
        for index, content in conn.execute(
            select(ChangePart.index, ChangePart.content)
            .where(
                ChangePart.clinic_id == clinic_id,
                ChangePart.blob == parts.blob,
                ChangePart.index < parts.count,
            )
            .order_by(ChangePart.index)
            .execution_options(yield_per=1)
        ):
            held.append(index)
            size += len(content)
            digest.update(content)
        return held, size, digest.hexdigest()

    def _stored_digest(self, conn, row: Any) -> str:
        """The SHA-256 of a change's payload as this server holds it, in its parts for one
        sent in parts (so an altered part shows as an altered change)."""
        if row.parts_blob is None:
            return chain.digest(bytes(row.payload))
        parts = Parts(row.parts_blob, row.parts_count, row.parts_size)
        held, size, digest = self._read_parts(conn, row.clinic_id, parts)
        complete = len(held) == parts.count and size == parts.size
        return digest if complete else chain.digest(b"")

    def head(self, device: AuthedDevice) -> int:
        """The clinic's last sequence number, for a device that is still allowed in (a long
        poll asks this every tick, so a device revoked meanwhile is refused at once)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Clinic.head_seq, Device.revoked_at, Device.revoked_reason)
                .join(Device, Device.clinic_id == Clinic.id)
                .where(Device.id == device.id)
            ).one()
        if row.revoked_at is not None:
            raise Revoked(row.revoked_reason or "no reason was given")
        return row.head_seq

    def pull(self, device: AuthedDevice, after: int, limit: int = MAX_PULL) -> PullResult:
        """The clinic's changes with a sequence above ``after``, in order, at most ``limit``;
        records where the device now stands (its cursor) and when it was last seen."""
        if after < 0 or not 1 <= limit <= MAX_PULL:
            raise BadRequest(f"A pull starts at 0 or after and takes 1 to {MAX_PULL} changes.")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Change)
                .where(Change.clinic_id == device.clinic_id, Change.seq > after)
                .order_by(Change.seq)
                .limit(limit)
            ).all()
        head = self.head(device)  # read after the changes: never below the last of them
        changes = [
            PulledChange(
                seq=r.seq,
                device_id=r.device_id,
                change=WireChange(
                    op_id=r.op_id,
                    entity=r.entity,
                    entity_id=r.entity_id,
                    version=r.version,
                    deleted=r.deleted,
                    key_gen=r.key_gen,
                    payload=bytes(r.payload),
                    parts=Parts(r.parts_blob, r.parts_count, r.parts_size)
                    if r.parts_blob is not None
                    else None,
                ),
                link=r.link,
                payload_digest=r.digest,
            )
            for r in rows
        ]
        last = changes[-1].seq if changes else min(after, head)
        head = max(head, last)
        self._record_cursor(device.id, last)
        return PullResult(changes, head, more=last < head)

    def _record_cursor(self, device_id: str, cursor: int) -> None:
        """Where the device stands, for the operator's and the desks' view. A pull on SQLite
        does not wait behind a push for this: when the database is busy past a moment, this
        pull's record is left out, and the device's next pull makes it."""
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection if self.backend == "sqlite" else None
            if raw is not None:
                raw.execute(f"PRAGMA busy_timeout={CURSOR_WAIT_MS}")
            try:
                with conn.execution_options(**{WRITE: True}).begin():
                    conn.execute(
                        update(Device)
                        .where(Device.id == device_id)
                        .values(cursor=cursor, last_seen_at=utcnow())
                    )
            except OperationalError as error:
                if raw is None or "locked" not in str(error.orig):
                    raise
            finally:
                if raw is not None:
                    raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")

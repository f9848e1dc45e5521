"""Key slots: how each person (and the recovery key) reaches the clinic's database key.

The database key is 32 random bytes with a generation number (1 at set-up, one more at each key
change). Each slot holds an X25519 key pair: the public half in the clear, the private half
encrypted with AES-256-GCM under a key derived from the password (or the recovery key) with
Argon2id, and the current database key sealed to the public half (``sealing.seal``). So the
database key can be changed and sealed again to every remaining slot without anyone's password,
and a removed person's old copy of this file opens nothing of the new generation. Doctor and
administrator slots also hold the clinic's signing-key key sealed the same way. Older database
keys are kept in ``history``, each encrypted under the current one, for opening old backups.

A key change in progress writes ``next`` (the new key sealed to every slot that is carried over)
before it re-encrypts the database, so an interrupted change is finished at the next opening
(``rekey.py``). Every change of the file goes through ``KeySlotFile.change``: exclusive lock,
read afresh, apply that one change, write atomically. Format 1 files (the database key wrapped
directly under each password) are still read; such a slot becomes a format 2 slot at its
owner's next sign-in.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinicdesk.errors import AccountInactive, StoreError, WrongPassword
from clinicdesk.ids import new_id
from clinicdesk.store import sealing
from clinicdesk.store.files import read_json, write_json_atomic
from clinicdesk.store.locks import exclusive
from clinicdesk.store.sealing import OpenFailed, b64, unb64

FORMAT = "clinicdesk-keyslots/2"
FORMAT_V1 = "clinicdesk-keyslots/1"
DATABASE, SIGNING = "database", "signing"
T = TypeVar("T")
SLOTS_FILE = "keyslots.json"
MIN_MEMORY_KIB = 64 * 1024


@dataclass(frozen=True)
class KdfParams:
    time_cost: int = 3
    memory_kib: int = MIN_MEMORY_KIB
    parallelism: int = 2

    def derive(self, secret: str, salt: bytes) -> bytes:
        return hash_secret_raw(
            secret.encode(),
            salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=32,
            type=Type.ID,
        )


def calibrate(target_seconds: float = 0.5, memory_kib: int = MIN_MEMORY_KIB) -> KdfParams:
    """Pick the Argon2id time cost that takes about ``target_seconds`` on this machine.

    A first estimate from one pass, then one correction from a timed run at that cost (the
    first passes are slowed by the memory being touched for the first time).
    """
    time_cost = 1
    for _ in range(2):
        params = KdfParams(time_cost=time_cost, memory_kib=memory_kib)
        params.derive("calibration", os.urandom(16))  # warm the allocator
        start = time.perf_counter()
        params.derive("calibration", os.urandom(16))
        per_pass = max(time.perf_counter() - start, 1e-3) / time_cost
        time_cost = max(1, min(16, round(target_seconds / per_pass)))
    return KdfParams(time_cost=time_cost, memory_kib=memory_kib)


@dataclass
class Slot:
    slot_id: str
    kind: str  # "user" or "recovery"
    user_id: str | None
    username: str | None
    kdf: KdfParams
    salt: str
    public_key: str = ""
    wrapped_private: str = ""  # the X25519 private half, boxed under Argon2id(secret, salt)
    sealed_key: str = ""  # the current database key, sealed to public_key
    sealed_signing: str = ""  # the signing-key key, for doctor and administrator slots only
    nonce: str = ""  # format 1 only
    wrapped_key: str = ""  # format 1 only: the database key boxed under the password

    @property
    def is_v1(self) -> bool:
        return bool(self.wrapped_key)

    def aad(self, clinic_id: str) -> bytes:
        return f"{clinic_id}|{self.slot_id}|{self.kind}|{self.user_id or ''}".encode()

    def to_json(self) -> dict:
        data = {**asdict(self), "kdf": asdict(self.kdf)}
        return {
            k: v for k, v in data.items() if v not in ("", None) or k in ("user_id", "username")
        }


def sealed_aad(clinic_id: str, slot_id: str, generation: int | str, purpose: str) -> bytes:
    return f"{clinic_id}|{slot_id}|{generation}|{purpose}".encode()


def clinic_name(folder: Path) -> str:
    """The clinic's name as the sign-in window shows it, before anything is unlocked."""
    try:
        return str(read_json(folder / SLOTS_FILE).get("clinic_name", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def new_database_key() -> bytes:
    return secrets.token_bytes(32)


def new_recovery_key() -> str:
    """20 random bytes as 32 base32 letters and digits, shown in groups of four."""
    raw = base64.b32encode(secrets.token_bytes(20)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalize_recovery_key(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


@dataclass
class PendingKey:
    """A key change written but not yet finished: the new key sealed to each carried-over slot."""

    generation: int
    sealed: dict[str, str]  # slot id -> sealed new database key
    history: list[dict] = field(default_factory=list)  # every older key, under the new key


class KeySlotFile:
    """The slot file of one clinic's data folder."""

    def __init__(
        self,
        folder: Path,
        clinic_id: str,
        slots: list[Slot],
        clinic_name: str = "",
        generation: int = 1,
        history: list[dict] | None = None,
        pending: PendingKey | None = None,
    ) -> None:
        self.folder = folder
        self.clinic_id = clinic_id
        self.slots = slots
        self.clinic_name = clinic_name  # not secret: the sign-in window greets with it
        self.generation = generation
        self.history = history or []
        self.pending = pending

    @property
    def path(self) -> Path:
        return self.folder / SLOTS_FILE

    @classmethod
    def exists(cls, folder: Path) -> bool:
        return (folder / SLOTS_FILE).exists()

    @classmethod
    def load(cls, folder: Path, owner: str = "") -> KeySlotFile:
        """Read and check the slot file; ``owner`` names whose file it is in the error (by
        default the clinic's own, which nobody can sign in without)."""
        path = folder / SLOTS_FILE
        if not owner and not path.exists() and not (folder / "clinic.db").exists():
            raise StoreError(f"No clinic has been set up in {folder} yet.")
        what = owner or f"The clinic's key file {path}"
        consequence = "" if owner else "; nobody can sign in until it is restored from a backup"
        try:
            data = read_json(path)
        except FileNotFoundError:
            raise KeyFileDamaged(f"{what} is missing{consequence}.") from None
        except (OSError, ValueError, RecursionError) as exc:
            raise KeyFileDamaged(
                f"{what} is damaged (it is not readable JSON){consequence}."
            ) from exc
        try:
            parsed = parse_slot_file(data)
        except ShapeProblem as problem:
            raise KeyFileDamaged(f"{what} is damaged: {problem}{consequence}.") from None
        return cls(folder, **parsed)

    def reload(self) -> None:
        """Read the file again in place (other workstations may have changed it)."""
        self.adopt(KeySlotFile.load(self.folder))

    def adopt(self, fresh: KeySlotFile) -> None:
        """Show what ``fresh`` (the file as just read or written) holds."""
        self.clinic_id, self.slots, self.clinic_name = (
            fresh.clinic_id,
            fresh.slots,
            fresh.clinic_name,
        )
        self.generation, self.history, self.pending = (
            fresh.generation,
            fresh.history,
            fresh.pending,
        )

    def change(self, apply: Callable[[KeySlotFile], T]) -> T:
        """Apply one change to the file as it is on disk now, under the file's exclusive lock.

        ``apply`` gets the file freshly read and changes only what it means to change; the file
        is then written atomically and this object shows the result. Nothing held in memory from
        an earlier read is ever written back, so two desks never undo each other's changes.
        """
        with exclusive(self.path):
            fresh = KeySlotFile.load(self.folder)
            before = fresh.document()
            result = apply(fresh)
            if fresh.document() != before:  # nothing changed: nothing written, nobody woken
                fresh.write()
        self.adopt(fresh)
        return result

    def write(self) -> None:
        """Write the whole file atomically (set-up, or inside ``change``)."""
        write_json_atomic(self.path, self.document())

    def document(self) -> dict:
        """The file's content as JSON values (fresh ones: changing them changes nothing here)."""
        document: dict = {
            "format": FORMAT,
            "clinic_id": self.clinic_id,
            "clinic_name": self.clinic_name,
            "generation": self.generation,
            "slots": [s.to_json() for s in self.slots],
            "history": self.history,
        }
        if self.pending is not None:
            document["next"] = asdict(self.pending)
        return json.loads(json.dumps(document))

    # --- slots ---------------------------------------------------------------------------

    def new_slot(
        self,
        kind: str,
        secret: str,
        kdf: KdfParams,
        user_id: str | None = None,
        username: str | None = None,
        slot_id: str | None = None,
    ) -> tuple[Slot, X25519PrivateKey]:
        """A slot with a fresh key pair whose private half only ``secret`` opens (not yet
        holding any key: ``seal_database_key`` does that)."""
        slot = Slot(slot_id or new_id(), kind, user_id, username, kdf, salt="")
        return slot, self.set_secret(slot, secret, kdf)

    def set_secret(self, slot: Slot, secret: str, kdf: KdfParams | None = None) -> X25519PrivateKey:
        """A new key pair for ``slot`` under ``secret``: whoever knew the slot's old secret (and
        kept a copy of the file) cannot open what is sealed to it from now on."""
        if kdf is not None:
            slot.kdf = kdf
        private = sealing.new_private_key()
        salt = os.urandom(16)
        kek = slot.kdf.derive(secret, salt)
        slot.salt = b64(salt)
        slot.public_key = b64(sealing.public_bytes(private))
        slot.wrapped_private = sealing.box(
            kek, sealing.private_bytes(private), slot.aad(self.clinic_id) + b"|private"
        )
        slot.nonce = slot.wrapped_key = slot.sealed_key = slot.sealed_signing = ""
        return private

    def seal_database_key(self, slot: Slot, key: bytes) -> None:
        """Seal the current generation's database key to ``slot``."""
        public = unb64(slot.public_key)
        slot.sealed_key = sealing.seal(
            public, key, sealed_aad(self.clinic_id, slot.slot_id, self.generation, DATABASE)
        )

    def seal_pending_key(self, slot: Slot, key: bytes) -> None:
        """Seal the key of the change in progress (``next``) to ``slot``."""
        assert self.pending is not None
        self.pending.sealed[slot.slot_id] = sealing.seal(
            unb64(slot.public_key),
            key,
            sealed_aad(self.clinic_id, slot.slot_id, self.pending.generation, DATABASE),
        )

    def seal_signing_key(self, slot: Slot, kek: bytes | None) -> None:
        slot.sealed_signing = (
            ""
            if kek is None
            else sealing.seal(
                unb64(slot.public_key), kek, sealed_aad(self.clinic_id, slot.slot_id, "-", SIGNING)
            )
        )

    def open_private(self, slot: Slot, secret: str) -> X25519PrivateKey:
        """The slot's private key, or WrongPassword."""
        kek = slot.kdf.derive(secret, unb64(slot.salt))
        try:
            raw = sealing.unbox(kek, slot.wrapped_private, slot.aad(self.clinic_id) + b"|private")
        except OpenFailed:
            raise WrongPassword() from None
        return sealing.private_from_bytes(raw)

    def unwrap_v1(self, slot: Slot, secret: str) -> bytes:
        """The database key from a format 1 slot, or WrongPassword."""
        kek = slot.kdf.derive(secret, unb64(slot.salt))
        try:
            return AESGCM(kek).decrypt(
                unb64(slot.nonce), unb64(slot.wrapped_key), slot.aad(self.clinic_id)
            )
        except InvalidTag:
            raise WrongPassword() from None

    def database_key(
        self, slot: Slot, private: X25519PrivateKey, *, pending: bool = False
    ) -> bytes:
        """The current (or, during a key change, the next) database key sealed to ``slot``."""
        if pending:
            assert self.pending is not None
            sealed, generation = self.pending.sealed.get(slot.slot_id, ""), self.pending.generation
        else:
            sealed, generation = slot.sealed_key, self.generation
        if not sealed:
            raise KeyNotHeld()
        try:
            return sealing.unseal(
                private, sealed, sealed_aad(self.clinic_id, slot.slot_id, generation, DATABASE)
            )
        except OpenFailed:
            raise KeyFileDamaged(
                f"The clinic's key file {self.path} is damaged: the key sealed to "
                f"{slot.username or 'the recovery key'} does not open."
            ) from None

    def signing_key(self, slot: Slot, private: X25519PrivateKey) -> bytes | None:
        """The signing-key key sealed to ``slot``, or None when this slot holds none."""
        if not slot.sealed_signing:
            return None
        try:
            return sealing.unseal(
                private,
                slot.sealed_signing,
                sealed_aad(self.clinic_id, slot.slot_id, "-", SIGNING),
            )
        except OpenFailed:
            return None

    def old_keys(self, current: bytes) -> dict[int, bytes]:
        """Older generations' database keys (for old backups), opened with the current key."""
        return {
            entry["generation"]: sealing.unbox(
                current, entry["key"], _history_aad(self.clinic_id, entry["generation"])
            )
            for entry in self.history
        }

    def history_under(self, new_key: bytes, current: bytes) -> list[dict]:
        """The history for the next generation: every older key and ``current``, under
        ``new_key``."""
        keys = {**self.old_keys(current), self.generation: current}
        return [
            {"generation": g, "key": sealing.box(new_key, k, _history_aad(self.clinic_id, g))}
            for g, k in sorted(keys.items())
        ]

    def put(self, slot: Slot) -> None:
        """Add ``slot``, replacing the account's earlier slot (one per account and user name)."""
        if slot.kind == "user":
            wanted = (slot.username or "").casefold()
            self.slots = [
                s
                for s in self.slots
                if not (
                    s.kind == "user"
                    and (s.user_id == slot.user_id or (s.username or "").casefold() == wanted)
                )
            ]
        self.slots = [s for s in self.slots if s.slot_id != slot.slot_id] + [slot]

    def slot(self, slot_id: str) -> Slot | None:
        return next((s for s in self.slots if s.slot_id == slot_id), None)

    def user_slot(self, username: str) -> Slot | None:
        wanted = username.strip().casefold()
        return next(
            (s for s in self.slots if s.kind == "user" and (s.username or "").casefold() == wanted),
            None,
        )

    def slot_for_user_id(self, user_id: str) -> Slot | None:
        return next((s for s in self.slots if s.kind == "user" and s.user_id == user_id), None)

    def recovery_slot(self) -> Slot | None:
        return next((s for s in self.slots if s.kind == "recovery"), None)

    def remove_user(self, user_id: str) -> None:
        self.slots = [s for s in self.slots if not (s.kind == "user" and s.user_id == user_id)]


def _history_aad(clinic_id: str, generation: int) -> bytes:
    return f"{clinic_id}|history|{generation}".encode()


class KeyNotHeld(AccountInactive):
    """A slot that holds no database key of the generation asked for."""

    def __init__(self) -> None:
        super().__init__("This account has been removed; ask an administrator.")


class KeyFileDamaged(StoreError):
    """A key slot file that is missing, unreadable or of the wrong shape."""


class ShapeProblem(ValueError):
    """What is wrong with a key slot file, as the end of a sentence."""


# Bounds on what a key file may ask Argon2id for: a damaged or hostile file must not make
# ClinicDesk spin for hours or ask for a terabyte of memory before it can say the password is wrong.
TIME_COST_RANGE = (1, 32)
MEMORY_KIB_RANGE = (8 * 1024, 2 * 1024 * 1024)
PARALLELISM_RANGE = (1, 16)
SEALED_SIZE = 32 + sealing.SEALED_OVERHEAD
V1_BYTES = {"salt": (8, 64), "nonce": (12, 12), "wrapped_key": (48, 48)}
V2_BYTES = {
    "salt": (8, 64),
    "public_key": (32, 32),
    "wrapped_private": (60, 60),
    "sealed_key": (SEALED_SIZE, SEALED_SIZE),
}
SLOT_KINDS = ("user", "recovery")


def parse_slot_file(data: object) -> dict:
    """The clinic id, name, generation, history, pending change and slots of a key slot file's
    JSON (as ``KeySlotFile`` arguments), or ShapeProblem."""
    if not isinstance(data, dict):
        raise ShapeProblem("it does not hold a set of named values")
    if data.get("format") not in (FORMAT, FORMAT_V1):
        raise ShapeProblem("it is not a ClinicDesk key file of a format this version reads")
    clinic_id = _text(data, "clinic_id", "the clinic id")
    name = data.get("clinic_name", "")
    if not isinstance(name, str):
        raise ShapeProblem("the clinic name is not text")
    raw_slots = data.get("slots")
    if not isinstance(raw_slots, list):
        raise ShapeProblem("it has no list of key slots")
    if not raw_slots:
        raise ShapeProblem("its list of key slots is empty")
    generation = data.get("generation", 1)
    if type(generation) is not int or generation < 1:
        raise ShapeProblem("its key generation is not a whole number from 1")
    return {
        "clinic_id": clinic_id,
        "clinic_name": name,
        "slots": [_slot(raw, n) for n, raw in enumerate(raw_slots, start=1)],
        "generation": generation,
        "history": _history(data.get("history", [])),
        "pending": _pending(data.get("next")),
    }


def _history(raw: object) -> list[dict]:
    if not isinstance(raw, list):
        raise ShapeProblem("its list of older keys is not a list")
    for entry in raw:
        if not (
            isinstance(entry, dict)
            and type(entry.get("generation")) is int
            and _size(entry.get("key")) == 60
        ):
            raise ShapeProblem("an entry in its list of older keys is malformed")
    return raw


def _pending(raw: object) -> PendingKey | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or type(raw.get("generation")) is not int:
        raise ShapeProblem("its unfinished key change is malformed")
    sealed = raw.get("sealed")
    if not isinstance(sealed, dict) or any(
        not isinstance(k, str) or _size(v) != SEALED_SIZE for k, v in sealed.items()
    ):
        raise ShapeProblem("its unfinished key change is malformed")
    return PendingKey(raw["generation"], sealed, _history(raw.get("history", [])))


def _size(text: object) -> int:
    if not isinstance(text, str):
        return -1
    try:
        return len(unb64(text))
    except ValueError:
        return -1


def parse_slot(raw: object) -> Slot:
    """A slot from its JSON (``Slot.to_json``), checked as the key file's are, or ShapeProblem."""
    return _slot(raw, 1)


def _slot(raw: object, n: int) -> Slot:
    if not isinstance(raw, dict):
        raise ShapeProblem(f"key slot {n} is not a set of named values")
    kind = raw.get("kind")
    if kind not in SLOT_KINDS:
        raise ShapeProblem(f"key slot {n} is neither a user's nor the recovery key's")
    user_id = username = None
    if kind == "user":
        user_id = _text(raw, "user_id", f"the user id of key slot {n}")
        username = _text(raw, "username", f"the user name of key slot {n}")
    shape = V1_BYTES if "wrapped_key" in raw else V2_BYTES
    fields = dict(shape)
    if raw.get("sealed_signing") and shape is V2_BYTES:
        fields["sealed_signing"] = (SEALED_SIZE, SEALED_SIZE)
    for name, (low, high) in fields.items():
        text = _text(raw, name, f"the {name.replace('_', ' ')} of key slot {n}")
        size = _size(text)
        if size < 0:
            raise ShapeProblem(f"the {name.replace('_', ' ')} of key slot {n} is not base64")
        if not low <= size <= high:
            raise ShapeProblem(f"the {name.replace('_', ' ')} of key slot {n} has a wrong length")
    return Slot(
        slot_id=_text(raw, "slot_id", f"the id of key slot {n}"),
        kind=kind,
        user_id=user_id,
        username=username,
        kdf=_kdf(raw.get("kdf"), n),
        **{name: raw[name] for name in fields},
    )


def _kdf(raw: object, n: int) -> KdfParams:
    if not isinstance(raw, dict):
        raise ShapeProblem(f"key slot {n} has no key derivation settings")
    return checked_kdf(raw, f" of key slot {n}")


def checked_kdf(raw: dict, where: str) -> KdfParams:
    """Argon2id settings within the bounds, or ShapeProblem naming the value ``where`` it is
    (" of key slot 2"): the one check for settings read from a key file or the database."""
    values = {}
    for name, (low, high) in (
        ("time_cost", TIME_COST_RANGE),
        ("memory_kib", MEMORY_KIB_RANGE),
        ("parallelism", PARALLELISM_RANGE),
    ):
        value = raw.get(name)
        label = name.replace("_", " ")
        if type(value) is not int:  # not bool, float or text
            raise ShapeProblem(f"the {label}{where} is not a whole number")
        if not low <= value <= high:
            raise ShapeProblem(f"the {label}{where} is {value}, outside {low} to {high}")
        values[name] = value
    if values["memory_kib"] < 8 * values["parallelism"]:
        raise ShapeProblem(f"the memory{where} is too small for its parallelism")
    return KdfParams(**values)


def _text(raw: dict, field: str, what: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value:
        raise ShapeProblem(f"{what} is missing or not text")
    return value

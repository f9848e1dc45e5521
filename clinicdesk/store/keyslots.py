"""Key slots: the database key wrapped once per user and once for the recovery key.

The database key is 32 random bytes. Each slot holds it encrypted with AES-256-GCM under a key
derived from a password (or the recovery key) with Argon2id. Unlocking unwraps one slot; changing a
password rewraps only that slot. The slots live in ``keyslots.json`` beside the database; the file
holds no patient data, only user ids, user names and ciphertext.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinicdesk.errors import StoreError, WrongPassword
from clinicdesk.ids import new_id
from clinicdesk.store.files import read_json, write_json_atomic

FORMAT = "clinicdesk-keyslots/1"
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
    nonce: str
    wrapped_key: str

    def aad(self, clinic_id: str) -> bytes:
        return f"{clinic_id}|{self.slot_id}|{self.kind}|{self.user_id or ''}".encode()


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


class KeySlotFile:
    """The slot file of one clinic's data folder."""

    def __init__(
        self, folder: Path, clinic_id: str, slots: list[Slot], clinic_name: str = ""
    ) -> None:
        self.folder = folder
        self.clinic_id = clinic_id
        self.slots = slots
        self.clinic_name = clinic_name  # not secret: the sign-in window greets with it

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
            clinic_id, name, slots = parse_slot_file(data)
        except ShapeProblem as problem:
            raise KeyFileDamaged(f"{what} is damaged: {problem}{consequence}.") from None
        return cls(folder, clinic_id, slots, name)

    def reload(self) -> None:
        """Read the file again in place (other workstations may have changed it)."""
        fresh = KeySlotFile.load(self.folder)
        self.clinic_id, self.slots, self.clinic_name = (
            fresh.clinic_id,
            fresh.slots,
            fresh.clinic_name,
        )

    def save(self) -> None:
        """Write the file; if that fails, the slots in memory go back to what the file holds."""
        try:
            write_json_atomic(
                self.path,
                {
                    "format": FORMAT,
                    "clinic_id": self.clinic_id,
                    "clinic_name": self.clinic_name,
                    "slots": [{**asdict(s), "kdf": asdict(s.kdf)} for s in self.slots],
                },
            )
        except BaseException:
            if self.path.exists():
                self.reload()
            else:
                self.slots = []
            raise

    def add(
        self,
        kind: str,
        secret: str,
        db_key: bytes,
        kdf: KdfParams,
        user_id: str | None = None,
        username: str | None = None,
    ) -> Slot:
        slot = Slot(
            slot_id=new_id(),
            kind=kind,
            user_id=user_id,
            username=username,
            kdf=kdf,
            salt="",
            nonce="",
            wrapped_key="",
        )
        self._wrap(slot, secret, db_key)
        if kind == "user":  # one slot per account and per user name, never a stale twin
            wanted = (username or "").casefold()
            self.slots = [
                s
                for s in self.slots
                if not (
                    s.kind == "user"
                    and (s.user_id == user_id or (s.username or "").casefold() == wanted)
                )
            ]
        self.slots.append(slot)
        return slot

    def _wrap(self, slot: Slot, secret: str, db_key: bytes) -> None:
        salt, nonce = os.urandom(16), os.urandom(12)
        kek = slot.kdf.derive(secret, salt)
        wrapped = AESGCM(kek).encrypt(nonce, db_key, slot.aad(self.clinic_id))
        slot.salt, slot.nonce = _b64(salt), _b64(nonce)
        slot.wrapped_key = _b64(wrapped)

    def unwrap(self, slot: Slot, secret: str) -> bytes:
        kek = slot.kdf.derive(secret, _unb64(slot.salt))
        try:
            return AESGCM(kek).decrypt(
                _unb64(slot.nonce), _unb64(slot.wrapped_key), slot.aad(self.clinic_id)
            )
        except InvalidTag:
            raise WrongPassword() from None

    def rewrap(
        self, slot: Slot, new_secret: str, db_key: bytes, kdf: KdfParams | None = None
    ) -> None:
        if kdf is not None:
            slot.kdf = kdf
        self._wrap(slot, new_secret, db_key)

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


class KeyFileDamaged(StoreError):
    """A key slot file that is missing, unreadable or of the wrong shape."""


class ShapeProblem(ValueError):
    """What is wrong with a key slot file, as the end of a sentence."""


# Bounds on what a key file may ask Argon2id for: a damaged or hostile file must not make
# ClinicDesk spin for hours or ask for a terabyte of memory before it can say the password is wrong.
TIME_COST_RANGE = (1, 32)
MEMORY_KIB_RANGE = (8 * 1024, 2 * 1024 * 1024)
PARALLELISM_RANGE = (1, 16)
BYTES_RANGE = {"salt": (8, 64), "nonce": (12, 12), "wrapped_key": (48, 48)}
SLOT_KINDS = ("user", "recovery")


def parse_slot_file(data: object) -> tuple[str, str, list[Slot]]:
    """The clinic id, clinic name and slots of a key slot file's JSON, or ShapeProblem."""
    if not isinstance(data, dict):
        raise ShapeProblem("it does not hold a set of named values")
    if data.get("format") != FORMAT:
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
    return clinic_id, name, [_slot(raw, n) for n, raw in enumerate(raw_slots, start=1)]


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
    for field, (low, high) in BYTES_RANGE.items():
        text = _text(raw, field, f"the {field} of key slot {n}")
        try:
            size = len(_unb64(text))
        except ValueError:  # binascii.Error, or letters beyond ASCII
            raise ShapeProblem(
                f"the {field.replace('_', ' ')} of key slot {n} is not base64"
            ) from None
        if not low <= size <= high:
            raise ShapeProblem(f"the {field.replace('_', ' ')} of key slot {n} has a wrong length")
    return Slot(
        slot_id=_text(raw, "slot_id", f"the id of key slot {n}"),
        kind=kind,
        user_id=user_id,
        username=username,
        kdf=_kdf(raw.get("kdf"), n),
        salt=raw["salt"],
        nonce=raw["nonce"],
        wrapped_key=raw["wrapped_key"],
    )


def _kdf(raw: object, n: int) -> KdfParams:
    if not isinstance(raw, dict):
        raise ShapeProblem(f"key slot {n} has no key derivation settings")
    values = {}
    for field, (low, high) in (
        ("time_cost", TIME_COST_RANGE),
        ("memory_kib", MEMORY_KIB_RANGE),
        ("parallelism", PARALLELISM_RANGE),
    ):
        value = raw.get(field)
        if type(value) is not int:  # not bool, float or text
            raise ShapeProblem(
                f"the {field.replace('_', ' ')} of key slot {n} is not a whole number"
            )
        if not low <= value <= high:
            raise ShapeProblem(
                f"the {field.replace('_', ' ')} of key slot {n} is {value}, outside {low} to {high}"
            )
        values[field] = value
    if values["memory_kib"] < 8 * values["parallelism"]:
        raise ShapeProblem(f"the memory of key slot {n} is too small for its parallelism")
    return KdfParams(**values)


def _text(raw: dict, field: str, what: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value:
        raise ShapeProblem(f"{what} is missing or not text")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    """Raises ValueError on anything but strict base64."""
    return base64.b64decode(text, validate=True)

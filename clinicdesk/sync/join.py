"""Adding a workstation to a clinic that syncs: the admin's desk makes a one-time code, the new
PC joins with it and pulls the whole clinic.

The admin's desk seals the clinic's keys (its database keys of every generation, and its key
slot file, so staff sign in with their own passwords) under a key derived from the code
(``join_code.py``) and leaves them with the server, which cannot open them. The new PC sends
the code's lookup, becomes a device of the clinic, opens the keys with the code, and builds the
clinic in a staging folder inside its data folder (``.joining``): an encrypted database made
with the clinic's key, connected to the server with its certificate pinned, then filled by
pulling everything. Only when the whole log is in does it move the database, the certificate
and, last, the key slot file into the data folder; until then the folder is not a clinic.

A join cut off part-way (network gone, app closed) is resumed by joining again with the same
code (what the server gave is kept in the staging folder, sealed under the code), or started
anew with a new code. A code the server refuses changes nothing on disk.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from clinicdesk.errors import Conflict, StoreError, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.paths import JOINING_DIR
from clinicdesk.services.formulary import SEEDED_KEY
from clinicdesk.store import migrate
from clinicdesk.store.database import CLINIC_ID_KEY, DB_FILE, Store, connect
from clinicdesk.store.files import private_dir, read_json, write_json_atomic
from clinicdesk.store.keyslots import SLOTS_FILE, KeySlotFile, ShapeProblem, parse_slot_file
from clinicdesk.store.models import Meta
from clinicdesk.sync import client as wire
from clinicdesk.sync import desk
from clinicdesk.sync.join_code import (
    b64,
    code_keys,
    join_uri,
    new_code,
    open_bundle,
    read_code,
    seal_bundle,
)
from clinicdesk.sync.payload import PayloadCipher
from clinicdesk.sync.protocol import JOIN_CODE_LIFE, certificate_fingerprint

JOINING = JOINING_DIR  # the staging folder, inside the data folder
STATE = "join.json"  # in the staging folder: what the server gave, sealed under the code
RECEIVED = "received.json"  # in the staging folder, last: everything is in, to be moved in
KDF_KEY = "kdf"
DB_FILES = (f"{DB_FILE}-wal", f"{DB_FILE}-shm", DB_FILE)  # moved in this order

Progress = Callable[[int, int], None]  # changes received so far, of the server's head


@dataclass(frozen=True)
class NewCode:
    """A join code as the admin's desk shows it."""

    code: str  # ABCD-EFGH-..., to read out or type
    uri: str  # the QR's text
    server: str
    fingerprint: str
    device_name: str
    expires_at: datetime


@dataclass(frozen=True)
class JoinedClinic:
    clinic_id: str
    clinic_name: str


def make_code(
    store: Store,
    slots: KeySlotFile,
    keys: dict[int, bytes],
    device_name: str,
    life: int = JOIN_CODE_LIFE,
) -> NewCode:
    """A code for one further desk named ``device_name``, valid ``life`` seconds: the clinic's
    keys are sealed under it and left with the server."""
    device_name = device_name.strip()
    if not device_name:
        raise ValidationError({"device": "is required: say which PC joins, such as Consulting 2"})
    link = desk.connection(store)
    if link is None:
        raise Conflict(
            "This clinic is not connected to a sync server: connect it first, then add "
            "workstations."
        )
    with store.read() as s:
        kdf = s.get(Meta, KDF_KEY)
    bundle = {
        "clinic_id": slots.clinic_id,
        "clinic_name": slots.clinic_name,
        "generation": slots.generation,
        "keys": {str(generation): b64(key) for generation, key in keys.items()},
        "slots": read_json(slots.path),
        "kdf": kdf.value if kdf is not None else None,
    }
    code = new_code()
    derived = code_keys(code)
    wrapped = seal_bundle(derived.wrap_key, slots.clinic_id, bundle)
    client = link.client()
    try:
        answer = client.add_join_code(derived.lookup, wrapped, device_name, life)
    finally:
        client.close()
    fingerprint = ""
    if link.certificate is not None:
        pem = link.certificate.read_text()
        fingerprint = certificate_fingerprint(ssl.PEM_cert_to_DER_cert(pem))
    return NewCode(
        code,
        join_uri(link.url, fingerprint, code),
        link.url,
        fingerprint,
        device_name,
        datetime.fromisoformat(answer["expires_at"].replace("Z", "+00:00")),
    )


def join_clinic(
    folder: Path,
    address: str,
    code_text: str,
    certificate: bytes | None,
    progress: Progress | None = None,
) -> JoinedClinic:
    """Make ``folder`` a desk of the clinic whose code this is, pulling all of it. ``address``
    is the server's (https), ``certificate`` its PEM, compared by a person or by the scanned
    code's fingerprint, and pinned."""
    code = read_code(code_text).code
    derived = code_keys(code)
    if finish_interrupted(folder):  # it had all it needed when it was stopped
        slots = KeySlotFile.load(folder)
        return JoinedClinic(slots.clinic_id, slots.clinic_name)
    if KeySlotFile.exists(folder) or (folder / DB_FILE).exists():
        raise StoreError(f"{folder} already holds a clinic; it was not changed.")
    staging = folder / JOINING
    state = _resumed(staging, derived.lookup, derived.wrap_key)
    if state is None:
        state = _joined(folder, address, derived.lookup, derived.wrap_key, certificate)
    bundle = state["bundle"]
    clinic_id = bundle["clinic_id"]
    keys = {int(g): base64.b64decode(k) for g, k in bundle["keys"].items()}
    generation = int(bundle["generation"])
    if generation not in keys:
        raise StoreError("The clinic's keys that came with this join code are not whole.")
    if not (staging / SLOTS_FILE).exists():
        # in place before the pull: key slots changed since the code was made arrive with it
        # and are written into this file (``slot_sync.follow``)
        try:
            KeySlotFile(staging, **parse_slot_file(bundle["slots"])).write()
        except ShapeProblem as problem:
            raise StoreError(
                f"The clinic's key file that came with the code is damaged: {problem}."
            ) from None
    store = _staged_store(staging, state, keys[generation], certificate)
    try:
        cipher = PayloadCipher(clinic_id, keys, generation)
        link = desk.connection(store)
        assert link is not None
        client = link.client()
        try:
            desk.pull(store, client, cipher, progress=progress)
        finally:
            client.close()
    finally:
        store.close()
    write_json_atomic(staging / RECEIVED, {"clinic_id": clinic_id})  # the join is finished
    finish_interrupted(folder)
    return JoinedClinic(clinic_id, bundle["clinic_name"])


def finish_interrupted(folder: Path) -> bool:
    """A join that had received everything but was stopped while moving its files into the
    data folder is finished (``RECEIVED``, written last in the staging folder, says so); whether
    there was one. Nothing else is done here."""
    staging = folder / JOINING
    if not (staging / RECEIVED).exists():
        return False
    for name in (*DB_FILES, desk.CERTIFICATE, SLOTS_FILE):
        if (staging / name).exists():
            (staging / name).replace(folder / name)
    shutil.rmtree(staging, ignore_errors=True)
    return True


def _lookup_hash(lookup: str) -> str:
    return hashlib.sha256(lookup.encode()).hexdigest()


def _resumed(staging: Path, lookup: str, wrap_key: bytes) -> dict[str, Any] | None:
    """What an earlier join with this same code was given, kept in the staging folder."""
    try:
        kept = read_json(staging / STATE)
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("lookup_hash") != _lookup_hash(lookup):
        return None
    return open_bundle(wrap_key, kept["clinic_id"], base64.b64decode(kept["sealed"]))


def _joined(
    folder: Path, address: str, lookup: str, wrap_key: bytes, certificate: bytes | None
) -> dict[str, Any]:
    """Use the code on the server; keep what it gave, sealed under the code, in a fresh staging
    folder (a join begun with another code is given up)."""
    with TemporaryDirectory() as scratch:
        pinned = None
        if certificate is not None:
            pinned = Path(scratch) / desk.CERTIFICATE
            pinned.write_bytes(certificate)
        answer = wire.join(address, pinned, lookup)
    clinic_id = answer["clinic_id"]
    bundle = open_bundle(wrap_key, clinic_id, base64.b64decode(answer["wrapped"]))
    state = {
        "clinic_id": clinic_id,
        "bundle": bundle,
        "url": address,
        "device_id": answer["device_id"],
        "token": answer["token"],
        "epoch": answer["epoch"],
    }
    staging = folder / JOINING
    private_dir(folder)
    shutil.rmtree(staging, ignore_errors=True)
    private_dir(staging)
    sealed = seal_bundle(wrap_key, clinic_id, state)
    write_json_atomic(
        staging / STATE,
        {"lookup_hash": _lookup_hash(lookup), "clinic_id": clinic_id, "sealed": b64(sealed)},
    )
    return state


def _staged_store(
    staging: Path, state: dict[str, Any], db_key: bytes, certificate: bytes | None
) -> Store:
    """The staging database, made afresh unless an earlier attempt made it and connected it."""
    if (staging / DB_FILE).exists():
        try:
            store = connect(staging, db_key, expect_clinic_id=state["clinic_id"])
            if desk.connection(store) is not None:
                return store
            store.close()
        except StoreError:
            pass
        for name in DB_FILES:
            (staging / name).unlink(missing_ok=True)
    store = connect(staging, db_key, must_exist=False)
    try:
        migrate.upgrade(store)
        with store.write() as s:
            s.add(Meta(key=CLINIC_ID_KEY, value=state["clinic_id"]))
            # the starter list of medicines comes with the clinic's own list, not again here
            s.add(Meta(key=SEEDED_KEY, value=utcnow().isoformat()))
            kdf = state["bundle"].get("kdf")
            if isinstance(kdf, str):
                s.add(Meta(key=KDF_KEY, value=kdf))
        desk.connect(
            store,
            state["url"],
            state["device_id"],
            state["token"],
            state["epoch"],
            certificate,
        )
    except BaseException:
        store.close()
        raise
    return store

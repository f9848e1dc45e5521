"""Encrypted backups and verified restore.

A backup is one ``.cdbak`` file: a zip (stored, not compressed: the pages are ciphertext) holding
the database copied page by page with SQLCipher's online backup (so it stays encrypted with the
clinic's key), the key slot file, and a manifest with the clinic id, a SHA-256 of the database
and the audit chain's head in the copy (an anchor: clinicdesk.store.audit). Restoring checks the
manifest, the checksum, SQLCipher's page HMACs, SQLite's integrity check and the audit chain
against the manifest's anchor before anything of the current data is touched; the current data is
kept aside. The live clinic's log can later be checked against any backup's anchor.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import sqlcipher3

from clinicdesk.errors import StoreError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor
from clinicdesk.store import audit
from clinicdesk.store.database import DB_FILE, Store, translate_db_errors
from clinicdesk.store.files import (
    FILE_MODE,
    FileExists,
    create_private_file,
    private_dir,
    private_writer,
    storage_errors,
)
from clinicdesk.store.keyslots import SLOTS_FILE

FORMAT = "clinicdesk-backup/1"
MANIFEST = "manifest.json"
SUFFIX = ".cdbak"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    clinic_id: str
    created_at: str
    size: int


def create_backup(store: Store, key: bytes, dest: Path) -> BackupInfo:
    """Write an encrypted backup to ``dest`` (a new file, or a folder to put a dated file in).

    An existing file is never replaced. The backup is written under a temporary name beside
    ``dest``, read back and checked, and only then given its name.
    """
    if dest.is_dir():
        dest = dest / f"clinicdesk-{utcnow():%Y%m%d-%H%M%S}{SUFFIX}"
    if dest.exists():
        raise FileExists(dest)
    clinic_id = store.clinic_id()
    with (
        storage_errors(dest.parent),
        translate_db_errors(dest.parent),
        tempfile.TemporaryDirectory(dir=dest.parent, prefix=".clinicdesk-backup-") as tmp,
    ):
        copy = Path(tmp) / DB_FILE
        os.close(create_private_file(copy))
        target = _open(copy, key)
        raw = store.engine.raw_connection()
        try:
            raw.driver_connection.backup(target)
        finally:
            raw.close()
            target.close()
        check_database(copy, key)
        made = utcnow()
        manifest = {
            "format": FORMAT,
            "clinic_id": clinic_id,
            "created_at": made.isoformat(),
            "sha256": _sha256(copy),
        }
        conn = _open(copy, key)
        try:
            head = audit.read_anchor(conn.execute, made)
        finally:
            conn.close()
        if head is not None:
            manifest["audit_head"] = {"seq": head.seq, "hash": head.hash, "epoch": head.epoch}
        with private_writer(dest, replace=False) as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
                zf.write(copy, DB_FILE)
                zf.write(store.folder / SLOTS_FILE, SLOTS_FILE)
            fh.seek(0)
            _check_written(fh, manifest["sha256"], dest)
    return BackupInfo(dest, clinic_id, manifest["created_at"], dest.stat().st_size)


def reencrypt(
    src: Path, old_key_of: Callable[[Path], bytes], new_key: bytes, key_file: Path
) -> str:
    """Encrypt the backup ``src`` again with the clinic's current key (``new_key``) and give it
    the clinic's current key file, in place: the passwords of its own day no longer open it.
    ``old_key_of`` gives its key from the folder it is unpacked in. Returns when it was made."""
    manifest = read_manifest(src)
    with (
        storage_errors(src.parent),
        tempfile.TemporaryDirectory(dir=src.parent, prefix=".clinicdesk-backup-") as tmp,
    ):
        staging = Path(tmp)
        extract(src, staging)
        old_key = old_key_of(staging)
        check_database(staging / DB_FILE, old_key)
        from clinicdesk.store.rekey import rekey_database  # rekey imports this module's users

        rekey_database(staging / DB_FILE, old_key, new_key)
        check_database(staging / DB_FILE, new_key)
        manifest = {
            **manifest,
            "sha256": _sha256(staging / DB_FILE),
            "reencrypted_at": utcnow().isoformat(),
        }
        with private_writer(src, replace=True) as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
                zf.write(staging / DB_FILE, DB_FILE)
                zf.write(key_file, SLOTS_FILE)
            fh.seek(0)
            _check_written(fh, manifest["sha256"], src)
    return str(manifest.get("created_at", ""))


def _check_written(fh: IO[bytes], sha256: str, dest: Path) -> None:
    """Read the backup back as it is on disk: its database must match the checksum."""
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(fh) as zf, zf.open(DB_FILE) as db:
            for block in iter(lambda: db.read(1 << 20), b""):
                digest.update(block)
            zf.getinfo(SLOTS_FILE)
    except (KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise StoreError(
            f"The backup {dest.name} could not be read back; it was not kept."
        ) from exc
    if digest.hexdigest() != sha256:
        raise StoreError(f"The backup {dest.name} did not read back as written; it was not kept.")


def read_manifest(src: Path) -> dict:
    try:
        with zipfile.ZipFile(src) as zf:
            manifest = json.loads(zf.read(MANIFEST))
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile) as exc:
        raise StoreError(f"{src.name} is not a ClinicDesk backup, or it is damaged.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{src.name} is not a ClinicDesk backup this version can read.")
    for field in ("clinic_id", "sha256"):
        if not isinstance(manifest.get(field), str):
            raise StoreError(
                f"{src.name} is damaged: its manifest has no {field.replace('_', ' ')}."
            )
    return manifest


def manifest_anchor(manifest: dict, name: str) -> audit.Anchor | None:
    """The audit head recorded in a backup's manifest; None for a backup from before anchors."""
    head = manifest.get("audit_head")
    if head is None:
        return None
    try:
        seq, digest, epoch = head["seq"], head["hash"], head["epoch"]
        made = datetime.fromisoformat(manifest["created_at"])
        if not (isinstance(seq, int) and isinstance(epoch, int) and isinstance(digest, str)):
            raise TypeError("audit head fields")
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{name} is damaged: its manifest's audit head cannot be read.") from exc
    return audit.Anchor(seq, digest, made, epoch, f"the backup {name} was made")


def check_audit(store: Store, manifest: dict, name: str) -> audit.Anchor | None:
    """The backup's audit chain, checked against its own manifest's anchor; returns the anchor.

    Raises StoreError naming the first problem: a backup whose log was rewritten, or whose
    manifest was, is not used.
    """
    anchor = manifest_anchor(manifest, name)
    with store.read() as s:
        report = audit.verify(s, [anchor] if anchor else [])
    if not report.intact:
        raise StoreError(f"The backup's audit log does not verify: {report.problems[0]}")
    return anchor


def mark_restored(
    store: Store, manifest: dict, name: str, actor: Actor, unlocked_with: str
) -> audit.Anchor:
    """Append the restore, by ``actor``, to the restored log, naming the backup's head (so
    anchors of the history it replaces are set aside, not taken for tampering); returns the new
    head."""
    with store.write(actor) as s:
        before = audit.current_anchor(s)
        entry = audit.append(
            s,
            actor,
            audit.RESTORE,
            "clinic",
            manifest["clinic_id"],
            backup=name,
            backup_made=manifest["created_at"],
            from_entry=before.seq if before else 0,
            unlocked_with=unlocked_with,
        )
    return audit.Anchor(entry.seq, entry.hash, utcnow(), entry.seq)


def extract(src: Path, into: Path) -> dict:
    """Unpack a backup into the folder ``into`` (files private) and check its checksum."""
    manifest = read_manifest(src)
    private_dir(into)
    try:
        with zipfile.ZipFile(src) as zf, storage_errors(into):
            for name in (DB_FILE, SLOTS_FILE):
                with (
                    zf.open(name) as packed,
                    os.fdopen(create_private_file(into / name), "wb") as out,
                ):
                    shutil.copyfileobj(packed, out, 1 << 20)
    except (zipfile.BadZipFile, KeyError, zlib.error) as exc:
        raise StoreError(f"{src.name} is damaged and cannot be read; it was not used.") from exc
    if _sha256(into / DB_FILE) != manifest["sha256"]:
        raise StoreError(f"{src.name} is damaged: its database does not match its checksum.")
    return manifest


def check_database(path: Path, key: bytes) -> None:
    conn = _open(path, key)
    try:
        cipher = conn.execute("PRAGMA cipher_integrity_check").fetchall()
        quick = conn.execute("PRAGMA quick_check").fetchall()
    except sqlcipher3.DatabaseError as exc:
        raise StoreError("The backup's database cannot be read with this clinic's key.") from exc
    finally:
        conn.close()
    if cipher or quick != [("ok",)]:
        raise StoreError("The backup's database failed its integrity check; it was not used.")


def swap_in(staged: Path, folder: Path) -> Path | None:
    """Move the staged database and key slots into ``folder``; keep the current ones aside.

    The current files are kept aside if any is there, even without its partner (a clinic whose
    key file was lost is restored over its database, which is kept).
    """
    aside = None
    current = [
        name
        for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", SLOTS_FILE)
        if (folder / name).exists()
    ]
    if current:
        aside = private_dir(folder / "backups" / f"replaced-{utcnow():%Y%m%d-%H%M%S-%f}")
        for name in current:
            shutil.move(folder / name, aside / name)
            (aside / name).chmod(FILE_MODE)
    for name in (DB_FILE, SLOTS_FILE):
        (staged / name).replace(folder / name)
    return aside


def _open(path: Path, key: bytes) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

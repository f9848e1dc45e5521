"""Encrypted backups and verified restore.

A backup is one ``.cdbak`` file: a zip (stored, not compressed: the pages are ciphertext) holding
the database copied page by page with SQLCipher's online backup (so it stays encrypted with the
clinic's key), the key slot file, and a manifest with the clinic id and a SHA-256 of the database.
Restoring checks the manifest, the checksum, SQLCipher's page HMACs, SQLite's integrity check and
the audit chain before anything of the current data is touched; the current data is kept aside.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from clinicdesk.errors import StoreError
from clinicdesk.ids import utcnow
from clinicdesk.store.database import DB_FILE, Store, translate_db_errors
from clinicdesk.store.files import storage_errors
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
    """Write an encrypted backup to ``dest`` (a file, or a folder to put a dated file in)."""
    if dest.is_dir():
        dest = dest / f"clinicdesk-{utcnow():%Y%m%d-%H%M%S}{SUFFIX}"
    clinic_id = store.clinic_id()
    with (
        storage_errors(dest.parent),
        translate_db_errors(dest.parent),
        tempfile.TemporaryDirectory(dir=dest.parent) as tmp,
    ):
        copy = Path(tmp) / DB_FILE
        target = _open(copy, key)
        raw = store.engine.raw_connection()
        try:
            raw.driver_connection.backup(target)
        finally:
            raw.close()
            target.close()
        check_database(copy, key)
        manifest = {
            "format": FORMAT,
            "clinic_id": clinic_id,
            "created_at": utcnow().isoformat(),
            "sha256": _sha256(copy),
        }
        partial = dest.with_name(dest.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
            zf.write(copy, DB_FILE)
            zf.write(store.folder / SLOTS_FILE, SLOTS_FILE)
        partial.replace(dest)
    return BackupInfo(dest, clinic_id, manifest["created_at"], dest.stat().st_size)


def read_manifest(src: Path) -> dict:
    try:
        with zipfile.ZipFile(src) as zf:
            manifest = json.loads(zf.read(MANIFEST))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise StoreError(f"{src.name} is not a ClinicDesk backup, or it is damaged.") from exc
    if manifest.get("format") != FORMAT:
        raise StoreError(f"{src.name} is not a ClinicDesk backup this version can read.")
    return manifest


def extract(src: Path, into: Path) -> dict:
    """Unpack a backup into the folder ``into`` and check its checksum."""
    manifest = read_manifest(src)
    try:
        with zipfile.ZipFile(src) as zf, storage_errors(into):
            zf.extract(DB_FILE, into)
            zf.extract(SLOTS_FILE, into)
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
    """Move the staged database and key slots into ``folder``; keep the current ones aside."""
    aside = None
    if (folder / DB_FILE).exists():
        aside = folder / "backups" / f"replaced-{utcnow():%Y%m%d-%H%M%S}"
        aside.mkdir(parents=True)
        for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", SLOTS_FILE):
            if (folder / name).exists():
                shutil.move(folder / name, aside / name)
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

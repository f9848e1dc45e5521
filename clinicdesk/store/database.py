"""Opening a clinic's database: key check, clinic check, migrations, units of work."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import sqlcipher3
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from clinicdesk.changes import ChangeFeed
from clinicdesk.errors import (
    DatabaseDamaged,
    DatabaseMismatch,
    StorageFull,
    StorageReadOnly,
    StoreError,
)
from clinicdesk.permissions import Actor
from clinicdesk.store import changes, outbox
from clinicdesk.store.engine import make_engine
from clinicdesk.store.files import create_private_file, make_private, storage_errors
from clinicdesk.store.models import Meta

DB_FILE = "clinic.db"
CLINIC_ID_KEY = "clinic_id"


class KeyWatch(Protocol):
    """Follows the clinic's key file for a store (``keyholder.KeyWatch``)."""

    def check(self, store: Store, *, force: bool = False) -> bool:
        """Switch ``store`` to the key the file holds now if it changed; True if it did."""
        ...

    def signing_key(self) -> bytes | None:
        """The signing-key key this session's slot holds, if any."""
        ...


class KeyChangedElsewhere(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "The clinic's key was changed at another workstation a moment ago; nothing was "
            "saved. Please try again."
        )


class Store:
    """One clinic's open database.

    With a ``key_watch``, each unit of work first checks (cheaply) whether another desk changed
    the clinic's key, and a unit that fails because the key changed under it says so.
    """

    def __init__(self, folder: Path, engine: Engine, key: bytes | None = None) -> None:
        self.folder = folder
        self.engine = engine
        self.key = key
        self.key_watch: KeyWatch | None = None
        self._switching = threading.Lock()
        self._writer = sessionmaker(
            engine.execution_options(begin="IMMEDIATE"), expire_on_commit=False
        )
        self._reader = sessionmaker(engine, expire_on_commit=False)
        outbox.install(self._writer)  # first: it gives new rows their ids
        self.changes = ChangeFeed()
        changes.install(self._writer, self.changes)

    def use_key(self, key: bytes) -> None:
        """Reconnect with ``key`` (the database was re-encrypted, here or at another desk)."""
        with self._switching:
            old, self.engine, self.key = self.engine, make_engine(self.path, key), key
            self._writer.configure(bind=self.engine.execution_options(begin="IMMEDIATE"))
            self._reader.configure(bind=self.engine)
        old.dispose()

    @contextmanager
    def _current_key(self) -> Iterator[None]:
        if self.key_watch is None:
            yield
            return
        self.key_watch.check(self)
        try:
            yield
        except DatabaseMismatch:
            if self.key_watch.check(self, force=True):
                raise KeyChangedElsewhere() from None
            raise

    @property
    def path(self) -> Path:
        return self.folder / DB_FILE

    @contextmanager
    def write(self, actor: Actor | None = None) -> Iterator[Session]:
        """A unit of work: all of it commits, or none of it (any exception rolls back).

        BEGIN IMMEDIATE takes the write lock up front, so two desks writing at once queue on the
        busy timeout instead of failing half-way.
        """
        with (
            self._current_key(),
            translate_db_errors(self.folder),
            self._writer() as session,
            session.begin(),
        ):
            session.info["actor"] = actor
            yield session

    def after_commit(self, listener: Callable[[Session], None]) -> None:
        """Call ``listener`` with each unit of work from ``write`` once it has committed (not
        when a savepoint inside it ends: nothing is committed then)."""

        def committed(session: Session) -> None:
            if not session.in_nested_transaction():
                listener(session)

        event.listen(self._writer, "after_commit", committed)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with (
            self._current_key(),
            translate_db_errors(self.folder),
            self._reader() as session,
            session.begin(),
        ):
            yield session

    def clinic_id(self) -> str:
        with self.read() as s:
            return s.scalar(select(Meta.value).where(Meta.key == CLINIC_ID_KEY)) or ""

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def translate_db_errors(folder: Path) -> Iterator[None]:
    """Turn SQLite's errors into ones staff can act on (raw sqlcipher3 ones too, as in backup)."""
    try:
        yield
    except (DBAPIError, sqlcipher3.Error) as exc:
        translated = _translate(exc, folder)
        if translated is exc:
            raise
        raise translated from exc


def _translate(exc: Exception, folder: Path) -> Exception:
    text = str(getattr(exc, "orig", exc)).lower()
    if "disk is full" in text or "disk full" in text:
        return StorageFull()
    if "disk i/o error" in text:  # SQLite says this when the WAL cannot grow on a full disk
        if shutil.disk_usage(folder).free < 1 << 20:
            return StorageFull()
        return StoreError(
            "The clinic's data could not be read or written (a disk error). Nothing was saved; "
            "check the drive, then try again."
        )
    if "readonly" in text or "read-only" in text or "unable to open database" in text:
        return StorageReadOnly(str(folder))
    if "file is not a database" in text or "malformed" in text:
        return DatabaseMismatch()
    if "database is locked" in text:
        return StoreError(
            "Another workstation is saving at this moment and did not finish in "
            "time. Nothing was saved; please try again."
        )
    return exc


def connect(
    folder: Path, key: bytes, *, expect_clinic_id: str | None = None, must_exist: bool = True
) -> Store:
    """Open the database with ``key`` and make sure it is this clinic's."""
    path = folder / DB_FILE
    if must_exist and not path.exists():
        raise StoreError(f"There is no clinic database in {folder}.")
    if not path.exists():  # SQLite would create it (and its journals) as the umask says
        with storage_errors(folder):
            os.close(create_private_file(path))
    make_private(folder)  # SQLite gives its journals the database file's mode
    engine = make_engine(path, key)
    store = Store(folder, engine, key)
    try:
        with translate_db_errors(folder), engine.connect() as conn:
            if must_exist:
                _check_pages(conn)
                found = _stored_clinic_id(conn)
                if expect_clinic_id is not None and found not in (None, expect_clinic_id):
                    raise DatabaseMismatch()
    except BaseException:
        store.close()
        raise
    return store


def _check_pages(conn) -> None:
    """Every page's HMAC, before anything is written: a damaged file is refused untouched.

    Reads the whole file once (about 0.3 s per 100 MB here); sign-in already waits for Argon2.
    """
    failures = conn.exec_driver_sql("PRAGMA cipher_integrity_check").fetchall()
    if failures:
        raise DatabaseDamaged(len(failures))


def _stored_clinic_id(conn) -> str | None:
    has_meta = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
    ).scalar()
    if not has_meta:
        return None
    return conn.exec_driver_sql("SELECT value FROM meta WHERE key=?", (CLINIC_ID_KEY,)).scalar()

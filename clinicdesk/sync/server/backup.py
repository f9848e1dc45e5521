"""Backups of the sync server's database, and restoring one (``clinicdesk server backup`` and
``restore``).

A backup is taken while the server runs and is consistent: on SQLite, a copy made with SQLite's
online backup (one read transaction: every change committed before it, none after); on
PostgreSQL, ``pg_dump --format=custom`` of the server's tables (one snapshot). It holds what the
server holds: routing data and the changes' ciphertext, no patient data in clear.

Restoring checks the copy before anything is changed (a server's tables, a schema revision this
version knows), keeps the current SQLite file aside, puts the copy in place atomically and brings
its schema to head. Then the server gets a new epoch: each desk is answered 410 ``rebootstrap``,
pulls everything again and sends what it held that the copy lacks (docs/sync.md).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from clinicdesk.errors import ClinicDeskError
from clinicdesk.ids import utcnow
from clinicdesk.store.files import FileExists, create_private_file, storage_errors
from clinicdesk.sync.server import migrate
from clinicdesk.sync.server.database import make_engine
from clinicdesk.sync.server.models import ServerBase
from clinicdesk.sync.server.store import EPOCH_KEY, ServerStore

VERSION_TABLE = "alembic_version"
# what every server's database has, whatever its revision: a copy without them is not a server's
REQUIRED = frozenset({VERSION_TABLE, "server_meta", "clinics", "devices", "changes"})
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
LOCK_WAIT_S = 1


@dataclass(frozen=True)
class BackupMade:
    path: Path
    size: int


@dataclass(frozen=True)
class Restored:
    epoch: str
    aside: Path | None
    clinics: int
    changes: int


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def default_name(url: str) -> str:
    return f"clinicdesk-server-{utcnow():%Y%m%d-%H%M%S}{'.db' if is_sqlite(url) else '.pgdump'}"


def backup(url: str, dest: Path) -> BackupMade:
    """A consistent copy of the server's database at ``url``, taken while it runs, in ``dest``
    (a folder, for a dated file in it, or a new file). An existing file is never replaced; the
    copy is written under a temporary name, checked, and only then given its name, 0600."""
    dest = dest.expanduser().absolute()
    if dest.is_dir():
        dest = dest / default_name(url)
    if dest.exists():
        raise FileExists(dest)
    if not dest.parent.is_dir():
        raise ClinicDeskError(f"The folder {dest.parent} does not exist; make it first.")
    with _new_file(dest) as tmp:
        if is_sqlite(url):
            _sqlite_backup(_sqlite_path(url), tmp)
            _check_sqlite_copy(tmp, dest)
        else:
            schema = _pg_schema(url)
            _pg_dump(url, tmp, schema)
            _check_pg_copy(tmp, dest, schema)
    return BackupMade(dest, dest.stat().st_size)


def restore(url: str, src: Path) -> Restored:
    """Put the backup ``src`` in the place of the server's database at ``url`` (the server
    stopped), bring its schema to head and make a new epoch. Nothing is changed when ``src`` is
    not a backup of a sync server this version can run."""
    src = src.expanduser().absolute()
    if not src.is_file():
        raise ClinicDeskError(f"There is no file {src}; nothing was changed.")
    aside = None
    if is_sqlite(url):
        _check_sqlite_copy(src, src)
        aside = _sqlite_restore(_sqlite_path(url), src)
    else:
        schema = _pg_schema(url)
        _check_pg_copy(src, src, schema)
        _pg_restore(url, src, schema)
    store = ServerStore(url)
    try:
        store.init()  # the schema to head (a copy of an older version's server), an epoch
        epoch = store.new_epoch()
        clinics = store.clinics()
    finally:
        store.close()
    return Restored(epoch, aside, len(clinics), sum(c.head for c in clinics))


# ---- files ----


@contextmanager
def _new_file(dest: Path) -> Iterator[Path]:
    """A private, empty temporary file beside ``dest``, given ``dest``'s name once what was
    written there is on disk; an existing ``dest`` is never replaced."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    with storage_errors(dest.parent):
        _remove(tmp)
        os.close(create_private_file(tmp))
        try:
            yield tmp
            _fsync(tmp)
            try:
                os.link(tmp, dest)  # fails if dest exists, with no window for a race
            except FileExistsError:
                raise FileExists(dest) from None
            except OSError:  # a file system without hard links
                if dest.exists():
                    raise FileExists(dest) from None
                os.replace(tmp, dest)
        finally:
            _remove(tmp)
        _fsync(dest.parent)


def _remove(path: Path) -> None:
    """A file and any SQLite journal files beside it."""
    for name in (path, *_journals(path)):
        name.unlink(missing_ok=True)


def _journals(path: Path) -> list[Path]:
    return [path.with_name(path.name + end) for end in ("-journal", "-wal", "-shm")]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        if not path.is_dir():  # some file systems cannot sync a folder; a file must be synced
            raise
    finally:
        os.close(fd)


def _stamp() -> str:
    return f"{utcnow():%Y%m%d-%H%M%S}"


# ---- SQLite ----


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _sqlite_backup(path: Path, copy: Path) -> None:
    if not path.is_file():
        raise ClinicDeskError(f"The server's database {path} does not exist; nothing to back up.")
    try:
        # mode=rw: never creates the database it was meant to copy
        source = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        try:
            target = sqlite3.connect(copy)
            try:
                source.backup(target)  # all pages in one step: one read transaction, consistent
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise ClinicDeskError(
            f"The server's database {path} could not be copied: {error}; no backup was made."
        ) from None


def _read_only(path: Path) -> sqlite3.Connection:
    """A file that no one writes (a backup), read as it is: no lock, no journal made beside it."""
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)


def _check_sqlite_copy(copy: Path, named: Path) -> None:
    """``copy`` is a whole SQLite database of a sync server this version can run; else a
    sentence naming the file as the operator gave it (``named``)."""
    nothing = "nothing was changed" if copy == named else "no backup was made"
    with copy.open("rb") as fh:
        start = fh.read(len(SQLITE_MAGIC))
    if start != SQLITE_MAGIC:
        other = (
            " (it is the backup of a server on PostgreSQL, which is restored into one on "
            "PostgreSQL)"
            if start.startswith(PG_MAGIC)
            else ""
        )
        raise ClinicDeskError(
            f"{named} is not a SQLite database, so not a backup of this sync server{other}; "
            f"{nothing}."
        )
    try:
        conn = _read_only(copy)
        try:
            check = conn.execute("PRAGMA quick_check").fetchall()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            revision = epoch = None
            if tables >= REQUIRED:
                revision = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
                epoch = conn.execute(
                    "SELECT value FROM server_meta WHERE key = ?", (EPOCH_KEY,)
                ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise ClinicDeskError(
            f"{named} cannot be read as a SQLite database ({error}); {nothing}."
        ) from None
    if check != [("ok",)]:
        raise ClinicDeskError(
            f"{named} is damaged (SQLite's check says: {check[0][0]}); {nothing}."
        )
    if not tables >= REQUIRED or epoch is None:
        raise ClinicDeskError(
            f"{named} is a SQLite database but not a sync server's (it lacks the server's "
            f"tables); {nothing}."
        )
    _check_revision(revision[0] if revision else None, named, nothing)


def _check_revision(revision: str | None, named: Path, nothing: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        known = revision is not None and (
            ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision) is not None
        )
    except CommandError:
        known = False
    if not known:
        raise ClinicDeskError(
            f"{named} holds a schema this version of the sync server does not know "
            f"(revision {revision}): a newer version made it; {nothing}."
        )


def _sqlite_restore(path: Path, src: Path) -> Path | None:
    """The copy in the place of the database at ``path``; where the database it replaced is
    kept (None when there was none)."""
    folder = path.parent
    if not folder.is_dir():
        raise ClinicDeskError(f"The server's folder {folder} does not exist; nothing was changed.")
    if path.exists():
        _take_out_of_use(path)
    for journal in _journals(path):  # a journal left by a lost database must not meet the copy
        journal.unlink(missing_ok=True)
    staged = folder / f".{path.name}.restore-{os.getpid()}.partial"
    aside = None
    with storage_errors(folder):
        _remove(staged)
        try:
            with open(create_private_file(staged), "wb") as out, src.open("rb") as given:
                shutil.copyfileobj(given, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            if path.exists():
                aside = _keep_aside(path)
            os.replace(staged, path)
        finally:
            _remove(staged)
        _fsync(folder)
    return aside


def _take_out_of_use(path: Path) -> None:
    """Refuse while another process has the database open (a server running on it); else fold
    its write-ahead log into the file, so that the file alone is the whole database."""
    try:
        conn = sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None)
        try:
            # switching out of WAL needs the database to itself: a running server holds it open
            conn.execute("PRAGMA journal_mode=DELETE").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise ClinicDeskError(
                f"The server's database {path} is in use: stop the sync server (clinicdesk "
                "server run) first, then restore; nothing was changed."
            ) from None
        raise ClinicDeskError(
            f"The server's database {path} cannot be opened ({error}); nothing was changed."
        ) from None
    except sqlite3.DatabaseError:
        pass  # a damaged database is what a restore replaces: it is kept aside as it is


def _keep_aside(path: Path) -> Path:
    """A second name for the database being replaced (a hard link, or a copy where the file
    system has none): the database never lacks its file, even for a moment."""
    stamp, n = _stamp(), 1
    while True:
        aside = path.with_name(f"{path.name}.before-restore-{stamp}{f'-{n}' if n > 1 else ''}")
        try:
            os.link(path, aside)
            return aside
        except FileExistsError:
            n += 1
        except OSError:
            if aside.exists():
                n += 1
                continue
            shutil.copy2(path, aside)
            return aside


# ---- PostgreSQL ----


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ClinicDeskError(
            f"{name} is not on PATH: install PostgreSQL's client tools (of the server's major "
            f"version or newer) where this command runs, then try again; nothing was done."
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The database's address as PostgreSQL's tools take it, and their environment: the
    password goes there, never on a command line other accounts may read."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), env


def _pg_schema(url: str) -> str:
    """The schema the server's tables are in (the one its address's search path names)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one_or_none()
    except Exception as error:
        detail = getattr(error, "orig", None) or error
        raise ClinicDeskError(
            f"The server's database cannot be reached: {str(detail).strip().splitlines()[0]}; "
            "nothing was done."
        ) from None
    finally:
        engine.dispose()
    if schema is None:
        raise ClinicDeskError("The server's database has no schema to keep its tables in.")
    return schema


def _run(command: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, **kwargs)


def _said(done: subprocess.CompletedProcess) -> str:
    lines = [x.strip() for x in done.stderr.decode(errors="replace").splitlines() if x.strip()]
    said = next((x for x in lines if "error" in x.lower()), lines[0] if lines else "no reason")
    return re.sub(r"^(pg_dump|pg_restore): (error: )?", "", said)


def _pg_dump(url: str, copy: Path, schema: str) -> None:
    """The server's tables (and only them: the database may hold others) into ``copy``."""
    pg_dump = _pg_tool("pg_dump")
    address, env = _libpq(url)
    tables = sorted({t.name for t in ServerBase.metadata.sorted_tables} | {VERSION_TABLE})
    with copy.open("wb") as out:  # the file made 0600; pg_dump writes what it dumps there
        done = subprocess.run(
            [
                *(pg_dump, "--format=custom", "--dbname", address),
                *(f'--table="{schema}"."{table}"' for table in tables),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
        )
    if done.returncode != 0:
        raise ClinicDeskError(f"pg_dump could not back up the server: {_said(done)}.")


def _check_pg_copy(copy: Path, named: Path, schema: str) -> None:
    """``copy`` is a pg_dump archive of a sync server's tables, in ``schema``, of a revision
    this version knows; else a sentence naming the file as the operator gave it."""
    nothing = "nothing was changed" if copy == named else "no backup was made"
    pg_restore = _pg_tool("pg_restore")
    with copy.open("rb") as fh:
        start = fh.read(len(SQLITE_MAGIC))
    if not start.startswith(PG_MAGIC):
        other = (
            " (it is the backup of a server on SQLite, which is restored into one on SQLite)"
            if start == SQLITE_MAGIC
            else ""
        )
        raise ClinicDeskError(
            f"{named} is not a pg_dump archive, so not a backup of this sync server{other}; "
            f"{nothing}."
        )
    listed = _run([pg_restore, "--list", str(copy)], dict(os.environ))
    if listed.returncode != 0:
        raise ClinicDeskError(f"{named} cannot be read by pg_restore ({_said(listed)}); {nothing}.")
    tables: dict[str, set[str]] = {}
    for line in listed.stdout.decode(errors="replace").splitlines():
        found = re.match(r"\d+; \d+ \d+ TABLE (\S+) (\S+) ", line)
        if found:
            tables.setdefault(found[1], set()).add(found[2])
    holding = [s for s, names in tables.items() if names >= REQUIRED]
    if not holding:
        raise ClinicDeskError(
            f"{named} is a pg_dump archive but not of a sync server (it lacks the server's "
            f"tables); {nothing}."
        )
    if schema not in holding:
        raise ClinicDeskError(
            f"{named} holds a sync server's tables in the schema {holding[0]}, but this "
            f"server keeps them in {schema}; {nothing}."
        )
    versions = _pg_rows(pg_restore, copy, named, nothing, schema, VERSION_TABLE)
    meta = _pg_rows(pg_restore, copy, named, nothing, schema, "server_meta")
    epoch = [row[1] for row in meta if row[0] == EPOCH_KEY]
    if not epoch:
        raise ClinicDeskError(
            f"{named} is a pg_dump archive but not of a set-up sync server (it has no epoch); "
            f"{nothing}."
        )
    _check_revision(versions[0][0] if versions else None, named, nothing)


def _pg_rows(
    pg_restore: str, copy: Path, named: Path, nothing: str, schema: str, table: str
) -> list[list[str]]:
    """The rows of one small table in the archive, as text."""
    done = _run(
        [
            *(pg_restore, "--data-only", "--file=-"),
            *(f"--schema={schema}", f"--table={table}", str(copy)),
        ],
        dict(os.environ),
    )
    if done.returncode != 0:
        raise ClinicDeskError(f"{named} cannot be read by pg_restore ({_said(done)}); {nothing}.")
    rows: list[list[str]] = []
    copying = False
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("COPY "):
            copying = True
        elif line == "\\.":
            copying = False
        elif copying:
            rows.append(line.split("\t"))
    return rows


def _pg_restore(url: str, src: Path, schema: str) -> None:
    pg_restore = _pg_tool("pg_restore")
    address, env = _libpq(url)
    done = _run(
        [
            *(pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction"),
            f"--schema={schema}",  # never anything beyond the server's own schema
            *("--dbname", address, str(src)),
        ],
        env,
    )
    if done.returncode != 0:  # one transaction: none of it was applied
        raise ClinicDeskError(
            f"pg_restore could not restore {src}: {_said(done)}; nothing was changed."
        )

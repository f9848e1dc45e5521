"""The server's database engine: a SQLite file (WAL) by default, or PostgreSQL by URL.

Writes that must be serialized ask for a write connection (``write_engine``): on SQLite it
begins with ``BEGIN IMMEDIATE``, taking the database's write lock before the first read; on
PostgreSQL the store locks the clinic's row (``SELECT ... FOR UPDATE``) instead.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from clinicdesk.sync.protocol import BadRequest

SQLITE_FILE = "server.db"
WRITE = "clinicdesk_write"
BUSY_TIMEOUT_S = 30


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


def normalized_url(url: str) -> str:
    """``postgresql://`` (as a person writes it) means the psycopg driver, the one installed."""
    try:
        parsed = make_url(url)
    except Exception:
        raise BadRequest(f"The database address {url!r} cannot be read.") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise BadRequest("The sync server keeps its data in SQLite or PostgreSQL only.")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalized_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
            pool_size=10,
            max_overflow=20,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def write_engine(engine: Engine) -> Engine:
    """The same engine, whose transactions take SQLite's write lock as they begin."""
    return engine.execution_options(**{WRITE: True})


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # an answered push is on disk: a power cut cannot take back what a desk was told is stored
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

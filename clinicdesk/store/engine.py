"""The SQLCipher engine: raw 32-byte key, WAL, foreign keys, busy timeout, pooled connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlcipher3
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 10_000
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous=FULL",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",  # 64 MiB of decrypted pages: search walks indexes at random
    "PRAGMA cipher_memory_security=ON",  # wipe and lock key and page memory (plain SQLite: no-op)
)


def sqlcipher_url(path: Path, key: bytes) -> URL:
    """The key goes in as a raw key (``x'…'``), so SQLCipher skips its own password KDF."""
    return URL.create("sqlite+pysqlcipher", password=f"x'{key.hex()}'", database=str(path))


def make_engine(path: Path, key: bytes | None, *, pool_size: int = 4) -> Engine:
    """An engine on ``path``; with ``key=None`` a plain SQLite engine (benchmarks' baseline).

    A queue pool: each thread checks a connection out for a unit of work and gives it back, so
    no connection is ever used by two threads at once, however many threads there are (a
    per-thread pool would close another thread's connection once it has more threads than its
    size). Connections stay open, with their page caches warm.
    """
    url = f"sqlite:///{path}" if key is None else sqlcipher_url(path, key)
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=8,
        connect_args={"check_same_thread": False},  # safe: the pool hands a connection out once
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself, see _begin
        cursor = dbapi_conn.cursor()
        cursor.execute("SELECT count(*) FROM sqlite_master")  # fails here on a wrong key
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        mode = conn.get_execution_options().get("begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


DatabaseErrors = (sqlcipher3.DatabaseError, sqlite3.DatabaseError)

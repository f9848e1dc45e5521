"""Fixtures of the sync server's tests: its database on SQLite and on PostgreSQL, a store on it,
and the real server in a process of its own, speaking HTTPS on loopback.

PostgreSQL is the server at CLINICDESK_TEST_PG_URL (for example
postgresql://postgres@127.0.0.1:5432/test); each test session makes databases of its own there
and drops them after. Without it, or with it unreachable, those tests are skipped, saying why.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from clinicdesk.sync.server.database import sqlite_url
from clinicdesk.sync.server.store import ServerStore

PG_ENV = "CLINICDESK_TEST_PG_URL"
BACKENDS = ["sqlite", "postgresql"]


def libpq_url(url: str) -> str:
    """The URL as libpq tools take it (psql, pg_dump, psycopg.connect): no SQLAlchemy driver."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (its URL), dropped at the end."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set, so there is no PostgreSQL server to test on")
    try:
        admin = psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL at {PG_ENV}={url} cannot be reached: {error}".strip())
    name = f"clinicdesk_sync_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield libpq_url(make_url(url).set(database=name).render_as_string(hide_password=False))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def pg_schemas(pg_database: str) -> Iterator[Callable[[], str]]:
    """Makes empty schemas in the session's database, each a database of its own to the server
    (the URL sets its search_path): cheaper than a database per test."""
    admin = psycopg.connect(pg_database, autocommit=True)

    def make() -> str:
        name = f"s_{secrets.token_hex(6)}"
        admin.execute(f'CREATE SCHEMA "{name}"')
        url = make_url(pg_database)
        return url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )

    yield make
    admin.close()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path: Path) -> str:
    """An empty database of each kind the server runs on."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("pg_schemas")()


@pytest.fixture
def store(db_url: str) -> Iterator[ServerStore]:
    server_store = ServerStore(db_url)
    server_store.init()
    yield server_store
    server_store.close()

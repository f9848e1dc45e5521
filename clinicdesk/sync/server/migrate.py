"""The server's schema migrations (``migrations/server/``), applied by ``init`` and ``run``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from clinicdesk.sync.server.database import make_engine, write_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations" / "server"
# several server processes may start at once on one PostgreSQL database: one migrates at a time
_PG_LOCK = 0x5C_D0_5E_4E


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(target: str | Engine) -> bool:
    """Bring the database at ``target`` (a URL or an engine) to head; whether anything was
    applied. All of it applies, or none (one transaction, on SQLite and PostgreSQL alike)."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with write_engine(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            if MigrationContext.configure(conn).get_current_revision() == head_revision():
                return False
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            return True
    finally:
        if isinstance(target, str):
            engine.dispose()

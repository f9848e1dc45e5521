"""Alembic migrations, applied automatically on open after an automatic backup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from clinicdesk.store.database import Store, translate_db_errors

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(store: Store) -> str | None:
    with translate_db_errors(store.folder), store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store, backup: Callable[[str], object] | None = None) -> bool:
    """Bring the schema to head; back up first when there is data to protect.

    Returns whether anything was applied.
    """
    current = current_revision(store)
    if current == head_revision():
        return False
    if current is not None and backup is not None:
        backup(current)
    cfg = alembic_config()
    with translate_db_errors(store.folder), store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True

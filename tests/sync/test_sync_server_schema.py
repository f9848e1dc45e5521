"""The sync server's models and its migrations agree, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from clinicdesk.sync.server import migrate
from clinicdesk.sync.server.database import make_engine
from clinicdesk.sync.server.models import ServerBase


def test_a_fresh_database_migrated_to_head_matches_the_models(db_url: str):
    engine = make_engine(db_url)
    try:
        assert migrate.current_revision(engine) is None
        assert migrate.upgrade(engine) is True
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), ServerBase.metadata) == []
        assert set(inspect(engine).get_table_names()) >= {
            "server_meta",
            "operator_tokens",
            "clinics",
            "devices",
            "changes",
            "change_parts",
        }
        # a second start at head applies nothing
        assert migrate.upgrade(engine) is False
    finally:
        engine.dispose()

"""Alembic environment of the sync server: run on the connection handed in by
clinicdesk.sync.server.migrate (SQLite or PostgreSQL)."""

from alembic import context

from clinicdesk.sync.server.models import ServerBase

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=ServerBase.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

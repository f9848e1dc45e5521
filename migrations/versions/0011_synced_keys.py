"""synced keys: key slots, key changes and the clinic's signing keys reach every desk.

Key slots (``key_slots``) and key changes (``key_generations``) are new synced tables, filled
from the key file at the next sign-in. Signing keys become synced rows (the key id is the
row's id); the keys already here are queued for the sync server, so a desk that joins later
learns them too (a desk that has them already takes them as its own).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinicdesk.store.types
from clinicdesk.ids import new_id, utcnow
from clinicdesk.store.outbox import payload

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_TIME = clinicdesk.store.types.UTCDateTime(timezone=True)


def _sync_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", UTC_TIME, nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "key_slots",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Text(), nullable=False),
        *_sync_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_slots")),
    )
    op.create_table(
        "key_generations",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("history", sa.Text(), nullable=False),
        sa.Column("slots", sa.Text(), nullable=False),
        *_sync_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_generations")),
        sa.UniqueConstraint("generation", name=op.f("uq_key_generations_generation")),
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("deleted_at", UTC_TIME, nullable=True))
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE signing_keys SET updated_at = created_at"))
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=UTC_TIME, nullable=False)
        batch_op.alter_column("version", existing_type=sa.Integer(), server_default=None)
    _queue_signing_keys(conn)


def _queue_signing_keys(conn) -> None:
    """An outbox row for each signing key here, as the desk's capture would have written it."""
    keys = sa.table(
        "signing_keys",
        sa.column("kid", sa.String()),
        sa.column("public_key", sa.LargeBinary()),
        sa.column("private_key", sa.LargeBinary()),
        sa.column("clinic_id", sa.String()),
        sa.column("clinic_name", sa.String()),
        sa.column("status", sa.String()),
        sa.column("own", sa.Boolean()),
        sa.column("created_at", UTC_TIME),
        sa.column("changed_at", UTC_TIME),
        sa.column("retired_on", sa.Date()),
        sa.column("updated_at", UTC_TIME),
        sa.column("version", sa.Integer()),
        sa.column("deleted_at", UTC_TIME),
    )
    outbox = sa.table(
        "outbox",
        sa.column("op_id", sa.String()),
        sa.column("entity", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("op", sa.String()),
        sa.column("row_version", sa.Integer()),
        sa.column("payload", sa.Text()),
        sa.column("created_at", UTC_TIME),
    )
    rows = [dict(r._mapping) for r in conn.execute(sa.select(keys))]
    for row in rows:
        row["id"] = row.pop("kid")  # the row's id, as the model names it
    if rows:
        conn.execute(
            outbox.insert(),
            [
                {
                    "op_id": new_id(),
                    "entity": "signing_keys",
                    "entity_id": row["id"],
                    "op": "insert",
                    "row_version": 1,
                    "payload": payload(row),
                    "created_at": utcnow(),
                }
                for row in rows
            ],
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "DELETE FROM outbox WHERE entity IN ('signing_keys', 'key_slots', 'key_generations')"
        )
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("version")
        batch_op.drop_column("updated_at")
    op.drop_table("key_generations")
    op.drop_table("key_slots")

"""sync conflicts: changes from other desks kept beside this desk's, never written over.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinicdesk.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("local_version", sa.Integer(), nullable=False),
        sa.Column("local_payload", sa.Text(), nullable=False),
        sa.Column("remote_version", sa.Integer(), nullable=False),
        sa.Column("remote_deleted", sa.Boolean(), nullable=False),
        sa.Column("remote_payload", sa.Text(), nullable=False),
        sa.Column("remote_seq", sa.Integer(), nullable=False),
        sa.Column("remote_device", sa.String(length=36), nullable=False),
        sa.Column("found_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
        sa.UniqueConstraint("remote_seq", name=op.f("uq_sync_conflicts_remote_seq")),
    )
    op.create_index("ix_sync_conflicts_entity_id", "sync_conflicts", ["entity_id"])


def downgrade() -> None:
    op.drop_index("ix_sync_conflicts_entity_id", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")

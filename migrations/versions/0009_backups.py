"""backups: the backups a clinic made, and the schedule of its daily backup.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinicdesk.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backups",
        sa.Column("made_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("made_by", sa.String(length=200), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("removed_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backups")),
    )
    op.create_index("ix_backups_made_at", "backups", ["made_at"])
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column("backup_daily", sa.Boolean(), server_default="1", nullable=False)
        )
        batch.add_column(
            sa.Column("backup_at_minute", sa.Integer(), server_default="1140", nullable=False)
        )
        batch.add_column(sa.Column("backup_folder", sa.Text(), server_default="", nullable=False))
        batch.add_column(
            sa.Column("backup_keep_days", sa.Integer(), server_default="30", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        for column in ("backup_keep_days", "backup_folder", "backup_at_minute", "backup_daily"):
            batch.drop_column(column)
    op.drop_index("ix_backups_made_at", table_name="backups")
    op.drop_table("backups")

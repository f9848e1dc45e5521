"""large payloads sent in parts: the parts, and a change's reference to them

Revision ID: 0003_change_parts
Revises: s0004
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from clinicdesk.store.types import UTCDateTime

revision = "0003_change_parts"
down_revision = "s0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_parts",
        sa.Column("clinic_id", sa.String(length=64), nullable=False),
        sa.Column("blob", sa.String(length=64), nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_change_parts_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("clinic_id", "blob", "index", name=op.f("pk_change_parts")),
    )
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("parts_blob", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("parts_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("parts_size", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("parts_size")
        batch.drop_column("parts_count")
        batch.drop_column("parts_blob")
    op.drop_table("change_parts")

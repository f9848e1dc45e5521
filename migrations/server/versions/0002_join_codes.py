"""join codes: a further desk of a clinic joins with a one-time code

Revision ID: 0002_join_codes
Revises: 0003_change_parts
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from clinicdesk.store.types import UTCDateTime

revision = "0002_join_codes"
down_revision = "0003_change_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "join_codes",
        sa.Column("lookup_hash", sa.String(length=64), nullable=False),
        sa.Column("clinic_id", sa.String(length=64), nullable=False),
        sa.Column("made_by", sa.String(length=36), nullable=False),
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_join_codes_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["made_by"], ["devices.id"], name=op.f("fk_join_codes_made_by_devices")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_join_codes_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("lookup_hash", name=op.f("pk_join_codes")),
    )
    op.create_index(op.f("ix_join_codes_clinic_id"), "join_codes", ["clinic_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_join_codes_clinic_id"), table_name="join_codes")
    op.drop_table("join_codes")

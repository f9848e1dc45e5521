"""job runs: each period's run of a background job is claimed once, whichever desk runs it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import clinicdesk.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column(
            "period_start", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("desk", sa.String(length=64), nullable=False),
        sa.Column("ran_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "period_start", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")

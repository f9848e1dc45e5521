"""retired keys: a retired key carries its retirement date (it is trusted for the longest
validity a prescription can have after it), and a key out of use keeps no private half.

Existing retired keys take the date they were retired here (or, failing that, first known);
the private halves of retired and revoked keys are cleared.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE signing_keys SET retired_on = date(coalesce(changed_at, created_at)) "
            "WHERE status = 'retired'"
        )
    )
    conn.execute(sa.text("UPDATE signing_keys SET private_key = NULL WHERE status != 'active'"))


def downgrade() -> None:
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_column("retired_on")

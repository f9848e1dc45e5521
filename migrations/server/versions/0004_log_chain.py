"""a hash chain over each clinic's change log, so its order can be verified

Revision ID: s0004
Revises: s0001
Create Date: 2026-12-08

Each change gets the SHA-256 digest of its payload and its link in the clinic's chain; each
clinic the link of its last change. Logs kept before are chained here, in their order.
"""

import sqlalchemy as sa
from alembic import op

from clinicdesk.sync import chain

revision = "s0004"
down_revision = "s0001"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    # added NOT NULL with an empty default, which SQLite allows without rebuilding the tables
    # (a rebuild of ``clinics`` would break its devices' foreign keys); filled in just below
    for table, column in (("clinics", "head_link"), ("changes", "digest"), ("changes", "link")):
        op.add_column(table, sa.Column(column, sa.String(64), nullable=False, server_default=""))
    _chain_the_logs_kept()
    if op.get_bind().dialect.name == "postgresql":  # every row is appended with its own
        for table, column in (("clinics", "head_link"), ("changes", "digest"), ("changes", "link")):
            op.alter_column(table, column, server_default=None)


def _chain_the_logs_kept() -> None:
    conn = op.get_bind()
    clinics = sa.table("clinics", sa.column("id"), sa.column("head_link"))
    changes = sa.table(
        "changes",
        *(
            sa.column(name)
            for name in (
                "clinic_id",
                "seq",
                "op_id",
                "device_id",
                "entity",
                "entity_id",
                "version",
                "deleted",
                "key_gen",
                "payload",
                "digest",
                "link",
            )
        ),
    )
    for (clinic_id,) in conn.execute(sa.select(clinics.c.id)).all():
        last, after = chain.genesis(clinic_id), 0
        while True:
            rows = conn.execute(
                sa.select(changes)
                .where(changes.c.clinic_id == clinic_id, changes.c.seq > after)
                .order_by(changes.c.seq)
                .limit(BATCH)
            ).all()
            for r in rows:
                payload_digest = chain.digest(bytes(r.payload))
                last = chain.row_link(last, r, payload_digest)
                conn.execute(
                    sa.update(changes)
                    .where(changes.c.clinic_id == clinic_id, changes.c.seq == r.seq)
                    .values(digest=payload_digest, link=last)
                )
            if len(rows) < BATCH:
                break
            after = rows[-1].seq
        conn.execute(sa.update(clinics).where(clinics.c.id == clinic_id).values(head_link=last))


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("link")
        batch.drop_column("digest")
    op.drop_column("clinics", "head_link")

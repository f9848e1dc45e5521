"""issuer ledger: the pharmacy's ledger, dispenses and scan history keyed by the issuing clinic
and the prescription id; signing keys carry their clinic's id; digests of verified content;
the clock guard's times kept per desk.

Existing rows are kept. A prescription id of this clinic's own prescriptions is this clinic's;
another's is the clinic of the key that signed it, as the scan's audit entry recorded it, or
failing that the one trusted clinic of the name the dispense recorded.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import json

import sqlalchemy as sa
from alembic import op

import clinicdesk.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_CLOCK_KEYS = ("rx_latest_time", "rx_latest_issued_seen")  # one for all desks: now per desk


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clinic_id", sa.String(length=36), nullable=True))
    own_id = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'clinic_id'")).scalar()
    conn.execute(sa.text("UPDATE signing_keys SET clinic_id = :id WHERE own"), {"id": own_id or ""})
    conn.execute(sa.text("UPDATE signing_keys SET clinic_id = kid WHERE NOT own"))
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.alter_column("clinic_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_index(batch_op.f("ix_signing_keys_clinic_id"), ["clinic_id"], unique=False)

    for table in ("dispense_balances", "pharmacy_events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("issuer", sa.String(length=36), nullable=True))
    # dispense lines and stock movements refer to dispenses: that table is altered in place
    # (SQLite cannot drop a table others refer to while foreign keys are enforced)
    op.add_column(
        "dispenses",
        sa.Column("issuer", sa.String(length=36), nullable=False, server_default=""),
    )
    for pid, issuer in _issuers(conn, own_id or "").items():
        for table in ("dispense_balances", "dispenses", "pharmacy_events"):
            conn.execute(
                sa.text(f"UPDATE {table} SET issuer = :issuer WHERE prescription_id = :pid"),
                {"issuer": issuer, "pid": pid},
            )

    with op.batch_alter_table("dispense_balances", schema=None) as batch_op:
        batch_op.alter_column("issuer", existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_constraint("uq_dispense_balances_prescription_id_line", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_dispense_balances_issuer_prescription_id_line"),
            ["issuer", "prescription_id", "line"],
        )
    op.drop_index("ix_dispenses_prescription_id", table_name="dispenses")
    op.create_index("ix_dispenses_issuer_prescription", "dispenses", ["issuer", "prescription_id"])
    with op.batch_alter_table("pharmacy_events", schema=None) as batch_op:
        batch_op.drop_index("ix_pharmacy_events_prescription_id")
        batch_op.create_index(
            "ix_pharmacy_events_issuer_prescription", ["issuer", "prescription_id"], unique=False
        )

    op.create_table(
        "signed_prescriptions",
        sa.Column("issuer", sa.String(length=36), nullable=False),
        sa.Column("prescription_id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", clinicdesk.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_prescriptions")),
        sa.UniqueConstraint(
            "issuer", "prescription_id", name=op.f("uq_signed_prescriptions_issuer_prescription_id")
        ),
    )
    conn.execute(
        sa.text("DELETE FROM meta WHERE key IN :keys").bindparams(
            sa.bindparam("keys", expanding=True)
        ),
        {"keys": list(OLD_CLOCK_KEYS)},
    )


def _issuers(conn, own_id: str) -> dict[str, str]:
    """The issuer of each prescription id the pharmacy's tables hold."""
    own = {r[0] for r in conn.execute(sa.text("SELECT id FROM prescriptions"))}
    key_clinic = dict(conn.execute(sa.text("SELECT kid, clinic_id FROM signing_keys")).all())
    scanned_with: dict[str, str] = {}
    for pid, detail in conn.execute(
        sa.text(
            "SELECT entity_id, detail FROM audit_log WHERE action = 'prescription.scan' "
            "ORDER BY seq"
        )
    ):
        kid = json.loads(detail or "{}").get("kid")
        if pid and kid in key_clinic:
            scanned_with[pid] = key_clinic[kid]
    by_name: dict[str, set[str]] = {}
    for name, clinic_id in conn.execute(
        sa.text("SELECT clinic_name, clinic_id FROM signing_keys WHERE NOT own")
    ):
        by_name.setdefault(name, set()).add(clinic_id)
    named = dict(
        conn.execute(sa.text("SELECT prescription_id, issuing_clinic FROM dispenses")).all()
    )
    pids = {
        r[0]
        for table in ("dispense_balances", "dispenses", "pharmacy_events")
        for r in conn.execute(
            sa.text(
                f"SELECT DISTINCT prescription_id FROM {table} WHERE prescription_id IS NOT NULL"
            )
        )
    }
    issuers = {}
    for pid in pids:
        if pid in own:
            issuers[pid] = own_id
        elif pid in scanned_with:
            issuers[pid] = scanned_with[pid]
        elif len(by_name.get(named.get(pid, ""), ())) == 1:
            issuers[pid] = next(iter(by_name[named[pid]]))
        else:
            issuers[pid] = ""  # nothing tells whose it was
    return issuers


def downgrade() -> None:
    op.drop_table("signed_prescriptions")
    with op.batch_alter_table("pharmacy_events", schema=None) as batch_op:
        batch_op.drop_index("ix_pharmacy_events_issuer_prescription")
        batch_op.create_index(
            batch_op.f("ix_pharmacy_events_prescription_id"), ["prescription_id"], unique=False
        )
        batch_op.drop_column("issuer")
    op.drop_index("ix_dispenses_issuer_prescription", table_name="dispenses")
    op.create_index("ix_dispenses_prescription_id", "dispenses", ["prescription_id"])
    op.execute("ALTER TABLE dispenses DROP COLUMN issuer")  # in place, as in upgrade
    with op.batch_alter_table("dispense_balances", schema=None) as batch_op:
        batch_op.drop_constraint("uq_dispense_balances_issuer_prescription_id_line", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_dispense_balances_prescription_id_line"), ["prescription_id", "line"]
        )
        batch_op.drop_column("issuer")
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_keys_clinic_id"))
        batch_op.drop_column("clinic_id")

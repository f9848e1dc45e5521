"""The models and the Alembic migrations agree, and a clinic behind head is backed up first."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlcipher3
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from clinicdesk.errors import StoreError
from clinicdesk.services.access import sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.store import backup, migrate
from clinicdesk.store.database import DB_FILE, connect
from clinicdesk.store.keyslots import new_database_key
from clinicdesk.store.models import Base
from tests.conftest import ADMIN_PASSWORD

PROBE_TABLE = "migration_probe"

SECOND_REVISION = '''"""a second revision, for tests only

Revision ID: 0002test
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = "0002test"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {body}


def downgrade() -> None:
    pass
'''


def _diff(store) -> list:
    with store.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_fresh_database_migrated_to_head_matches_the_models(tmp_path: Path):
    store = connect(tmp_path, new_database_key(), must_exist=False)
    try:
        assert migrate.current_revision(store) is None
        assert migrate.upgrade(store) is True
        assert migrate.current_revision(store) == migrate.head_revision()
        assert _diff(store) == []
        # A second open at head applies nothing.
        assert migrate.upgrade(store) is False
    finally:
        store.close()


def test_clinic_created_by_setup_matches_the_models(admin):
    assert migrate.current_revision(admin.store) == migrate.head_revision()
    assert _diff(admin.store) == []


def _migrations_with_second_revision(tmp_path: Path, body: str) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    down = migrate.head_revision()
    (copy / "versions" / "0002_test_probe.py").write_text(
        SECOND_REVISION.format(down=down, body=body)
    )
    return copy


def _tables(path: Path, key: bytes) -> set[str]:
    conn = sqlcipher3.connect(str(path))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def test_opening_a_clinic_behind_head_backs_it_up_before_migrating(
    clinic_dir, tmp_path: Path, monkeypatch
):
    folder, _ = clinic_dir
    first_head = migrate.head_revision()
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    patient = session.patients.register(
        session.actor, PatientInput("Maren", "Lindqvist", date(1979, 6, 2), "female")
    )
    key = session._db_key
    session.close()
    assert not (folder / "backups").exists()

    migrations = _migrations_with_second_revision(
        tmp_path, f'op.create_table("{PROBE_TABLE}", sa.Column("id", sa.Integer, primary_key=True))'
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    assert migrate.head_revision() == "0002test"

    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        assert migrate.current_revision(session.store) == "0002test"
        assert session.patients.get(session.actor, patient.id).mrn == patient.mrn
        assert session.audit.verify(session.actor).intact
    finally:
        session.close()

    (auto,) = (folder / "backups").glob(f"before-migration-from-{first_head}-*.cdbak")
    manifest = backup.read_manifest(auto)
    assert manifest["clinic_id"] == clinic_dir[1].clinic_id
    # The backup holds the schema as it was before the migration, and it is a complete, valid one.
    staged = tmp_path / "staged"
    backup.extract(auto, staged)
    backup.check_database(staged / DB_FILE, key)
    tables = _tables(staged / DB_FILE, key)
    assert "patients" in tables and PROBE_TABLE not in tables
    assert PROBE_TABLE in _tables(folder / DB_FILE, key)
    with zipfile.ZipFile(auto) as zf:
        assert set(zf.namelist()) == {"manifest.json", DB_FILE, "keyslots.json"}

    # Opening again at the new head takes no further backup.
    sign_in(folder, "admin", ADMIN_PASSWORD).close()
    assert len(list((folder / "backups").glob("*.cdbak"))) == 1


def test_a_failing_migration_leaves_the_clinic_as_it_was(clinic_dir, tmp_path: Path, monkeypatch):
    folder, _ = clinic_dir
    first_head = migrate.head_revision()
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    session.patients.register(
        session.actor, PatientInput("Maren", "Lindqvist", date(1979, 6, 2), "female")
    )
    session.close()

    migrations = _migrations_with_second_revision(
        tmp_path,
        f'op.create_table("{PROBE_TABLE}", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    raise RuntimeError("migration step failed")',
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    with pytest.raises(StoreError, match="left as it was"):
        sign_in(folder, "admin", ADMIN_PASSWORD)
    assert list((folder / "backups").glob(f"before-migration-from-{first_head}-*.cdbak"))

    monkeypatch.undo()
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        assert migrate.current_revision(session.store) == first_head
        assert _diff(session.store) == []
        assert session.patients.count(session.actor) == 1
        assert session.audit.verify(session.actor).intact
    finally:
        session.close()

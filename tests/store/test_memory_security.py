"""SQLCipher wipes and locks the memory that holds keys and decrypted pages, so a swap file
or a crash dump of a desk does not keep the clinic's key or its patients' pages."""

from __future__ import annotations

from sqlalchemy import text

from clinicdesk.services.access import ClinicSession


def test_the_clinics_database_runs_with_sqlcipher_memory_security(admin: ClinicSession):
    with admin.store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA cipher_memory_security")).scalar() == "1"

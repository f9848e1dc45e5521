"""Importing another clinic's trust file as an admin does it: read it, confirm, import."""

from __future__ import annotations

from pathlib import Path

from clinicdesk.services.access import ClinicSession
from clinicdesk.services.signing import KeyView


def import_trust(session: ClinicSession, path: Path) -> list[KeyView]:
    trust = session.signing_keys.read_trust_file(session.actor, path)
    return session.signing_keys.import_trust_file(session.actor, trust)

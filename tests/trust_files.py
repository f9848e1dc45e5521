"""Importing another clinic's trust file as an admin does it: read it, confirm, import."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from clinicdesk.rx.keys import new_key_pair
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.signing import KeyView


def import_trust(session: ClinicSession, path: Path) -> list[KeyView]:
    trust = session.signing_keys.read_trust_file(session.actor, path)
    return session.signing_keys.import_trust_file(session.actor, trust)


ELM_ID = "0190c2a4-e1m0-7000-8000-00000000e1m0"


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def good_key() -> dict[str, str]:
    pair = new_key_pair()
    return {
        "kid": pair.kid.hex(),
        "public_key": base64.b64encode(pair.public).decode(),
        "status": "active",
    }


def trust(*keys: dict[str, str], **fields: object) -> dict[str, object]:
    return (
        {"format": "clinicdesk-trust", "version": 1, "clinic_name": "Elm Clinic"}
        | {"clinic_id": ELM_ID}
        | {"keys": list(keys)}
        | fields
    )

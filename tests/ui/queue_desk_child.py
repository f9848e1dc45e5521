"""Another reception desk, as its own OS process, for test_screens_follow_changes.py (not a test
module).

Usage: ``python queue_desk_child.py CLINIC_FOLDER`` with the admin's password in
CLINICDESK_TEST_PASSWORD. Prints ``{"ready": true}``, then reads one JSON command a line:
``{"op": "walk_in", "given": ..., "family": ...}``, ``{"op": "call_next", "doctor": ID}`` or
``{"op": "quit"}``, and answers ``{"token": N}``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from clinicdesk.services.access import sign_in
from tests.clinical.clinic_setup import register


def main() -> None:
    session = sign_in(Path(sys.argv[1]), "admin", os.environ["CLINICDESK_TEST_PASSWORD"])
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    try:
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            if cmd["op"] == "walk_in":
                patient = register(session, cmd["given"], cmd["family"])
                entry = session.queue.add_walk_in(session.actor, patient)
            else:
                entry = session.queue.call_next(session.actor, cmd["doctor"])
            sys.stdout.write(json.dumps({"token": entry.token}) + "\n")
            sys.stdout.flush()
    finally:
        session.close()


if __name__ == "__main__":
    main()

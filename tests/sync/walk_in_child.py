"""Reception at desk A, as its own OS process, for test_walk_in_reaches_doctor.py (not a test
module).

Usage: ``python walk_in_child.py FOLDER`` with the receptionist's name and password in
CLINICDESK_TEST_USER and CLINICDESK_TEST_PASSWORD. It signs in on the desk's data folder, starts
the desk's sync as the app does at sign-in, and once the server has answered says
``{"ready": true}`` (or ``{"ready": false, "status": ...}`` when it did not within
``CONNECT_WITHIN`` seconds). Then it reads one JSON command a line:

    {"op": "walk_in", "patient": ID, "doctor": ID}
        queues the patient for the doctor through the front desk's service; answers
        {"token": N, "committed": T}, T being time.monotonic() just after the commit (the
        clock every process of the machine shares, on Linux)
    {"op": "quit"}
        signs out (sync stops with the session) and ends

Anything else, or the end of its input, ends it too.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from clinicdesk.services.access import sign_in

CONNECT_WITHIN = 30.0  # seconds


def say(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def main() -> None:
    user, password = os.environ["CLINICDESK_TEST_USER"], os.environ["CLINICDESK_TEST_PASSWORD"]
    session = sign_in(Path(sys.argv[1]), user, password)
    try:
        session.start_sync()
        deadline = time.monotonic() + CONNECT_WITHIN
        while not session.sync.status(session.actor).connected and time.monotonic() < deadline:
            time.sleep(0.05)
        status = session.sync.status(session.actor)
        say({"ready": status.connected, "status": status.text()})
        for line in sys.stdin:
            command = json.loads(line)
            if command.get("op") != "walk_in":
                break
            entry = session.queue.add_walk_in(
                session.actor, command["patient"], doctor_id=command["doctor"]
            )
            say({"token": entry.token, "committed": time.monotonic()})
    finally:
        session.close()


if __name__ == "__main__":
    main()

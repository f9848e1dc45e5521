"""A desk running the clinic's jobs, as its own OS process, for test_jobs.py (not a test module).

Usage: ``python jobs_child.py CLINIC_FOLDER`` with the admin's password in CLINICDESK_TEST_PASSWORD.
Prints ``{"ready": true}``, then reads ``{"op": "run", "job": NAME, "at": ISO, "go": EPOCH}``
(run the job once as of ``at``, starting at the moment ``go``) or ``{"op": "quit"}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from clinicdesk.jobs import CLINIC_JOBS, JobRunner
from clinicdesk.services.access import sign_in


def say(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def main() -> None:
    session = sign_in(Path(sys.argv[1]), "admin", os.environ["CLINICDESK_TEST_PASSWORD"])
    say({"ready": True})
    try:
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            at = datetime.fromisoformat(cmd["at"])
            runner = JobRunner(session.store, CLINIC_JOBS, clock=lambda at=at: at)
            while time.time() < cmd["go"]:  # spin, so both desks start together
                pass
            did = runner.run(cmd["job"])
            say({"did": did, "failures": [f.message for f in runner.failures()]})
    finally:
        session.close()


if __name__ == "__main__":
    main()

"""Another desk, as its own process with its own state folder: sign in, perhaps verify, sign out.

Usage: python -m tests.store.audit_desk_child FOLDER verify|visit (the admin's password on stdin)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clinicdesk.services.access import sign_in


def main() -> None:
    folder, command = Path(sys.argv[1]), sys.argv[2]
    session = sign_in(folder, "admin", sys.stdin.readline().rstrip("\n"))
    try:
        if command == "verify":
            report = session.audit.verify(session.actor)
            print(json.dumps({"problems": report.problems, "notes": report.notes}))
    finally:
        session.close()


if __name__ == "__main__":
    main()

"""A workstation as its own OS process, driven by JSON lines on stdin (see desks.py).

Each command is one call on this desk's session; the answer is ``{"ok": ...}`` or
``{"error": <class>, "message": ...}``. ``crash`` makes the next key change stop dead
(``os._exit``) at the point named, as a power cut would.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

from clinicdesk.permissions import Role
from clinicdesk.services.access import sign_in
from clinicdesk.services.patients import PatientInput


def _crash_at(point: str) -> None:
    from clinicdesk.store import rekey

    real = rekey.rekey_database

    def before(path, old, new):
        os._exit(0)

    def after(path, old, new):
        real(path, old, new)
        os._exit(0)

    rekey.rekey_database = before if point == "before-reencrypting" else after


def main(folder: Path) -> None:
    session = None
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        try:
            if op == "quit":
                break
            if op == "sign_in":
                session = sign_in(folder, cmd["user"], cmd["password"])
                result = session.actor.user_id
            elif op == "create":
                roles = {Role(r) for r in cmd.get("roles", ["receptionist"])}
                result = session.users.create(
                    session.actor,
                    cmd["username"],
                    cmd["username"].title(),
                    roles,
                    cmd["password"],
                    must_change_password=cmd.get("pending", False),
                ).id
            elif op == "remove":
                (user,) = [
                    u for u in session.users.list(session.actor) if u.username == cmd["username"]
                ]
                session.users.deactivate(session.actor, user.id)
                result = user.id
            elif op == "change_password":
                session.change_password(cmd["old"], cmd["new"])
                result = True
            elif op == "change_key":
                result = session.users.change_clinic_key(session.actor).generation
            elif op == "crash":
                _crash_at(cmd["point"])
                result = True
            elif op == "register":
                result = session.patients.register(
                    session.actor, PatientInput(cmd["name"], "Desk", date(1990, 1, 2), "female")
                ).id
            elif op == "count":
                result = session.patients.count(session.actor)
            else:
                raise ValueError(op)
            answer = {"ok": result}
        except Exception as exc:  # reported to the test, which decides
            answer = {"error": type(exc).__name__, "message": str(exc)}
        print(json.dumps(answer), flush=True)
    if session is not None:
        session.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))

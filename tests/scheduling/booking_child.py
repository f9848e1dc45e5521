"""A second desk, as its own OS process, for test_concurrent_booking.py (not a test module).

Usage: ``python booking_child.py CLINIC_FOLDER`` with the admin's password in the environment
variable CLINICDESK_TEST_PASSWORD. It signs in like a workstation, prints ``{"ready": ...}``,
then reads one JSON command a line from stdin and prints one JSON answer a line:

    {"op": "book", "patient": ID, "doctor": ID, "service": ID, "at": ISO, "go": EPOCH,
     "hold": ID or null, "clock_minutes": N}
    {"op": "hold", "doctor": ID, "service": ID, "at": ISO, "minutes": N, "go": EPOCH}
    {"op": "release", "hold": ID}
    {"op": "free", "doctor": ID, "service": ID, "day": ISO date}
    {"op": "quit"}

``go`` is a time.time() to spin until before acting, so two desks act at the same moment;
``clock_minutes`` moves this desk's service clock ahead (to let a hold lapse without waiting).
An answer is ``{"ok": true, ...}``, or ``{"ok": false, "error": class name, "message": ...}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from datetime import date, datetime, timedelta
from pathlib import Path

from clinicdesk.ids import utcnow
from clinicdesk.services.access import sign_in
from clinicdesk.services.appointments import SlotUnavailable


def say(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def wait_until(go: float | None) -> None:
    if go is None:
        return
    while time.time() < go:  # spin: a sleep would wake up a scheduler tick late
        pass


def run(session, cmd: dict) -> dict:
    apps, actor = session.appointments, session.actor
    op = cmd["op"]
    if op == "book":
        view = apps.book(
            actor,
            cmd["patient"],
            cmd["doctor"],
            cmd["service"],
            datetime.fromisoformat(cmd["at"]),
            hold_id=cmd.get("hold"),
        )
        return {"appointment": view.id, "at": view.starts_at.isoformat()}
    if op == "hold":
        hold = apps.hold(
            actor,
            cmd["doctor"],
            cmd["service"],
            datetime.fromisoformat(cmd["at"]),
            minutes=cmd.get("minutes", 5),
        )
        return {"hold": hold.id, "expires": hold.expires_at.isoformat()}
    if op == "release":
        apps.release(actor, cmd["hold"])
        return {}
    if op == "free":
        slots = apps.free_slots(
            actor, cmd["doctor"], cmd["service"], date.fromisoformat(cmd["day"])
        )
        return {"slots": [s.isoformat() for s in slots]}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    session = sign_in(Path(sys.argv[1]), "admin", os.environ["CLINICDESK_TEST_PASSWORD"])
    say({"ready": True, "pid": os.getpid()})
    try:
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            skew = timedelta(minutes=cmd.get("clock_minutes", 0))
            session.appointments.clock = lambda skew=skew: utcnow() + skew
            wait_until(cmd.get("go"))
            try:
                say({"ok": True, **run(session, cmd)})
            except SlotUnavailable as exc:
                say({"ok": False, "error": "SlotUnavailable", "message": str(exc)})
            except Exception as exc:  # reported to the test, which fails on anything else
                say(
                    {
                        "ok": False,
                        "error": type(exc).__name__,
                        "message": str(exc),
                        "trace": traceback.format_exc(),
                    }
                )
    finally:
        session.close()


if __name__ == "__main__":
    main()

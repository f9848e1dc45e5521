"""A desk that keeps saving: run by test_killed_writer, which kills it with SIGKILL mid-write.

Usage: python writer_child.py FOLDER PASSWORD ROUND. Prints ``ready`` once signed in, then after
each committed change ``R <mrn>`` (registered) or ``U <mrn> <version>`` (edited), flushed at once.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from clinicdesk.services.access import sign_in
from clinicdesk.services.patients import PatientInput


def main() -> None:
    folder, password, round_no = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    session = sign_in(folder, "admin", password)
    print("ready", flush=True)
    n = 0
    last = None
    while True:
        n += 1
        if last is not None and n % 3 == 0:
            data = PatientInput(**{**last.as_input().__dict__, "address": f"Flat {n}, Mill Lane"})
            last = session.patients.update(session.actor, last.id, data, last.version)
            print(f"U {last.mrn} {last.version}", flush=True)
            continue
        data = PatientInput(
            f"Given{round_no}x{n}",
            f"Family{n % 97}",
            date(1930 + n % 90, 1 + n % 12, 1 + n % 28),
            "female" if n % 2 else "male",
            phone=f"+44 7700 {round_no:02d}{n:04d}",
            address="12 Harbour Road " * 10,
        )
        last = session.patients.register(session.actor, data, not_a_duplicate=True)
        print(f"R {last.mrn}", flush=True)


if __name__ == "__main__":
    main()

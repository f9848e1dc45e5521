"""Desks that push their outbox, each a fresh OS process, for tests that kill them mid-push.

Usage: ``python -m tests.sync.push_child FOLDER USERNAME PASSWORD``. The process imports the
desk's code once, says ``ready``, then for each ``push`` line on its input forks a child that
opens the desk folder, signs in, and pushes everything waiting through ``desk.push``: a fresh
process each time (its own sign-in, database connection and TLS session) without paying for the
imports again. ``kill`` then kills the child with SIGKILL, ``wait`` lets it finish; either way
it is reaped only then, so the id killed is never another process's. Lines on its output, each
flushed at once:

    started PID          a child was made
    PID pushing          it signed in and starts to push
    PID pushed N         the server took N changes; it ends with status 0
    PID failed MESSAGE   the push failed; it ends with status 1
    exited PID CODE      the child ended (CODE -9: killed with SIGKILL)

Anything else (or the end of its input) ends it, and a child still running with it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from clinicdesk.services.access import sign_in
from clinicdesk.sync import desk


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def push(folder: Path, username: str, password: str) -> int:
    me = os.getpid()
    try:
        session = sign_in(folder, username, password)
        try:
            link = desk.connection(session.store)
            assert link is not None, "this desk is not connected to a sync server"
            client = link.client()
            try:
                say(f"{me} pushing")
                sent = desk.push(session.store, client, session.payload_cipher())
            finally:
                client.close()
        finally:
            session.close()
    except Exception as error:  # told to the test, which fails saying it
        say(f"{me} failed {type(error).__name__}: {error}")
        return 1
    say(f"{me} pushed {sent}")
    return 0


def main() -> None:
    folder, username, password = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    say("ready")
    child = None
    for line in sys.stdin:
        command = line.strip()
        if command == "push" and child is None:
            child = os.fork()
            if child == 0:
                os._exit(push(folder, username, password))
            say(f"started {child}")
        elif command in ("kill", "wait") and child is not None:
            # the child is not reaped before this, so its id is still its own to kill
            if command == "kill":
                os.kill(child, signal.SIGKILL)
            _, status = os.waitpid(child, 0)
            say(f"exited {child} {os.waitstatus_to_exitcode(status)}")
            child = None
        else:
            break
    if child is not None:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


if __name__ == "__main__":
    main()

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

``push POINT`` makes the child kill itself (SIGKILL) at one named point of the push (``POINTS``)
rather than be killed from outside at a random moment.

Anything else (or the end of its input) ends it, and a child still running with it.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from clinicdesk.services.access import sign_in
from clinicdesk.sync import desk
from clinicdesk.sync.client import SyncClient

# where a push can be cut by a power failure, in its order
POINTS = (
    "before-send",  # the first batch is sealed, the request not yet sent
    "in-flight",  # the request is on its way or the server is working on it
    "answered",  # the server took the batch; its answer is not yet read by the desk
    "marking",  # inside the transaction that marks the batch sent (not yet committed)
    "next-batch",  # the first batch marked sent and compacted; the second not yet sent
)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def wrap(owner: type, name: str, around: Callable) -> None:
    real = getattr(owner, name)
    setattr(owner, name, lambda *args, **kwargs: around(real, *args, **kwargs))


def arm(point: str) -> None:
    """Make this process kill itself at ``point`` of its push."""
    calls = {"push": 0}

    def push(real, *args, **kwargs):
        calls["push"] += 1
        if point == "before-send" or (point == "next-batch" and calls["push"] == 2):
            die()
        if point == "in-flight":
            threading.Thread(target=real, args=args, kwargs=kwargs, daemon=True).start()
            time.sleep(random.Random().uniform(0, 0.05))  # seeded afresh: this is a fork
            die()
        answer = real(*args, **kwargs)
        if point == "answered":
            die()
        return answer

    def compact(real, *args, **kwargs):
        if point == "marking":
            die()
        return real(*args, **kwargs)

    wrap(SyncClient, "push", push)
    wrap(desk, "_compact", compact)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def push(folder: Path, username: str, password: str, point: str = "") -> int:
    me = os.getpid()
    if point:
        arm(point)
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
        command, _, point = line.strip().partition(" ")
        if command == "push" and child is None and point in ("", *POINTS):
            child = os.fork()
            if child == 0:
                os._exit(push(folder, username, password, point))
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

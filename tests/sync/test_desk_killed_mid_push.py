"""A desk killed (SIGKILL, as a power cut does) at random moments of a push: each time a fresh
process pushes again cleanly, and the server holds every change of the outbox exactly once,
none lost and none applied twice; the other desk receives every patient once."""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from clinicdesk.services.patients import PatientInput
from clinicdesk.store.models import OutboxEntry
from clinicdesk.sync import desk
from tests.conftest import ADMIN_PASSWORD
from tests.sync.conftest import (
    DESK_BACKENDS,
    assert_in_step,
    patients_at,
    server_head,
    server_log,
)

REPO = Path(__file__).resolve().parents[2]
PER_ROUND = 20  # patients registered at the desk before each round's push


class Pushers:
    """``tests/sync/push_child.py``: a fresh process for each push, on demand."""

    def __init__(self, folder: Path, username: str, password: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.push_child", str(folder), username, password],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=REPO,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.line(60) == "ready"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("")

    def line(self, within: float = 30) -> str:
        try:
            line = self.lines.get(timeout=within)
        except queue.Empty:
            raise AssertionError(f"no word from the pushing desk in {within} s") from None
        assert line, "the pushing desk ended"
        return line

    def tell(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def start(self) -> int:
        self.tell("push")
        word, pid = self.line().split()
        assert word == "started"
        return int(pid)

    def end(self, pid: int, command: str) -> int:
        """``kill`` or ``wait`` for the child; how it ended (-9: killed)."""
        self.tell(command)
        return int(self.until(pid, "exited").split()[2])

    def until(self, pid: int, *words: str) -> str:
        """The child's next line that is one of ``words`` (its end: ``exited``)."""
        while True:
            line = self.line()
            said = line.split()
            if said[0] == "exited" and int(said[1]) == pid and "exited" in words:
                return line
            if said[0] == str(pid) and said[1] in words:
                return line
            assert said[1] != "failed", line

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def unpushed(session) -> set[str]:
    with session.store.read() as s:
        return set(s.scalars(select(OutboxEntry.op_id).where(OutboxEntry.pushed_at.is_(None))))


def kill_pushes(desks, server, rounds: int, budget: float, seed: int) -> None:
    a, b = desks
    rng = random.Random(seed)
    pushers = Pushers(a.folder, "admin", ADMIN_PASSWORD)
    expected: set[str] = set()
    before = {c.change.op_id for c in server_log(server, a)}  # the clinic as it was joined
    killed = answered = 0
    push_time = 0.3
    started = time.monotonic()
    try:
        done = 0
        while done < rounds and time.monotonic() - started < budget:
            done += 1
            a.patients.import_many(
                a.actor,
                [
                    PatientInput(f"Given{done}", f"Family{i}", date(1950 + i % 60, 1, 1), "male")
                    for i in range(PER_ROUND)
                ],
            )
            expected |= unpushed(a)
            head = server_head(server, a)

            pid = pushers.start()
            pushers.until(pid, "pushing")
            time.sleep(rng.uniform(0, push_time * 1.5))
            code = pushers.end(pid, "kill")
            assert code in (-signal.SIGKILL, 0), code
            killed += code == -signal.SIGKILL
            # the server took (some of) it, but the desk did not live to mark it sent
            answered += code == -signal.SIGKILL and server_head(server, a) > head

            pid = pushers.start()  # a fresh desk process, pushing again
            pushers.until(pid, "pushing")
            clean = time.monotonic()
            pushers.until(pid, "pushed")
            push_time = max(push_time * 0.8, time.monotonic() - clean)
            assert pushers.end(pid, "wait") == 0
            assert desk.waiting(a.store) == 0, f"round {done}: left unsent"

            log = server_log(server, a)
            ops = [c.change.op_id for c in log]
            assert len(ops) == len(set(ops)), f"round {done}: an op applied twice"
            versions = {(c.change.entity, c.change.entity_id, c.change.version) for c in log}
            assert len(versions) == len(log), f"round {done}: a change sent twice"
            missing = expected - set(ops)
            assert not missing, f"round {done}: {len(missing)} changes lost"
            others = {c.change.entity for c in log if c.change.op_id not in expected | before}
            assert others <= {"users"}, others  # the pushing desks' own sign-ins
    finally:
        pushers.close()
    took = time.monotonic() - started
    print(
        f"{done} rounds in {took:.1f} s: {killed} pushes killed, {answered} of them after the "
        f"server had taken some of it; a clean push took about {push_time:.2f} s"
    )
    assert killed >= done // 2, "the kills hardly ever landed in a push"
    desk.sync(b.store, b.payload_cipher())
    desk.sync(a.store, a.payload_cipher())
    assert_in_step(server, a, b)
    assert patients_at(b) == patients_at(a) == done * PER_ROUND


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_desk_killed_mid_push_loses_nothing_and_sends_nothing_twice(desks, server):
    kill_pushes(desks, server, rounds=20, budget=18, seed=20261207)


@pytest.mark.long
@pytest.mark.parametrize("server", ["sqlite", "postgresql"], indirect=True)
def test_a_desk_killed_mid_push_again_and_again(desks, server):
    kill_pushes(desks, server, rounds=200, budget=900, seed=1207)

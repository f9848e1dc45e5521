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
from clinicdesk.sync.protocol import MAX_PUSH
from tests.conftest import ADMIN_PASSWORD
from tests.sync.conftest import (
    DESK_BACKENDS,
    assert_in_step,
    patients_at,
    server_head,
    server_log,
)
from tests.sync.push_child import POINTS

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

    def start(self, point: str = "") -> int:
        """A fresh push; with ``point``, it kills itself there (``push_child.POINTS``)."""
        self.tell(f"push {point}".strip())
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


def check_log(server, a, expected: set[str], before: set[str], done: int) -> None:
    """The server holds every change made at A exactly once: none lost, none twice."""
    log = server_log(server, a)
    ops = [c.change.op_id for c in log]
    assert len(ops) == len(set(ops)), f"round {done}: an op applied twice"
    versions = {(c.change.entity, c.change.entity_id, c.change.version) for c in log}
    assert len(versions) == len(log), f"round {done}: a change sent twice"
    missing = expected - set(ops)
    assert not missing, f"round {done}: {len(missing)} changes lost"
    others = {c.change.entity for c in log if c.change.op_id not in expected | before}
    assert others <= {"users"}, others  # the pushing desks' own sign-ins


def register_many(session, round_no: int, count: int) -> None:
    session.patients.import_many(
        session.actor,
        [
            PatientInput(f"Given{round_no}", f"Family{i}", date(1950 + i % 60, 1, 1), "male")
            for i in range(count)
        ],
    )


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
            register_many(a, done, PER_ROUND)
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

            check_log(server, a, expected, before, done)
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


def kill_at_points(desks, server, rounds: int, budget: float) -> None:
    """Each round, a push kills itself at the next of the named points, then a fresh process
    pushes cleanly; the checks of ``kill_pushes`` after each."""
    a, b = desks
    pushers = Pushers(a.folder, "admin", ADMIN_PASSWORD)
    expected: set[str] = set()
    before = {c.change.op_id for c in server_log(server, a)}
    registered = done = 0
    started = time.monotonic()
    try:
        while done < rounds and time.monotonic() - started < budget:
            point = POINTS[done % len(POINTS)]
            done += 1
            # enough for a second batch where the point is between two
            count = MAX_PUSH + PER_ROUND if point == "next-batch" else PER_ROUND
            register_many(a, done, count)
            registered += count
            expected |= unpushed(a)

            pid = pushers.start(point)
            code = pushers.end(pid, "wait")
            assert code == -signal.SIGKILL, f"round {done}: the push did not reach {point}"

            pid = pushers.start()
            pushers.until(pid, "pushed")
            assert pushers.end(pid, "wait") == 0
            assert desk.waiting(a.store) == 0, f"round {done} ({point}): left unsent"
            check_log(server, a, expected, before, done)
    finally:
        pushers.close()
    print(f"{done} pushes killed at the named points in {time.monotonic() - started:.1f} s")
    assert done >= min(rounds, 2 * len(POINTS)), "too few rounds within the time allowed"
    desk.sync(b.store, b.payload_cipher())
    desk.sync(a.store, a.payload_cipher())
    assert_in_step(server, a, b)
    assert patients_at(b) == patients_at(a) == registered


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_desk_killed_at_each_point_of_a_push_loses_nothing_and_sends_nothing_twice(desks, server):
    kill_at_points(desks, server, rounds=len(POINTS), budget=120)


@pytest.mark.long
@pytest.mark.parametrize("server", ["sqlite", "postgresql"], indirect=True)
def test_a_desk_killed_at_each_point_of_a_push_200_times(desks, server):
    kill_at_points(desks, server, rounds=100, budget=600)  # 100 on each kind of server


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_desk_killed_mid_push_loses_nothing_and_sends_nothing_twice(desks, server):
    kill_pushes(desks, server, rounds=20, budget=18, seed=20261207)


@pytest.mark.long
@pytest.mark.parametrize("server", ["sqlite", "postgresql"], indirect=True)
def test_a_desk_killed_mid_push_again_and_again(desks, server):
    kill_pushes(desks, server, rounds=200, budget=900, seed=1207)

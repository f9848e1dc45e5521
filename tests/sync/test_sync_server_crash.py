"""The server process killed (SIGKILL, as by a power cut) while a desk's 500-change push is under
way: once it is back, the clinic's log holds all of that batch or none of it, never a part; the
desk sends the batch again and it is there exactly once.

Two ways to time the kill: part-way through the request (by the time a push takes), and while
the push's transaction is surely open on the database (PostgreSQL: its insert is held up by a
row the test has not committed; SQLite: the moment the database's write lock is taken)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
import requests
from sqlalchemy.engine import make_url

from clinicdesk.ids import new_id, utcnow
from clinicdesk.sync.protocol import MAX_PUSH, WireChange
from tests.sync.conftest import Desk, RunningServer, libpq_url


def big_batch() -> list[WireChange]:
    return [
        WireChange(new_id(), "visits", new_id(), 1, False, 1, os.urandom(2048))
        for _ in range(MAX_PUSH)
    ]


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.002)


@contextlib.contextmanager
def part_way(fraction: float) -> Iterator[Callable[[], None]]:
    """Kill after ``fraction`` of the time a whole push takes."""
    yield lambda: time.sleep(fraction)


HOLDER = ("0" * 64, "0" * 64)  # the test's row's digest and link: it is never committed


@contextlib.contextmanager
def inside_the_transaction(
    server: RunningServer, clinic_id: str, desk: Desk, batch: list[WireChange]
) -> Iterator[Callable[[], None]]:
    """Kill while the push's transaction is open (on PostgreSQL, with 499 of its rows inserted:
    the last is held up by an uncommitted row of the test with the same op id)."""
    if server.backend == "postgresql":
        blocker = psycopg.connect(libpq_url(server.db_url))
        blocker.execute(
            "INSERT INTO changes (clinic_id, seq, op_id, device_id, entity, entity_id, version, "
            "deleted, key_gen, payload, received_at, digest, link) "
            "VALUES (%s, %s, %s, %s, 'visits', 'x', 1, false, 1, %s, %s, %s, %s)",
            (clinic_id, 10**15, batch[-1].op_id, desk.device_id, b"\0" * 28, utcnow(), *HOLDER),
        )
        watcher = psycopg.connect(libpq_url(server.db_url), autocommit=True)

        def blocked() -> bool:
            return watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO changes%%'"
            ).fetchone() == (1,)

        try:
            yield lambda: wait_for(blocked, "the push's insert to wait on the test's row")
        finally:
            blocker.rollback()
            blocker.close()
            watcher.close()
    else:
        probe = sqlite3.connect(make_url(server.db_url).database, timeout=0, isolation_level=None)

        def writing() -> bool:
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True  # the push holds the write lock: its transaction is open
            probe.execute("ROLLBACK")
            return False

        try:
            yield lambda: wait_for(writing, "the push to take the write lock")
        finally:
            probe.close()


def whole_or_nothing(server: RunningServer, rounds: list[str]) -> dict[str, object]:
    clinic_id, desk = server.new_clinic()
    started = time.monotonic()
    first = desk.push(big_batch())
    assert first.status_code == 200, first.text
    took = time.monotonic() - started
    head = MAX_PUSH
    outcomes: dict[str, object] = {"push_seconds": round(took, 2)}
    for n, how in enumerate(rounds):
        batch = big_batch()

        answers: list[object] = []

        def push(batch: list[WireChange] = batch, answers: list[object] = answers) -> None:
            try:
                answers.append(desk.push(batch))
            except requests.RequestException as error:  # the answer may never come
                answers.append(error)

        if how == "inside":
            timing = inside_the_transaction(server, clinic_id, desk, batch)
        else:
            timing = part_way(took * (n % 4 + 0.5) / 4)  # early in the request to near its end
        sender = threading.Thread(target=push)
        try:
            with timing as wait_for_the_moment:
                sender.start()
                try:
                    wait_for_the_moment()
                except AssertionError as missed:
                    sender.join(timeout=60)
                    raise AssertionError(
                        f"round {n} ({how}): the push answered {answers}"
                    ) from missed
                server.kill()
            sender.join(timeout=60)
        finally:
            server.kill()  # if the moment never came
            server.start()

        after = pulled_after(desk, head)
        applied = len(after)
        assert applied in (0, MAX_PUSH), f"round {n}: {applied} of the batch's changes were kept"
        if applied:
            assert [c["op_id"] for c in after] == [c.op_id for c in batch]
            assert [c["seq"] for c in after] == list(range(head + 1, head + MAX_PUSH + 1))
        if how == "inside" and server.backend == "postgresql":
            assert applied == 0  # it never reached its commit
        key = f"{how}: {'whole' if applied else 'none'}"
        outcomes[key] = int(outcomes.get(key, 0)) + 1  # type: ignore[call-overload]

        # the desk, having no answer (or one it cannot trust), sends the batch again
        again = desk.push(batch)
        assert again.status_code == 200, again.text
        results = again.json()["results"]
        assert [r["seq"] for r in results] == list(range(head + 1, head + MAX_PUSH + 1))
        assert all(r["duplicate"] for r in results) == bool(applied)
        head += MAX_PUSH
        assert again.json()["head"] == head
    return outcomes


def pulled_after(desk: Desk, after: int) -> list[dict]:
    pulled: list[dict] = []
    while True:
        page = desk.pull(after=after).json()
        pulled += page["changes"]
        if not page["more"]:
            return pulled
        after = page["changes"][-1]["seq"]


def test_a_killed_server_keeps_all_of_a_batch_or_none(server: RunningServer):
    """On the session's server (it is started again after each kill)."""
    whole_or_nothing(server, ["part way", "inside"])


@pytest.mark.long
def test_a_server_killed_again_and_again_never_keeps_part_of_a_batch(own_server: RunningServer):
    outcomes = whole_or_nothing(own_server, ["part way"] * 10 + ["inside"] * 3)
    print(f"\n{own_server.backend}: {outcomes}")

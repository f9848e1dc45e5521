"""The cursor trap: a desk pulls "after N" and moves its cursor to the last sequence it saw. If
sequence numbers could commit out of order, a lower one committing after a higher one was pulled
would be skipped by that desk for ever. The server serializes a clinic's appends (the clinic's row
is locked until commit), so this cannot happen; a naive append (a PostgreSQL SEQUENCE, no lock)
is shown here to fall into the trap."""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import event, insert, text

from clinicdesk.ids import new_id, utcnow
from clinicdesk.sync.protocol import WireChange
from clinicdesk.sync.server.models import Change
from clinicdesk.sync.server.store import AuthedDevice, ServerStore

WRITERS = 8
PUSHES = 50


def change() -> WireChange:
    return WireChange(new_id(), "visits", new_id(), 1, False, 1, os.urandom(48))


def clinic_with_device(url: str) -> tuple[ServerStore, AuthedDevice]:
    store = ServerStore(url)
    store.init()
    made = store.create_clinic(new_id(), "Sunrise Family Clinic", "Front desk")
    return store, store.authenticate(made.token)


def follow(store: ServerStore, device: AuthedDevice, after: int) -> list[int]:
    """What a desk pulling from ``after`` receives now, following its cursor page by page."""
    seen: list[int] = []
    while True:
        page = store.pull(device, after=after, limit=100)
        seen += [c.seq for c in page.changes]
        if not page.changes:
            return seen
        after = page.changes[-1].seq


def test_concurrent_writers_never_make_a_follower_skip(db_url: str):
    """8 writers, each its own connection (own engine, as several server processes would have),
    push 50 times each while a desk follows the log with its cursor."""
    store, device = clinic_with_device(db_url)
    writers = [ServerStore(db_url) for _ in range(WRITERS)]
    pushed: list[str] = []
    failures: list[BaseException] = []

    def write(writer: ServerStore) -> None:
        try:
            for n in range(PUSHES):
                batch = [change() for _ in range(1 + n % 3)]
                writer.push(device, batch)
                pushed.extend(c.op_id for c in batch)
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    seen: list[int] = []
    seen_ops: list[str] = []
    cursor = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        writing = any(t.is_alive() for t in threads)
        page = store.pull(device, after=cursor, limit=37)
        seen += [c.seq for c in page.changes]
        seen_ops += [c.change.op_id for c in page.changes]
        if page.changes:
            cursor = page.changes[-1].seq
        elif not writing:
            break
    for thread in threads:
        thread.join(timeout=60)
    for writer in writers:
        writer.close()
    assert not failures, failures
    head = store.pull(device, after=cursor).head
    store.close()
    total = WRITERS * sum(1 + n % 3 for n in range(PUSHES))
    assert head == total == len(pushed)
    assert seen == list(range(1, total + 1))  # every seq once, in order, no gap
    assert sorted(seen_ops) == sorted(pushed)


def test_a_naive_append_makes_a_follower_skip_a_change(pg_schemas):
    """Without the lock: the first writer takes n and has not committed when the second takes
    n+1 and commits; the desk pulls n+1, moves its cursor past n, and never sees n."""
    url = pg_schemas()
    store, device = clinic_with_device(url)
    with store.engine.begin() as conn:
        conn.execute(text("CREATE SEQUENCE naive_seq"))

    def naive_append(conn) -> int:
        seq = conn.execute(text("SELECT nextval('naive_seq')")).scalar_one()
        wire = change()
        conn.execute(
            insert(Change).values(
                clinic_id=device.clinic_id,
                seq=seq,
                op_id=wire.op_id,
                device_id=device.id,
                entity=wire.entity,
                entity_id=wire.entity_id,
                version=wire.version,
                deleted=wire.deleted,
                key_gen=wire.key_gen,
                payload=wire.payload,
                received_at=utcnow(),
                digest="0" * 64,
                link="0" * 64,
            )
        )
        return seq

    first, second = store.engine.connect(), store.engine.connect()
    try:
        slow = first.begin()
        n = naive_append(first)  # taken, not yet committed
        with second.begin():
            assert naive_append(second) == n + 1  # committed
        cursor_seen = follow(store, device, after=n - 1)
        assert cursor_seen == [n + 1]
        slow.commit()
    finally:
        first.close()
        second.close()
    after_commit = follow(store, device, after=cursor_seen[-1])
    assert after_commit == []  # the desk goes on after n+1: n is skipped for good
    assert follow(store, device, after=0) == [n, n + 1]  # though the log holds both
    store.close()


def test_the_server_makes_the_second_writer_wait_so_nothing_is_skipped(db_url: str):
    """The same race against the real store: the first push holds the clinic's row until it
    commits, the second waits for it, and the follower sees both, in order."""
    store, device = clinic_with_device(db_url)
    first, second = ServerStore(db_url), ServerStore(db_url)
    about_to_commit, may_commit = threading.Event(), threading.Event()

    def hold_before_commit(conn) -> None:
        if not about_to_commit.is_set():
            about_to_commit.set()
            may_commit.wait(timeout=20)

    event.listen(first.engine, "commit", hold_before_commit)
    results: dict[str, int] = {}
    slow = threading.Thread(
        target=lambda: results.update(first=first.push(device, [change()]).results[0].seq)
    )
    quick = threading.Thread(
        target=lambda: results.update(second=second.push(device, [change()]).results[0].seq)
    )
    try:
        slow.start()
        assert about_to_commit.wait(timeout=20)  # seq 1 is taken and written, not committed
        quick.start()
        time.sleep(0.5)
        assert quick.is_alive(), "the second push did not wait for the first"
        cursor_seen = follow(store, device, after=0)
        assert cursor_seen == []  # nothing committed yet, so the cursor stays
    finally:
        may_commit.set()
        slow.join(timeout=30)
        quick.join(timeout=30)
    assert results == {"first": 1, "second": 2}
    assert follow(store, device, after=0) == [1, 2]
    for s in (store, first, second):
        s.close()

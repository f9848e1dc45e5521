"""Keeping a desk in step with its sync server while the clinic is open.

Two threads, never the UI's: one pushes as soon as this desk commits a change (told by the
change feed, and every ``PUSH_EVERY`` seconds in any case); the other pulls with a long poll,
so another desk's change arrives within a second or two and reaches the open screens through
the change feed. A server that cannot be reached is tried again with growing pauses, and the
desk goes on working meanwhile. ``status`` says, in words, where sync stands.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from clinicdesk.errors import ClinicDeskError
from clinicdesk.ids import utcnow
from clinicdesk.listeners import Listeners
from clinicdesk.logs import log
from clinicdesk.store.database import Store
from clinicdesk.sync import desk
from clinicdesk.sync.apply import Applied
from clinicdesk.sync.client import Offline, SyncClient
from clinicdesk.sync.payload import PayloadCipher
from clinicdesk.sync.protocol import Rebootstrap, Revoked, SyncError

LONG_POLL = 20.0  # seconds a pull waits for a change
PUSH_EVERY = 30.0  # seconds between pushes when nothing wakes the pusher
PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)  # between attempts while the server cannot be reached
STOP_WITHIN = 10.0  # seconds stop() waits for each thread (one writing a page finishes it)


@dataclass(frozen=True)
class SyncStatus:
    enabled: bool = False  # this desk syncs with a server
    connected: bool = False  # the last exchange with the server went through
    waiting: int = 0  # changes made here, not yet taken by the server
    conflicts: int = 0  # changes from elsewhere kept aside (both sides), found so far
    refused: int = 0  # changes from the server that did not open with the clinic's key
    offline_since: datetime | None = None
    problem: str = ""  # what went wrong, in words ("" when all is well)
    held_back: tuple[str, ...] = ()  # changes the server refused as too large, in words
    stopped: bool = False  # this desk was removed from the clinic's sync

    def text(self, zone_clock: Callable[[datetime], str] = lambda t: t.strftime("%H:%M")) -> str:
        if self.stopped:
            return f"Sync stopped: {self.problem}"
        parts = []
        if self.offline_since is not None:
            parts.append(f"Offline since {zone_clock(self.offline_since)}")
        elif self.problem:
            parts.append(f"Sync: {self.problem}")
        elif self.connected:
            parts.append("Synced" if not self.waiting else "Syncing")
        if self.waiting:
            parts.append(f"{self.waiting:,} waiting to be sent")
        if self.conflicts:
            parts.append(f"{self.conflicts:,} to review")
        if self.refused:
            parts.append(f"{self.refused} refused (altered or not this clinic's)")
        parts += self.held_back
        return " · ".join(parts) or "Not synced yet"


class SyncRunner:
    def __init__(
        self,
        store: Store,
        cipher: Callable[[], PayloadCipher],
        long_poll: float = LONG_POLL,
        pauses: tuple[float, ...] = PAUSES,
    ) -> None:
        self.store = store
        self.cipher = cipher
        self.long_poll = long_poll
        self.pauses = pauses
        self.changed: Listeners[SyncStatus] = Listeners("sync status")
        self._status = SyncStatus(
            waiting=desk.waiting(store), held_back=tuple(desk.held_back(store))
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._clients: set[SyncClient] = set()  # in use: cut short when sync stops
        self._kept: dict[str, tuple[desk.Connection, SyncClient]] = {}  # by thread, between rounds

    @property
    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    def start(self) -> None:
        if self._threads or desk.connection(self.store) is None:
            return
        self._stop.clear()
        self._update(enabled=True, stopped=False, problem="")
        self._unsubscribe = self.store.changes.subscribe(self._committed)
        for name, loop in (("sync-push", self._push_loop), ("sync-pull", self._pull_loop)):
            thread = threading.Thread(target=loop, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop both threads; a long poll waiting for changes is cut short, so the clinic
        closes at once rather than when the server next answers."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            waiting_on = list(self._clients)
        for client in waiting_on:
            client.abort()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for thread in self._threads:
            thread.join(timeout=STOP_WITHIN)
            if thread.is_alive():
                log.warning("sync: the %s thread did not stop in time", thread.name)
        self._threads = []
        with self._lock:
            kept, self._kept = list(self._kept.values()), {}
        for _, client in kept:
            client.close()

    @contextmanager
    def _client(self) -> Iterator[SyncClient | None]:
        """This thread's client for one round (None: this desk is not connected to a server).
        It is kept for the thread's next round while the connection stays the same, so a desk
        keeps one TLS connection rather than opening one a round; a round that fails drops it,
        and the next begins afresh. Sync stopping meanwhile cuts it short."""
        link = desk.connection(self.store)
        name = threading.current_thread().name
        with self._lock:
            kept = self._kept.pop(name, None)
        if kept is not None and kept[0] != link:
            kept[1].close()
            kept = None
        if link is None:
            yield None
            return
        client: SyncClient | None = kept[1] if kept is not None else link.client()
        with self._lock:
            self._clients.add(client)
        if self._stop.is_set():  # stopped while it was made: stop() may have missed it
            client.abort()
        went_through = False
        try:
            yield client
            went_through = True
        finally:
            with self._lock:
                self._clients.discard(client)
                if went_through and not self._stop.is_set():
                    self._kept[name] = (link, client)
                    client = None
            if client is not None:
                client.close()

    def _committed(self, _change) -> None:
        self._wake.set()

    def _push_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            failures = self._attempt(self._push_once, failures)
            pause = self.pauses[min(failures, len(self.pauses)) - 1] if failures else PUSH_EVERY
            self._wake.wait(pause)

    def _pull_loop(self) -> None:
        failures = 0
        fresh = True
        while not self._stop.is_set():
            # the first round, and the first after a failure, asks without waiting: the
            # status says at once whether the server answers
            wait = 0.0 if fresh else self.long_poll
            failures = self._attempt(partial(self._pull_once, wait), failures)
            fresh = bool(failures)
            if failures:
                self._stop.wait(self.pauses[min(failures, len(self.pauses)) - 1])

    def _push_once(self) -> bool:
        waiting = desk.waiting(self.store)
        # what was made here shows at once, server or not
        self._update(waiting=waiting, held_back=tuple(desk.held_back(self.store)))
        if not waiting:
            return False  # nothing to send: nothing learnt of the server either
        with self._client() as client:
            if client is None:
                return False
            desk.push(self.store, client, self.cipher())
        self._update(waiting=desk.waiting(self.store), held_back=tuple(desk.held_back(self.store)))
        return True

    def _pull_once(self, wait: float) -> bool:
        with self._client() as client:
            if client is None:
                return False
            # the push thread sends what is waiting; this one only pulls
            done: Applied = desk.sync(self.store, self.cipher(), wait, client, push_first=False)
        for line in done.unreadable:
            log.warning("sync: %s", line)
        with self._lock:
            conflicts = self._status.conflicts + done.conflicts
            refused = self._status.refused + len(done.unreadable)
        self._update(conflicts=conflicts, refused=refused, waiting=desk.waiting(self.store))
        return True

    def _attempt(self, once: Callable[[], bool], failures: int) -> int:
        """Runs ``once``, which says whether it went through to the server; returns how many
        attempts in a row have now failed."""
        try:
            reached = once()
        except Offline as error:
            if self._stop.is_set():
                return failures  # cut short by stop(): not the server's doing
            with self._lock:
                since = self._status.offline_since or utcnow()
            self._update(connected=False, offline_since=since, problem=error.message)
            return failures + 1
        except Revoked as error:
            self._update(connected=False, stopped=True, problem=error.message)
            self._stop.set()
            return failures
        except (SyncError, ClinicDeskError) as error:
            if isinstance(error, Rebootstrap):
                return failures  # followed by ``desk.sync``; only a race lands here
            log.warning("sync failed: %s", error.message)
            self._update(connected=False, problem=error.message)
            return failures + 1
        if reached:
            self._update(connected=True, offline_since=None, problem="")
        return 0

    def _update(self, **fields) -> None:
        with self._lock:
            before, self._status = self._status, replace(self._status, **fields)
            after = self._status
        if after != before:
            self.changed.publish(after)

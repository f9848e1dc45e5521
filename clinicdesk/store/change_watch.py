"""Changes made by other desks (other processes) on the same database, told to the change feed.

Every synced change appends an outbox row in its own transaction (``outbox.py``), so the newest
outbox number moving is the sign that some desk committed. One light thread reads it every
``INTERVAL`` seconds and publishes the tables and row ids of the new outbox rows. This desk's own
commits are told at once by the feed and once more here; a screen reloading twice is harmless,
missing a change is not.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from clinicdesk.changes import Change
from clinicdesk.logs import crash_summary, log
from clinicdesk.store.database import Store
from clinicdesk.store.models import OutboxEntry

INTERVAL = 0.3  # seconds
MOST_ROWS = 5000  # a larger burst (an import, a restore) is told as its tables only


class ChangeWatch:
    def __init__(self, store: Store, interval: float = INTERVAL) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: int | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._seen = self._newest()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="change-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=10)

    def check(self) -> Change | None:
        """Publish what was committed since the last check, if anything; returns it."""
        newest = self._newest()
        seen, self._seen = self._seen, newest
        if seen is None or newest <= seen:
            return None
        with self.store.read() as s:
            rows = s.execute(
                select(OutboxEntry.entity, OutboxEntry.entity_id)
                .where(OutboxEntry.seq > seen, OutboxEntry.seq <= newest)
                .limit(MOST_ROWS)
            ).all()
        change = Change(frozenset(), frozenset((t, i) for t, i in rows))
        self.store.changes.publish(change)
        return change

    def _newest(self) -> int:
        with self.store.read() as s:
            return s.scalar(select(func.max(OutboxEntry.seq))) or 0

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # a busy or re-keyed database: the next check tries again
                log.warning("change watch failed: %s", crash_summary(exc))

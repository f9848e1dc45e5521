"""Listeners told of something that already happened (a commit, a job's failure).

Each is called on the telling thread; one that fails is logged and never turns what happened
into an error for whoever told it.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

from clinicdesk.logs import crash_summary, log

T = TypeVar("T")


class Listeners(Generic[T]):
    def __init__(self, what: str) -> None:
        self._what = what  # for the log: "change", "job failure"
        self._listeners: list[Callable[[T], None]] = []
        self._lock = Lock()

    def subscribe(self, listener: Callable[[T], None]) -> Callable[[], None]:
        """Call ``listener`` with everything published from now on; returns the call that stops
        it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, value: T) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(value)
            except Exception as exc:
                log.warning("%s listener failed: %s", self._what, crash_summary(exc))

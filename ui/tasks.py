"""Running service calls off the UI thread.

``TaskRunner.submit(fn, *args, on_result=..., on_error=...)`` runs ``fn`` on a worker thread of a
small private QThreadPool and calls back on the UI thread. Threads never expire, so the database
keeps one connection per worker thread (the store's pool is per thread). While anything runs,
``busy`` is true and ``busy_changed`` fires, so windows can show a busy state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from clinicdesk.logs import log_unexpected

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class Task(QObject):
    """One submitted call; lives on the UI thread and relays the outcome to the callbacks."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        on_result: ResultCallback | None,
        on_error: ErrorCallback | None,
        owner: QObject | None,
    ) -> None:
        super().__init__()
        self._runner = runner
        self._on_result = on_result
        self._on_error = on_error
        self._owner = owner
        self.cancelled = False
        self.succeeded.connect(self._deliver_result)
        self.failed.connect(self._deliver_error)

    def cancel(self) -> None:
        """Drop the outcome: the call still finishes, but no callback runs."""
        self.cancelled = True

    def _live(self) -> bool:
        return not self.cancelled and (self._owner is None or shiboken6.isValid(self._owner))

    @Slot(object)
    def _deliver_result(self, value: object) -> None:
        try:
            if self._live() and self._on_result is not None:
                self._on_result(value)
        finally:
            self._runner._finished(self)

    @Slot(object)
    def _deliver_error(self, error: BaseException) -> None:
        try:
            if self._live():
                if self._on_error is not None:
                    self._on_error(error)
                else:
                    self._runner.unhandled_error.emit(error)
        finally:
            self._runner._finished(self)


class _Job(QRunnable):
    def __init__(self, task: Task, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._fn = fn

    def run(self) -> None:
        try:
            value = self._fn()
        except BaseException as exc:  # delivered to the UI thread, never lost
            if not _is_expected(exc):
                log_unexpected(exc)
            self._task.failed.emit(exc)
        else:
            self._task.succeeded.emit(value)


def _is_expected(exc: BaseException) -> bool:
    from clinicdesk.errors import ClinicDeskError

    return isinstance(exc, ClinicDeskError)


class TaskRunner(QObject):
    busy_changed = Signal(bool)
    unhandled_error = Signal(object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._pool.setExpiryTimeout(-1)
        self._running: set[Task] = set()

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        owner: QObject | None = None,
        **kwargs: Any,
    ) -> Task:
        """Run ``fn(*args, **kwargs)`` off the UI thread.

        Callbacks run on the UI thread; they are skipped when the task was cancelled or ``owner``
        (usually the widget that asked) has been deleted meanwhile.
        """
        task = Task(self, on_result, on_error, owner)
        was_busy = self.busy
        self._running.add(task)
        self._pool.start(_Job(task, lambda: fn(*args, **kwargs)))
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def wait(self, msecs: int = -1) -> bool:
        """Block until every worker is idle (before closing the database)."""
        return self._pool.waitForDone(msecs)

    def _finished(self, task: Task) -> None:
        self._running.discard(task)
        if not self._running:
            self.busy_changed.emit(False)

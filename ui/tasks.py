"""Running service calls off the UI thread.

``TaskRunner.submit(fn, *args, on_result=..., on_error=...)`` runs ``fn`` on one of a few
long-lived Python worker threads and calls back on the UI thread. While anything runs, ``busy``
is true and ``busy_changed`` fires, so windows can show a busy state.

Two things keep the workers safe:
- They are Python's own threads, not a QThreadPool's: Python forgets a foreign thread's
  ``threading.local`` after every call, which anything per-thread below (SQLAlchemy, sqlite)
  does not expect.
- A worker touches no Qt object but one relay signal: the callbacks (which hold widgets) stay
  on the UI thread. And while a runner exists, Python's cycle collector runs on the UI thread
  only (a timer there, with the collector's usual thresholds): run on a worker, it could free a
  widget caught in a reference cycle there, which crashes Qt.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from clinicdesk.errors import AccountInactive
from clinicdesk.logs import log_unexpected

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class Task:
    """One submitted call, as the UI thread sees it: its callbacks, or none once cancelled."""

    def __init__(
        self,
        on_result: ResultCallback | None,
        on_error: ErrorCallback | None,
        owner: QObject | None,
    ) -> None:
        self.on_result = on_result
        self.on_error = on_error
        self.owner = owner
        self.cancelled = False

    def cancel(self) -> None:
        """Drop the outcome: the call still finishes, but no callback runs."""
        self.cancelled = True

    def live(self) -> bool:
        return not self.cancelled and (self.owner is None or shiboken6.isValid(self.owner))


class _Relay(QObject):
    done = Signal(object, bool, object)  # task number, succeeded, value or error


def _run(done: SignalInstance, number: int, fn: Callable[[], Any]) -> None:
    try:
        value = fn()
    except BaseException as exc:  # delivered to the UI thread, never lost
        if not _is_expected(exc):
            log_unexpected(exc)
        done.emit(number, False, exc)
    else:
        done.emit(number, True, value)


def _is_expected(exc: BaseException) -> bool:
    from clinicdesk.errors import ClinicDeskError

    return isinstance(exc, ClinicDeskError)


_runners = 0
COLLECT_MS = 500


def _collect_on_ui_thread() -> None:
    """What the automatic collector would do, done here instead of wherever Python is."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (0, 1, 2):
        if counts[generation] > thresholds[generation]:
            gc.collect(generation)


def _runner_gone() -> None:
    global _runners
    _runners -= 1
    if _runners == 0:
        gc.enable()


class TaskRunner(QObject):
    busy_changed = Signal(bool)
    unhandled_error = Signal(object)
    account_gone = Signal(object)  # a call found this account removed (at another desk)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_threads, thread_name_prefix="clinicdesk-task")
        self._relay = _Relay(self)
        self._relay.done.connect(self._deliver)
        self._numbers = itertools.count(1)
        self._running: dict[int, Task] = {}
        self._futures: set[Future] = set()
        global _runners
        _runners += 1
        gc.disable()
        self.destroyed.connect(_runner_gone)
        self._collector = QTimer(self)
        self._collector.setInterval(COLLECT_MS)
        self._collector.timeout.connect(_collect_on_ui_thread)
        self._collector.start()

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
        task = Task(on_result, on_error, owner)
        was_busy = self.busy
        number = next(self._numbers)
        self._running[number] = task
        future = self._pool.submit(_run, self._relay.done, number, lambda: fn(*args, **kwargs))
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def wait(self, msecs: int = -1) -> bool:
        """Block until every worker is idle (before closing the database)."""
        _done, pending = wait_for(list(self._futures), None if msecs < 0 else msecs / 1000)
        return not pending

    def _deliver(self, number: int, succeeded: bool, value: Any) -> None:
        task = self._running.pop(number)
        if not succeeded and isinstance(value, AccountInactive):
            self.account_gone.emit(value)
        try:
            if not task.live():
                return
            if succeeded:
                if task.on_result is not None:
                    task.on_result(value)
            elif task.on_error is not None:
                task.on_error(value)
            else:
                self.unhandled_error.emit(value)
        finally:
            if not self._running:
                self.busy_changed.emit(False)


class Refresher:
    """Loads a view's data on the worker pool one request at a time: a reload asked for while
    one is in flight runs once more when that answer is in, so timers and actions never pile
    requests up and the last answer shown is never older than the last change."""

    def __init__(
        self,
        runner: TaskRunner,
        load: Callable[[], Any],
        on_result: ResultCallback,
        on_error: ErrorCallback,
        owner: QObject,
    ) -> None:
        self.runner, self.load, self.owner = runner, load, owner
        self.on_result, self.on_error = on_result, on_error
        self._task: Task | None = None
        self._again = False

    def reload(self) -> None:
        if self._task is not None:
            self._again = True
            return
        self._again = False
        self._task = self.runner.submit(
            self.load, on_result=self._loaded, on_error=self._failed, owner=self.owner
        )

    def _loaded(self, value: Any) -> None:
        self._task = None
        if self._again:
            self.reload()
        self.on_result(value)

    def _failed(self, error: BaseException) -> None:
        self._task = None
        self.on_error(error)

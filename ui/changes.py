"""Screens follow the patient data they show, so none of them is left showing an old list.

One mechanism for every view of allergies, conditions, vitals and the patient's details: the
view reloads when it is shown, and after every commit in this app that changed that patient's
rows while it is shown (the store's change feed). A commit at another desk reaches the feed
through the store's watch of the outbox knowing only its tables and rows, not its patients: the
view then reads the patient's chart revision (one indexed read) and reloads only if it moved.

Lists of the day (the queue board, the doctor's day, the waiting-room display) and the calendar
follow tables instead
(``FollowTables``): the feed tells them of commits here at once, and of commits at other
desks through the store's watch of the outbox (``clinicdesk/store/change_watch.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from clinicdesk.changes import Change, ChangeFeed

if TYPE_CHECKING:
    from ui.context import AppContext

# what the day's lists are made of: the queue, the appointments and the visits they open
DAY_LISTS = frozenset({"queue_entries", "appointments", "visits"})
# what the calendar is made of: the bookings, and the hours, holidays and leave around them
CALENDAR = frozenset(
    {"appointments", "visiting_hours", "clinic_holidays", "doctor_leave", "doctor_absences"}
)
# what the header of a visit and a prescription's allergy banner are made of
PATIENT_HEADER = frozenset({"patients", "allergies", "conditions", "vital_signs"})
ALLERGIES = frozenset({"allergies"})
MINUTE_MS = 60_000


class PatientChanges(QObject):
    """The store's commits, delivered on the GUI thread (commits happen on workers)."""

    changed = Signal(object)  # Change
    _committed = Signal(object)

    def __init__(self, feed: ChangeFeed) -> None:
        super().__init__()
        self._committed.connect(self._deliver)  # queued: this object lives on the GUI thread
        feed.subscribe(self._committed.emit)

    def _deliver(self, change: Change) -> None:
        self.changed.emit(change)


class FollowPatient(QObject):
    """Keeps ``view`` current: ``reload`` runs when the view is shown with a patient open, when
    a commit here touches that patient's ``tables``, and when another desk changed the chart,
    all only while the view is shown."""

    def __init__(
        self,
        view: QWidget,
        ctx: AppContext,
        patient_id: Callable[[], str | None],
        reload: Callable[[], None],
        tables: frozenset[str] | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.ctx = ctx
        self.patient_id = patient_id
        self.reload = reload
        self.tables = tables
        self._revision: tuple[str, tuple[int, int]] | None = None  # last read, and whose
        view.installEventFilter(self)
        ctx.changes.changed.connect(self._changed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Show:
            self._reload()
        return False

    def _changed(self, change: Change) -> None:
        patient_id = self.patient_id()
        if not patient_id or not self.view.isVisible():
            return
        if change.touches(patient_id, self.tables):
            self._reload()
        elif not change.rows and self._may_concern(change):  # another desk's: whose is unknown
            self._check_revision()

    def _may_concern(self, change: Change) -> bool:
        return self.tables is None or not self.tables.isdisjoint(change.tables)

    def _reload(self) -> None:
        patient_id = self.patient_id()
        if patient_id:
            self._fetch_revision(patient_id, then_reload=True)

    def _check_revision(self) -> None:
        patient_id = self.patient_id()
        if patient_id and self.view.isVisible():
            self._fetch_revision(patient_id, then_reload=False)

    def _fetch_revision(self, patient_id: str, then_reload: bool) -> None:
        """The revision is read before the reload reads the data: a change made in between
        moves the revision again and is caught at the next check."""
        self.ctx.tasks.submit(
            self.ctx.session.chart.revision,
            self.ctx.actor,
            patient_id,
            on_result=lambda revision: self._fetched(patient_id, revision, then_reload),
            on_error=lambda _e: then_reload and self.reload(),  # checked again next time
            owner=self,
        )

    def _fetched(self, patient_id: str, revision: tuple[int, int], then_reload: bool) -> None:
        seen, self._revision = self._revision, (patient_id, revision)
        if patient_id == self.patient_id() and (then_reload or seen != self._revision):
            self.reload()


class FollowTables(QObject):
    """Runs ``reload`` when ``view`` is shown, and after every commit (here or at another desk)
    that changed a row of ``tables`` while it is shown; a hidden view reloads when next shown.

    A list that counts minutes ("waited 12 min", "~20 min") also reloads once a minute while
    shown (``counts_minutes``): that is the clock moving, not the data."""

    def __init__(
        self,
        view: QWidget,
        ctx: AppContext,
        tables: frozenset[str],
        reload: Callable[[], None],
        counts_minutes: bool = False,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.tables = tables
        self.reload = reload
        self.minute: QTimer | None = None
        if counts_minutes:
            self.minute = QTimer(self)
            self.minute.setInterval(MINUTE_MS)
            self.minute.timeout.connect(reload)
        view.installEventFilter(self)
        ctx.changes.changed.connect(self._changed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view:
            if event.type() == QEvent.Type.Show:
                self.reload()
                if self.minute is not None:
                    self.minute.start()
            elif event.type() == QEvent.Type.Hide and self.minute is not None:
                self.minute.stop()
        return False

    def _changed(self, change: Change) -> None:
        if self.view.isVisible() and not self.tables.isdisjoint(change.tables):
            self.reload()

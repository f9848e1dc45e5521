"""Screens follow the patient data they show: reloaded when shown, and after every commit that
changed that patient's rows while they are on screen (from this window or any other part of
the app). One mechanism for every view of allergies, conditions, vitals and the patient's
details, so none of them can be left showing an old list.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QWidget

from clinicdesk.store.changes import Change, ChangeFeed

# what the header of a visit and a prescription's allergy banner are made of
PATIENT_HEADER = frozenset({"patients", "allergies", "conditions", "vital_signs"})
ALLERGIES = frozenset({"allergies"})


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
    """Keeps ``view`` current: ``reload`` runs when the view is shown with a patient open,
    and when a commit touches that patient's ``tables`` while it is shown."""

    def __init__(
        self,
        view: QWidget,
        changes: PatientChanges,
        patient_id: Callable[[], str | None],
        reload: Callable[[], None],
        tables: frozenset[str] | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.patient_id = patient_id
        self.reload = reload
        self.tables = tables
        view.installEventFilter(self)
        changes.changed.connect(self._changed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Show and self.patient_id():
            self.reload()
        return False

    def _changed(self, change: Change) -> None:
        patient_id = self.patient_id()
        if patient_id and self.view.isVisible() and change.touches(patient_id, self.tables):
            self.reload()

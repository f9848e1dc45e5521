"""The front-desk workspace: patient search beside the opened patient's record."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.permissions import P
from clinicdesk.services.patients import PatientRecord
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.detail import PatientDetail
from ui.frontdesk.history import HistoryDialog
from ui.frontdesk.patient_dialog import PatientDialog
from ui.frontdesk.patients import PatientSearch
from ui.theme import icon, set_kind


class FrontDeskWorkspace(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.can_write = ctx.actor.can(P.PATIENT_WRITE)
        self.dialog: PatientDialog | None = None
        self.history_dialog: HistoryDialog | None = None

        title = QLabel("Patients")
        set_kind(title, "title")
        self.count_label = QLabel()
        set_kind(self.count_label, "muted")
        self.new_button = QPushButton(icon("plus", "#ffffff"), "New patient")
        set_kind(self.new_button, "primary")
        self.new_button.setToolTip("Register a new patient (Ctrl+N)")
        self.new_button.clicked.connect(self.new_patient)
        self.new_button.setVisible(self.can_write)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.count_label, 0, Qt.AlignmentFlag.AlignBottom)
        head.addStretch(1)
        head.addWidget(self.new_button)

        self.search = PatientSearch(ctx)
        self.search.open_requested.connect(self.open_patient)
        self.detail = PatientDetail(ctx.details.time_zone, self.can_write)
        self.detail.edit_requested.connect(self.edit_selected)
        self.detail.history_requested.connect(self.show_history)
        self.detail.new_requested.connect(self.new_patient)
        self.detail.setMinimumWidth(340)
        self.detail.setMaximumWidth(480)

        split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(self.search)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setHandleWidth(16)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(14)
        layout.addLayout(head)
        layout.addWidget(split, 1)
        self.refresh_count()

    def showEvent(self, event) -> None:
        """Reception starts typing a name the moment the workspace appears."""
        super().showEvent(event)
        QTimer.singleShot(0, self.focus_search)

    def refresh_count(self) -> None:
        self.ctx.tasks.submit(
            self.ctx.session.patients.count,
            self.ctx.actor,
            on_result=lambda n: self.count_label.setText(f"{n:,} registered"),
            on_error=lambda _e: None,
            owner=self,
        )

    # ---- actions (also the Patients menu) ----

    def focus_search(self) -> None:
        self.search.focus_box()

    def new_patient(self) -> None:
        if not self.can_write or self._dialog_open():
            return
        self._open_dialog(PatientDialog(self.ctx, None, self))

    def edit_selected(self) -> None:
        """Edit the opened patient; if another row is highlighted, open that one first."""
        if not self.can_write or self._dialog_open():
            return
        highlighted = self.search.current()
        opened = self.detail.patient
        if opened is not None and (highlighted is None or highlighted.id == opened.id):
            self._open_dialog(PatientDialog(self.ctx, opened, self))
        elif highlighted is not None:
            self.open_patient(highlighted, then_edit=True)

    def _dialog_open(self) -> bool:
        dialog = self.dialog
        return dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible()

    def _open_dialog(self, dialog: PatientDialog) -> None:
        self.dialog = dialog
        dialog.saved.connect(self._saved)
        dialog.use_existing.connect(lambda p: self.open_patient(p))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _saved(self, record: PatientRecord) -> None:
        registered = record.version == 1
        if registered:
            self.search.show_only(record)
        else:
            self.search.model.replace(record)
        self.detail.show_patient(record)
        verb = "Registered" if registered else "Saved"
        self.ctx.notify(f"{verb} {record.full_name} ({record.mrn}).")
        if registered:
            self.refresh_count()

    def open_patient(self, patient: PatientRecord, then_edit: bool = False) -> None:
        """Load the current record (the service notes the view in the audit log)."""

        def opened(record: PatientRecord) -> None:
            self.detail.show_patient(record)
            if then_edit:
                self._open_dialog(PatientDialog(self.ctx, record, self))

        self.ctx.tasks.submit(
            self.ctx.session.patients.get,
            self.ctx.actor,
            patient.id,
            on_result=opened,
            on_error=lambda e: self.ctx.notify(describe(e)),
            owner=self,
        )

    def show_history(self) -> None:
        patient = self.detail.patient
        if patient is None:
            return

        def loaded(changes) -> None:
            self.history_dialog = HistoryDialog(patient, changes, self.ctx.details.time_zone, self)
            self.history_dialog.finished.connect(self.history_dialog.deleteLater)
            self.history_dialog.open()

        self.ctx.tasks.submit(
            self.ctx.session.patients.history,
            self.ctx.actor,
            patient.id,
            on_result=loaded,
            on_error=lambda e: self.ctx.notify(describe(e)),
            owner=self,
        )

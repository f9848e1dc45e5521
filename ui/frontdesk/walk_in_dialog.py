"""Adding a walk-in to today's queue; a new patient can be registered from here (Ctrl+N).

By keyboard: type the name, Enter takes the first match (or Ctrl+N registers them), choose the
priority and doctor with the arrow keys, Enter queues them.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from clinicdesk.permissions import P
from clinicdesk.services.patients import PatientRecord
from clinicdesk.services.queue import PRIORITIES, QueueView
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.patient_dialog import PatientDialog
from ui.frontdesk.patient_picker import PatientPicker
from ui.frontdesk.schedule_data import Directory
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout
from ui.widgets.forms import FieldForm


class WalkInDialog(QDialog):
    queued = Signal(object)  # QueueView

    def __init__(
        self,
        ctx: AppContext,
        directory: Directory,
        patient: PatientRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.register_dialog: PatientDialog | None = None
        self.setWindowTitle("Add a walk-in")
        self.setMinimumWidth(560)
        layout, _title = titled_layout(self, "Add a walk-in to today's queue")

        self.form = FieldForm(columns=2)
        self.picker = PatientPicker(ctx)
        self.priority = QComboBox()
        for value, label in PRIORITIES.items():
            self.priority.addItem(label, value)
        self.doctor = QComboBox()
        self.doctor.addItem("Next free doctor", None)
        for d in directory.doctors:
            self.doctor.addItem(f"{d.name} · {d.room}" if d.room else d.name, d.id)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Optional, e.g. 'fever since yesterday'")
        can_register = ctx.actor.can(P.PATIENT_WRITE)
        self.form.add(
            "patient",
            "&Patient *",
            self.picker,
            0,
            0,
            2,
            hint="Not registered yet? Press Ctrl+N to register them." if can_register else None,
        )
        self.form.add("priority", "P&riority", self.priority, 1, 0)
        self.form.add("doctor", "&Doctor", self.doctor, 1, 1)
        self.form.add("note", "&Note", self.note, 2, 0, 2)
        layout.addWidget(self.form)

        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)

        buttons = QDialogButtonBox(self)
        self.add_button = buttons.addButton("Add to queue", QDialogButtonBox.ButtonRole.AcceptRole)
        set_kind(self.add_button, "primary")
        self.add_button.setDefault(True)
        if can_register:
            self.register_button = buttons.addButton(
                "New patient…", QDialogButtonBox.ButtonRole.ActionRole
            )
            self.register_button.setToolTip("Register a new patient (Ctrl+N)")
            self.register_button.setAutoDefault(False)
            self.register_button.clicked.connect(self.register_patient)
            shortcut = QShortcut(QKeySequence("Ctrl+N"), self)
            shortcut.activated.connect(self.register_patient)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.picker.chosen.connect(self._chosen)
        if patient is not None:
            self.picker.set_patient(patient)
        else:
            self.picker.setFocus()

    def _chosen(self, _patient: PatientRecord) -> None:
        self.form.set_error("patient", None)
        self.priority.setFocus()

    def register_patient(self) -> None:
        dialog = PatientDialog(self.ctx, None, self)
        self.register_dialog = dialog
        dialog.submitted.connect(self.picker.set_patient)
        dialog.use_existing.connect(self.picker.set_patient)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self.activateWindow)  # the keyboard comes back here
        dialog.open()

    def submit(self) -> None:
        patient = self.picker.patient
        if patient is None:
            self.form.set_error("patient", "Choose the patient first.")
            self.picker.setFocus()
            return
        self.add_button.setEnabled(False)
        self.message.hide()
        self.ctx.tasks.submit(
            self.ctx.session.queue.add_walk_in,
            self.ctx.actor,
            patient.id,
            self.priority.currentData(),
            self.doctor.currentData(),
            self.note.text(),
            on_result=self._queued,
            on_error=self._refused,
            owner=self,
        )

    def _queued(self, view: QueueView) -> None:
        self.add_button.setEnabled(True)
        self.accept()
        self.queued.emit(view)

    def _refused(self, error: BaseException) -> None:
        self.add_button.setEnabled(True)
        self.message.setText(describe(error))
        self.message.show()

"""Adding a walk-in to today's queue; a new patient can be registered from here (Ctrl+N).

By keyboard: type the name, Enter takes the first match (or Ctrl+N registers them), choose the
priority and doctor with the arrow keys, Enter queues them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.permissions import P
from clinicdesk.services.patients import PatientRecord
from clinicdesk.services.queue import PRIORITIES, QueueView
from ui.context import AppContext
from ui.frontdesk.patient_dialog import PatientDialog
from ui.frontdesk.patient_picker import PatientPicker
from ui.frontdesk.schedule_data import Directory
from ui.widgets.form_dialog import FormDialog


class WalkInDialog(FormDialog):
    """Emits ``submitted(QueueView)`` once the patient is in the queue."""

    def __init__(
        self,
        ctx: AppContext,
        directory: Directory,
        patient: PatientRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Add a walk-in", "Add to queue", parent, min_width=560)
        self.heading.setText("Add a walk-in to today's queue")
        self.register_dialog: PatientDialog | None = None
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
        if can_register:
            self.register_button = self.add_action("New patient…", self.register_patient)
            self.register_button.setToolTip("Register a new patient (Ctrl+N)")
            shortcut = QShortcut(QKeySequence("Ctrl+N"), self)
            shortcut.activated.connect(self.register_patient)
        self.finish_layout()

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

    def call(self) -> Callable[[], QueueView]:
        patient = self.picker.patient
        if patient is None:
            raise ValidationError({"patient": "Choose the patient first."})
        return partial(
            self.ctx.session.queue.add_walk_in,
            self.ctx.actor,
            patient.id,
            self.priority.currentData(),
            self.doctor.currentData(),
            self.note.text(),
        )

"""Registering a new patient or editing one: every field, errors shown under each field."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.services.patients import (
    SEXES,
    PatientInput,
    PatientRecord,
    PossibleDuplicate,
    age_text,
    validate,
)
from ui.context import AppContext
from ui.frontdesk.duplicates import DuplicatesDialog
from ui.widgets.date_field import DateField
from ui.widgets.dates import format_day
from ui.widgets.form_dialog import FormDialog


class PatientDialog(FormDialog):
    """Emits ``submitted(record)`` after a save, or ``use_existing(record)`` when staff pick a
    likely duplicate instead of registering again."""

    use_existing = Signal(object)

    def __init__(
        self, ctx: AppContext, patient: PatientRecord | None = None, parent: QWidget | None = None
    ) -> None:
        editing = patient is not None
        super().__init__(
            ctx,
            f"Edit {patient.full_name}" if editing else "Register a new patient",
            "Save changes" if editing else "Register patient",
            parent,
            min_width=760,
        )
        self.patient = patient
        self.duplicates: DuplicatesDialog | None = None
        self._not_a_duplicate = False
        self.heading.setText(f"{patient.full_name} · {patient.mrn}" if editing else "New patient")

        f = self.form
        self.given_name = QLineEdit()
        self.family_name = QLineEdit()
        self.date_of_birth = DateField()
        self.sex = QComboBox()
        self.sex.addItem("Choose…", "")
        for key, label in SEXES.items():
            self.sex.addItem(label, key)
        self.phone = QLineEdit()
        self.email = QLineEdit()
        self.address = QLineEdit()
        self.national_id = QLineEdit()
        self.emergency_contact_name = QLineEdit()
        self.emergency_contact_phone = QLineEdit()
        f.add("given_name", "&Given name *", self.given_name, 0, 0)
        f.add("family_name", "&Family name *", self.family_name, 0, 1)
        f.add("date_of_birth", "Date of &birth *", self.date_of_birth, 1, 0, hint=" ")
        f.add("sex", "&Sex *", self.sex, 1, 1)
        f.add("phone", "&Phone", self.phone, 2, 0)
        f.add("email", "E&mail", self.email, 2, 1)
        f.add("address", "&Address", self.address, 3, 0, 2)
        f.add("national_id", "National &ID", self.national_id, 4, 0)
        f.add("emergency_contact_name", "Emergency &contact", self.emergency_contact_name, 5, 0)
        f.add(
            "emergency_contact_phone",
            "Emergency contact p&hone",
            self.emergency_contact_phone,
            5,
            1,
        )
        self.dob_hint = self.form.fields["date_of_birth"].hint
        self.date_of_birth.textChanged.connect(self._update_dob_hint)
        self.save.setToolTip("Save (Enter)")
        self.finish_layout()
        QWidget.setTabOrder(self.emergency_contact_phone, self.save)
        QWidget.setTabOrder(self.save, self.cancel_button)

        if patient is not None:
            self._fill(patient)
        self._initial = self._raw()
        self._update_dob_hint()
        self.given_name.setFocus()

    def _fill(self, p: PatientRecord) -> None:
        self.given_name.setText(p.given_name)
        self.family_name.setText(p.family_name)
        self.date_of_birth.setText(format_day(p.date_of_birth))
        self.sex.setCurrentIndex(max(self.sex.findData(p.sex), 0))
        for name in (
            "phone",
            "email",
            "address",
            "national_id",
            "emergency_contact_name",
            "emergency_contact_phone",
        ):
            getattr(self, name).setText(getattr(p, name))

    def _raw(self) -> tuple[str, ...]:
        fields = self.form.fields.values()
        texts = [f.widget.text() for f in fields if isinstance(f.widget, QLineEdit)]
        return (*texts, self.sex.currentData())

    def is_modified(self) -> bool:
        return self._raw() != self._initial

    def _update_dob_hint(self) -> None:
        day = self.date_of_birth.value()
        self.dob_hint.setText(
            self.date_of_birth.spelled_out(age_text(day, self.ctx.clinic_today()))
        )

    def patient_input(self) -> PatientInput:
        return PatientInput(
            given_name=self.given_name.text(),
            family_name=self.family_name.text(),
            date_of_birth=self.date_of_birth.value(),
            sex=self.sex.currentData() or "",
            phone=self.phone.text(),
            email=self.email.text(),
            address=self.address.text(),
            national_id=self.national_id.text(),
            emergency_contact_name=self.emergency_contact_name.text(),
            emergency_contact_phone=self.emergency_contact_phone.text(),
        )

    def _check(self, data: PatientInput) -> dict[str, str]:
        """The same field checks the service makes, at once, plus whether the date parsed."""
        problems: dict[str, str] = {}
        try:
            validate(data, self.ctx.clinic_today())
        except ValidationError as exc:
            problems.update(exc.fields)
        if problem := self.date_of_birth.problem():
            problems["date_of_birth"] = problem
        if not data.sex:
            problems["sex"] = "is required"
        return problems

    def call(self) -> Callable[[], PatientRecord]:
        data = self.patient_input()
        if problems := self._check(data):
            raise ValidationError(problems)
        service, actor = self.ctx.session.patients, self.ctx.actor
        if self.patient is None:
            return partial(service.register, actor, data, not_a_duplicate=self._not_a_duplicate)
        return partial(service.update, actor, self.patient.id, data, self.patient.version)

    def accept(self) -> None:
        self._initial = self._raw()  # saved: nothing left to discard
        super().accept()

    def refused(self, error: BaseException) -> None:
        if isinstance(error, PossibleDuplicate):
            self._ask_about_duplicates(error)
            return
        super().refused(error)
        self.adjustSize()  # make room for the messages

    def _ask_about_duplicates(self, error: PossibleDuplicate) -> None:
        dialog = DuplicatesDialog(error.candidates, self.ctx.clinic_today(), self)
        dialog.use_existing.connect(self._use_existing)
        dialog.register_anyway.connect(self._register_anyway)
        self.duplicates = dialog
        dialog.open()

    def _register_anyway(self) -> None:
        self._not_a_duplicate = True
        self.submit()

    def _use_existing(self, record: PatientRecord) -> None:
        self.accept()
        self.use_existing.emit(record)

    def reject(self) -> None:
        if self.is_modified():
            answer = QMessageBox.question(
                self,
                "Discard changes?",
                "You have typed details that are not saved. Discard them?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()

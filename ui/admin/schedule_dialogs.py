"""Dialogs of the schedule screen: add a service, make a doctor profile."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.money import parse_amount
from clinicdesk.services.schedule_setup import DoctorInfo, ServiceInfo
from clinicdesk.services.users import UserInfo
from ui.admin.doctor_fields import DoctorFields
from ui.context import AppContext
from ui.widgets.form_dialog import FormDialog


def _minutes(value: int, maximum: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, maximum)
    box.setSingleStep(5)
    box.setValue(value)
    box.setSuffix(" min")
    return box


class AddServiceDialog(FormDialog):
    """Name, duration, buffer time after it and fee of a service the clinic offers."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Add service", "Add service", parent)
        self.name = QLineEdit(placeholderText="e.g. Consultation")
        self.duration = _minutes(20, 480)
        self.buffer = _minutes(5, 120)
        self.fee = QLineEdit(placeholderText="e.g. 45.00")
        self.form.add("name", "&Name *", self.name, 0, 0, 2)
        self.form.add("duration", "&Duration *", self.duration, 1, 0)
        self.form.add(
            "buffer", "&Buffer after *", self.buffer, 1, 1, hint="Time kept free after it."
        )
        self.form.add("fee", f"&Fee ({ctx.details.currency}) *", self.fee, 2, 0)
        self.finish_layout()

    def call(self) -> Callable[[], ServiceInfo]:
        fee = parse_amount(self.fee.text())
        if fee is None:
            raise ValidationError({"fee": "must be an amount such as 45.00"})
        return partial(
            self.ctx.session.schedule.add_service,
            self.ctx.actor,
            self.name.text(),
            self.duration.value(),
            self.buffer.value(),
            fee,
        )


class DoctorProfileDialog(FormDialog):
    """A profile for a doctor's account that has none (its role given after it was made)."""

    def __init__(
        self,
        ctx: AppContext,
        accounts: list[UserInfo],
        specializations: list[tuple[str, str]],
        services: list[ServiceInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Make doctor profile", "Make profile", parent)
        self.account = QComboBox()
        for user in accounts:
            self.account.addItem(user.display_name, user.id)
        self.form.add("user", "&Doctor account *", self.account, 0, 0, 2)
        self.doctor = DoctorFields(self.form, 1, specializations, services)
        self.finish_layout()

    def call(self) -> Callable[[], DoctorInfo]:
        if self.account.currentData() is None:
            raise ValidationError({"user": "must be an account with the doctor role"})
        return partial(
            self.ctx.session.schedule.make_profile,
            self.ctx.actor,
            self.account.currentData(),
            self.doctor.details(),
        )

"""Dialogs of the schedule screen: a service, a doctor profile, a holiday, leave, an absence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial

from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.money import parse_amount
from clinicdesk.services.schedule_setup import DoctorInfo, ServiceInfo
from clinicdesk.services.users import UserInfo
from ui.admin.doctor_fields import DoctorFields
from ui.context import AppContext
from ui.theme import set_kind
from ui.widgets.count_box import CountBox
from ui.widgets.date_field import DateField
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


def _days(fields: dict[str, DateField]) -> list[date]:
    """The typed days, or a ValidationError naming each one that is not a date."""
    problems = {
        name: f.problem() or "must be a date (dd/mm/yyyy)"
        for name, f in fields.items()
        if not f.value()
    }
    if problems:
        raise ValidationError(problems)
    return [f.value() for f in fields.values()]


class HolidayDialog(FormDialog):
    """A day the clinic is closed; its bookings are flagged for reception. The result is how
    many bookings no longer fit."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Add clinic holiday", "Add holiday", parent, min_width=420)
        self.day = DateField()
        self.name = QLineEdit(placeholderText="e.g. Christmas Day")
        self.form.add("day", "Holiday &date *", self.day, 0, 0)
        self.form.add("name", "&Name *", self.name, 0, 1)
        self.finish_layout()

    def call(self) -> Callable[[], int]:
        (day,) = _days({"day": self.day})
        return partial(self.ctx.session.schedule.add_holiday, self.ctx.actor, day, self.name.text())


class LeaveDialog(FormDialog):
    """Days a doctor is away, first to last."""

    def __init__(self, ctx: AppContext, doctor: DoctorInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Leave of {doctor.name}", "Add leave", parent)
        self.doctor = doctor
        self.first = DateField()
        self.last = DateField()
        self.reason = QLineEdit(placeholderText="e.g. Annual leave")
        self.form.add("first_day", "&From *", self.first, 0, 0)
        self.form.add("last_day", "&To *", self.last, 0, 1)
        self.form.add("reason", "&Reason", self.reason, 1, 0, 2)
        self.finish_layout()

    def call(self) -> Callable[[], int]:
        first, last = _days({"first_day": self.first, "last_day": self.last})
        return partial(
            self.ctx.session.schedule.add_leave,
            self.ctx.actor,
            self.doctor.id,
            first,
            last,
            self.reason.text(),
        )


class AbsenceDialog(FormDialog):
    """The doctor is unavailable from now for a number of hours (called to an emergency)."""

    def __init__(self, ctx: AppContext, doctor: DoctorInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"{doctor.name} unavailable from now", "Unavailable from now", parent)
        set_kind(self.save, "danger")
        self.doctor = doctor
        self.hours = CountBox("hour", 1, 72, 4)
        self.reason = QLineEdit(placeholderText="e.g. Called to an emergency")
        self.form.add("ends_at", "&For *", self.hours, 0, 0)
        self.form.add("reason", "&Reason", self.reason, 0, 1)
        self.finish_layout()

    def call(self) -> Callable[[], int]:
        starts_at = datetime.now(UTC)
        return partial(
            self.ctx.session.schedule.add_absence,
            self.ctx.actor,
            self.doctor.id,
            starts_at,
            starts_at + timedelta(hours=self.hours.value()),
            self.reason.text(),
        )

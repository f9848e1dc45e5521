"""Dialogs of the schedule screen: add a service, make a doctor profile."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLineEdit, QSpinBox, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.money import parse_amount
from clinicdesk.services.schedule_setup import DoctorInfo, ServiceInfo
from clinicdesk.services.users import UserInfo
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
    """A profile for a doctor's account: specialization, licence, room, languages, services.

    A specialization typed under "or a new one" is added first and then used.
    """

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
        self.specialization = QComboBox()
        for spec_id, name in specializations:
            self.specialization.addItem(name, spec_id)
        self.new_specialization = QLineEdit(placeholderText="e.g. Paediatrics")
        self.licence = QLineEdit(placeholderText="e.g. GMC 7012345")
        self.room = QLineEdit(placeholderText="e.g. Room 2")
        self.languages = QLineEdit(placeholderText="e.g. English, Spanish")
        self.service_boxes: dict[str, QCheckBox] = {}
        boxes = QWidget()
        grid = QGridLayout(boxes)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, service in enumerate(services):
            box = QCheckBox(service.name)
            grid.addWidget(box, i // 2, i % 2)
            self.service_boxes[service.id] = box
        self.form.add("user", "&Doctor account *", self.account, 0, 0, 2)
        self.form.add("specialization", "&Specialization", self.specialization, 1, 0)
        self.form.add("new_specialization", "or a ne&w one", self.new_specialization, 1, 1)
        self.form.add("licence_number", "&Licence number *", self.licence, 2, 0)
        self.form.add("room", "&Room", self.room, 2, 1)
        self.form.add(
            "languages", "Lan&guages", self.languages, 3, 0, 2, hint="Separated by commas."
        )
        self.form.add("services", "Services offered *", boxes, 4, 0, 2)
        self.finish_layout()

    def chosen_services(self) -> set[str]:
        return {sid for sid, box in self.service_boxes.items() if box.isChecked()}

    def call(self) -> Callable[[], DoctorInfo]:
        schedule, actor = self.ctx.session.schedule, self.ctx.actor
        new = self.new_specialization.text().strip()
        spec_id = self.specialization.currentData()
        if not new and spec_id is None:
            raise ValidationError({"specialization": "is required: pick one or type a new one"})
        if self.account.currentData() is None:
            raise ValidationError({"user": "must be an account with the doctor role"})
        languages = tuple(x.strip() for x in self.languages.text().split(",") if x.strip())
        services = self.chosen_services()
        problems = {  # checked before a new specialization is added, so a refusal changes nothing
            "licence_number": None if self.licence.text().strip() else "is required",
            "services": None if services else "choose at least one service",
        }
        if problems := {k: v for k, v in problems.items() if v}:
            raise ValidationError(problems)
        user_id, licence, room = self.account.currentData(), self.licence.text(), self.room.text()

        def save() -> DoctorInfo:
            chosen = schedule.add_specialization(actor, new) if new else spec_id
            return schedule.make_doctor(
                actor, user_id, chosen, licence, services, languages, room=room
            )

        return save

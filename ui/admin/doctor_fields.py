"""The fields of a doctor's profile, shared by Create user (when Doctor is ticked) and the
schedule screen's "Make doctor profile"."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QLineEdit, QWidget

from clinicdesk.services.doctor_profiles import DoctorDetails
from clinicdesk.services.schedule_setup import ServiceInfo
from ui.widgets.forms import FieldForm

DOCTOR_FIELDS = [
    "specialization",
    "new_specialization",
    "licence_number",
    "room",
    "languages",
    "services",
]


class DoctorFields:
    def __init__(
        self,
        form: FieldForm,
        first_row: int,
        specializations: list[tuple[str, str]],
        services: list[ServiceInfo],
    ) -> None:
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
        if not services:
            grid.addWidget(QLabel("The clinic offers no services yet: add them under Schedule."))
        row = first_row
        form.add("specialization", "&Specialization *", self.specialization, row, 0)
        form.add("new_specialization", "or a ne&w one", self.new_specialization, row, 1)
        form.add("licence_number", "&Licence number *", self.licence, row + 1, 0)
        form.add("room", "&Room", self.room, row + 1, 1)
        form.add(
            "languages", "Lan&guages", self.languages, row + 2, 0, 2, hint="Separated by commas."
        )
        form.add("services", "Services offered *", boxes, row + 3, 0, 2)

    def details(self) -> DoctorDetails:
        return DoctorDetails(
            self.licence.text(),
            frozenset(sid for sid, box in self.service_boxes.items() if box.isChecked()),
            self.specialization.currentData(),
            self.new_specialization.text(),
            tuple(x.strip() for x in self.languages.text().split(",") if x.strip()),
            self.room.text(),
        )

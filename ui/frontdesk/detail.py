"""The opened patient: every field, with Edit and History."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.patients import SEXES, PatientRecord
from ui.frontdesk.schedule_data import local_now, zone_of
from ui.theme import icon, set_kind
from ui.widgets.dates import format_day, format_moment
from ui.widgets.empty_state import EmptyState

SECTIONS = (
    ("IDENTITY", (("Date of birth", "dob"), ("Sex", "sex"), ("National ID", "national_id"))),
    ("CONTACT", (("Phone", "phone"), ("Email", "email"), ("Address", "address"))),
    (
        "EMERGENCY CONTACT",
        (("Name", "emergency_contact_name"), ("Phone", "emergency_contact_phone")),
    ),
)


class PatientDetail(QFrame):
    edit_requested = Signal()
    history_requested = Signal()
    new_requested = Signal()

    def __init__(self, time_zone: str, can_edit: bool) -> None:
        super().__init__(objectName="DetailPanel")
        self.time_zone = time_zone
        self.patient: PatientRecord | None = None
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self._empty_page(can_edit))
        self._stack.addWidget(self._record_page(can_edit))

    def _empty_page(self, can_edit: bool) -> QWidget:
        page = EmptyState(
            "frontdesk",
            "Find a patient by name, phone, date of birth or MRN, "
            "then press Enter to open their record.",
        )
        if can_edit:
            new = QPushButton(icon("plus"), "Register a new patient")
            new.setToolTip("Register a new patient (Ctrl+N)")
            new.clicked.connect(self.new_requested)
            page.add(new)
        return page

    def _record_page(self, can_edit: bool) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(24, 20, 24, 18)
        box.setSpacing(6)
        self.name = QLabel()
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_kind(self.name, "title")
        box.addWidget(self.name)
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_kind(self.summary, "subtitle")
        box.addWidget(self.summary)

        actions = QHBoxLayout()
        self.edit_button = QPushButton(icon("edit"), "Edit")
        self.edit_button.setToolTip("Edit this patient's details (Ctrl+E)")
        self.edit_button.clicked.connect(self.edit_requested)
        self.edit_button.setVisible(can_edit)
        self.history_button = QPushButton(icon("history"), "History")
        self.history_button.setToolTip("Every change to this record: who, when, what")
        self.history_button.clicked.connect(self.history_requested)
        actions.addWidget(self.edit_button)
        actions.addWidget(self.history_button)
        actions.addStretch(1)
        box.addSpacing(6)
        box.addLayout(actions)
        box.addSpacing(8)

        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        self.values: dict[str, QLabel] = {}
        row = 0
        for section, entries in SECTIONS:
            heading = QLabel(section)
            set_kind(heading, "section")
            grid.addWidget(heading, row, 0, 1, 2)
            row += 1
            for label, key in entries:
                name = QLabel(label)
                set_kind(name, "muted")
                value = QLabel()
                value.setWordWrap(True)
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                name.setBuddy(value)
                grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
                grid.addWidget(value, row, 1)
                self.values[key] = value
                row += 1
        box.addLayout(grid)
        box.addStretch(1)
        self.footer = QLabel()
        set_kind(self.footer, "hint")
        self.footer.setWordWrap(True)
        box.addWidget(self.footer)
        return page

    def show_patient(self, p: PatientRecord | None) -> None:
        self.patient = p
        if p is None:
            self._stack.setCurrentIndex(0)
            return
        sex = SEXES.get(p.sex, p.sex)
        age = p.age_text(local_now(zone_of(self.time_zone)).date())
        self.name.setText(p.full_name)
        self.summary.setText(" · ".join(x for x in (p.mrn, age, sex) if x))
        shown = {key: getattr(p, key, "") for key in self.values}
        shown.update(dob=format_day(p.date_of_birth), sex=sex)
        for key, label in self.values.items():
            text = shown.get(key) or "—"
            label.setText(text)
        registered = format_moment(p.created_at, self.time_zone)
        changed = format_moment(p.updated_at, self.time_zone)
        self.footer.setText(
            f"Registered {registered}"
            + (f" · last changed {changed} (version {p.version})" if p.version > 1 else "")
        )
        self._stack.setCurrentIndex(1)

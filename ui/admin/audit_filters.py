"""The audit log's filter bar: person, patient, action and days; Enter anywhere in it applies."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.services.audit_log import AuditFilter, Person
from clinicdesk.services.audit_words import ACTION_WORDS
from ui.widgets.dates import DATE_HINT, day_problem, parse_day


class AuditFilters(QWidget):
    applied = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.person = QComboBox()
        self.person.setAccessibleName("Person")
        self.person.addItem("Everyone", None)
        self.patient = QLineEdit()
        self.patient.setPlaceholderText("name or MRN")
        self.patient.setAccessibleName("Patient")
        self.action = QComboBox()
        self.action.setAccessibleName("Action")
        self.action.addItem("Any action", None)
        for action, words in sorted(ACTION_WORDS.items(), key=lambda item: item[1]):
            self.action.addItem(words, action)
        self.since = QLineEdit()
        self.until = QLineEdit()
        for field, name in ((self.since, "From"), (self.until, "To")):
            field.setPlaceholderText(DATE_HINT)
            field.setAccessibleName(f"{name} ({DATE_HINT})")
            field.setMaximumWidth(110)
        for combo in (self.person, self.action):  # long names must not widen the window
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(6)
        self.apply_button = QPushButton("&Show")
        self.apply_button.setToolTip("Show the entries that match (Enter)")
        self.apply_button.clicked.connect(self.applied)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for text, field, stretch in (
            ("&Person:", self.person, 1),
            ("Pa&tient:", self.patient, 1),
            ("&Action:", self.action, 2),
            ("&From:", self.since, 0),
            ("T&o:", self.until, 0),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            row.addWidget(label)
            row.addWidget(field, stretch)
        row.addWidget(self.apply_button)
        for keys in ("Return", "Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.applied)

    def set_people(self, people: list[Person]) -> None:
        chosen = self.person.currentData()
        self.person.clear()
        self.person.addItem("Everyone", None)
        for p in people:
            self.person.addItem(p.name, p.user_id)
        self.person.setCurrentIndex(max(0, self.person.findData(chosen)))

    def value(self) -> AuditFilter:
        """What the bar says; a day that is not a date is refused in words."""
        days: dict[str, date | None] = {}
        problems = {}
        for key, name, field in (("since", "from", self.since), ("until", "to", self.until)):
            text = field.text().strip()
            days[key] = parse_day(text) if text else None
            if problem := day_problem(text):
                problems[name] = f"{text!r} {problem}"
        if problems:
            raise ValidationError(problems)
        return AuditFilter(
            person_id=self.person.currentData(),
            patient=self.patient.text().strip(),
            action=self.action.currentData(),
            **days,
        )

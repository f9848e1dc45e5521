"""Adding or changing one chart entry, for any section: the form is built from SECTIONS.

Each field's kind follows its name: severity and status are choices, onset/resolved/performed
dates are typed dd/mm/yyyy, the time vitals were taken is dd/mm/yyyy hh:mm (clinic time), vital
signs are numbers, the rest is text. Reasons from the service appear under their fields.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.services.chart import ChartEntry
from clinicdesk.services.chart_sections import (
    CONDITION_STATUSES,
    SECTIONS,
    SEVERITIES,
    VITAL_RANGES,
)
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.schedule_data import zone_of
from ui.theme import set_kind
from ui.widgets.dates import DATE_HINT, day_problem, format_day, parse_day
from ui.widgets.dialogs import titled_layout
from ui.widgets.forms import FieldForm

CHOICES: dict[str, dict[str, str]] = {"severity": SEVERITIES, "status": CONDITION_STATUSES}
DATES = frozenset({"onset", "resolved_on", "performed_on"})
MOMENT = "taken_at"
MOMENT_HINT = f"{DATE_HINT} hh:mm"


class BadInput(Exception):
    """A field that cannot even be sent (not a date): shown like the service's reasons."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(problems)
        self.problems = problems


def shown(name: str, value: Any, zone) -> str:
    """A stored value as the chart shows it."""
    if value is None or value == "":
        return ""
    if name in CHOICES:
        return CHOICES[name].get(value, value)
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return format_day(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_moment(text: str, zone) -> datetime | None:
    """'12/03/2026 09:30' in the clinic's time zone; None if it is not one."""
    day_part, _, clock = text.strip().partition(" ")
    day = parse_day(day_part)
    if day is None:
        return None
    try:
        at = time.fromisoformat(clock.strip() or "00:00")
    except ValueError:
        return None
    return datetime.combine(day, at, zone)


class ChartEntryDialog(QDialog):
    saved = Signal(object)  # ChartEntry

    def __init__(
        self,
        ctx: AppContext,
        patient_id: str,
        section: str,
        entry: ChartEntry | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id = patient_id
        self.section = SECTIONS[section]
        self.entry = entry
        self.zone = zone_of(ctx.details.time_zone)
        noun = self.section.title.lower()
        if entry or self.section.one_per_patient:
            title = f"Edit {noun}"
        else:
            title = "Record vital signs" if section == "vitals" else f"Add to {noun}"
        self.setWindowTitle(title)
        layout, _heading = titled_layout(self, title)
        columns = 2 if self.section.key == "vitals" else 1
        self.form = FieldForm(self, columns=columns)
        self.inputs: dict[str, QWidget] = {}
        self._build(columns)
        layout.addWidget(self.form)
        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520 if columns == 2 else 420)

    def _build(self, columns: int) -> None:
        values = self.entry.values if self.entry else {}
        row = col = 0
        for name, label in self.section.labels.items():
            widget = self._input(name, values.get(name))
            wide = columns == 2 and name not in VITAL_RANGES
            if wide and col:
                row, col = row + 1, 0
            hint = MOMENT_HINT if name == MOMENT else DATE_HINT if name in DATES else None
            self.form.add(name, label, widget, row, col, span=columns if wide else 1, hint=hint)
            self.inputs[name] = widget
            col = 0 if wide else col + 1
            if wide or col >= columns:
                row, col = row + 1, 0

    def _input(self, name: str, value: Any) -> QWidget:
        if name in CHOICES:
            box = QComboBox()
            if name == "severity":
                box.addItem("Choose…", "")
            for key, label in CHOICES[name].items():
                box.addItem(label, key)
            if value:
                box.setCurrentIndex(max(box.findData(value), 0))
            return box
        edit = QLineEdit()
        if name == MOMENT:
            moment = value or datetime.now(self.zone)
            edit.setText(shown(name, moment, self.zone))
        else:
            edit.setText(shown(name, value, self.zone))
        return edit

    def values(self) -> dict[str, Any]:
        """What was typed, as the service takes it; BadInput for a date that is not one."""
        out: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QComboBox):
                out[name] = widget.currentData()
                continue
            text = widget.text().strip()
            if name in DATES:
                out[name] = parse_day(text) if text else None
                if problem := day_problem(text):
                    problems[name] = problem
            elif name == MOMENT:
                out[name] = parse_moment(text, self.zone) if text else None
                if out[name] is None:
                    problems[name] = f"must be a date and time ({MOMENT_HINT})"
            else:
                out[name] = text
        if problems:
            raise BadInput(problems)
        return out

    def save(self) -> None:
        self.message.hide()
        try:
            values = self.values()
        except BadInput as bad:
            self.form.show_errors(bad.problems)
            return
        self.form.clear_errors()
        chart, actor, key = self.ctx.session.chart, self.ctx.actor, self.section.key
        if self.section.one_per_patient:
            call = (chart.set_lifestyle, actor, self.patient_id, values)
        elif self.entry is not None:
            call = (chart.update, actor, key, self.entry.id, self.entry.version, values)
        else:
            call = (chart.add, actor, self.patient_id, key, values)
        self.buttons.setEnabled(False)
        self.ctx.tasks.submit(*call, on_result=self._saved, on_error=self._failed, owner=self)

    def _saved(self, entry: ChartEntry) -> None:
        self.saved.emit(entry)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        rest = error.fields if isinstance(error, ValidationError) else {}
        if rest:
            rest = self.form.show_errors(rest)
        if not isinstance(error, ValidationError) or rest:
            self.message.setText(describe(error))
            self.message.show()

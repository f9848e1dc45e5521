"""Adding or changing one chart entry, for any section: the form is built from SECTIONS.

Each field's kind follows its name: severity and status are choices, onset/resolved/performed
dates are typed dd/mm/yyyy, the time vitals were taken is dd/mm/yyyy hh:mm (clinic time), vital
signs are numbers, the rest is text. Reasons from the service appear under their fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from functools import partial
from typing import Any

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.services.chart import ChartEntry
from clinicdesk.services.chart_sections import (
    CONDITION_STATUSES,
    SECTIONS,
    SEVERITIES,
    VITAL_RANGES,
)
from ui.context import AppContext
from ui.frontdesk.schedule_data import zone_of
from ui.widgets.dates import DATE_HINT, day_problem, format_day, parse_day
from ui.widgets.form_dialog import FormDialog

CHOICES: dict[str, dict[str, str]] = {"severity": SEVERITIES, "status": CONDITION_STATUSES}
DATES = frozenset({"onset", "resolved_on", "performed_on"})
MOMENT = "taken_at"
MOMENT_HINT = f"{DATE_HINT} hh:mm"


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


class ChartEntryDialog(FormDialog):
    """Saves the entry; ``submitted`` carries the ChartEntry."""

    def __init__(
        self,
        ctx: AppContext,
        patient_id: str,
        section: str,
        entry: ChartEntry | None,
        parent: QWidget | None = None,
    ) -> None:
        kind = SECTIONS[section]
        noun = kind.title.lower()
        if entry or kind.one_per_patient:
            title = f"Edit {noun}"
        else:
            title = "Record vital signs" if section == "vitals" else f"Add to {noun}"
        columns = 2 if section == "vitals" else 1
        super().__init__(
            ctx, title, "Save", parent, columns=columns, min_width=520 if columns == 2 else 420
        )
        self.patient_id = patient_id
        self.section = kind
        self.entry = entry
        self.zone = zone_of(ctx.details.time_zone)
        self.inputs: dict[str, QWidget] = {}
        self._build(columns)
        self.finish_layout()

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
        """What was typed, as the service takes it; ValidationError for a date that is not
        one."""
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
            raise ValidationError(problems)
        return out

    def call(self) -> Callable[[], ChartEntry]:
        values = self.values()
        chart, actor, key = self.ctx.session.chart, self.ctx.actor, self.section.key
        if self.section.one_per_patient:
            return partial(chart.set_lifestyle, actor, self.patient_id, values)
        if self.entry is not None:
            return partial(chart.update, actor, key, self.entry.id, self.entry.version, values)
        return partial(chart.add, actor, self.patient_id, key, values)

"""A doctor's weekly visiting hours as editable rows: weekday, from, to.

The screen loads the doctor's current week (ScheduleSetup.hours) into it; saving replaces the
whole week (ScheduleSetup.set_hours).
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.schedule_setup import WEEKDAYS, HoursInput, clock
from ui.theme import set_invalid, set_kind

_TIME = re.compile(r"^\s*(\d{1,2})[:.]?(\d{2})\s*$")


def parse_clock(text: str) -> int | None:
    """'9:00', '09.30' or '0930' -> minutes after midnight; None if it is not a time of day."""
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


class HoursRow(QWidget):
    """One window: a weekday, a start and an end time, the services it is for (all, unless some
    are ticked), and a button that removes the row."""

    removed = Signal(object)
    edited = Signal()

    def __init__(
        self, window: HoursInput | None = None, services: list[tuple[str, str]] = ()
    ) -> None:
        super().__init__()
        self.services = QToolButton()
        self.services.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.services.setAccessibleName("Services in these hours")
        self.services.setMinimumWidth(120)
        self.services.setToolTip("Limit these hours to some services (none ticked: all of them)")
        menu = QMenu(self.services)
        limited = window.service_ids if window is not None else frozenset()
        self.service_actions: dict[str, QAction] = {}
        for service_id, name in services:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(service_id in limited)
            action.toggled.connect(self._label_services)
            action.triggered.connect(self.edited)
            self.service_actions[service_id] = action
        self.services.setMenu(menu)
        self._label_services()
        self.weekday = QComboBox()
        self.weekday.addItems(WEEKDAYS)
        self.weekday.setAccessibleName("Weekday")
        self.start = QLineEdit(placeholderText="09:00")
        self.start.setAccessibleName("From")
        self.end = QLineEdit(placeholderText="12:30")
        self.end.setAccessibleName("To")
        for edit in (self.start, self.end):
            edit.setMaxLength(5)
            edit.setFixedWidth(80)
        if window is not None:
            self.weekday.setCurrentIndex(window.weekday)
            self.start.setText(clock(window.start_minute))
            self.end.setText(clock(window.end_minute))
        self.weekday.activated.connect(self.edited)
        for edit in (self.start, self.end):
            edit.textEdited.connect(self.edited)
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setToolTip("Remove these hours")
        self.remove_button.setAccessibleName("Remove these hours")
        self.remove_button.clicked.connect(lambda: self.removed.emit(self))
        line = QHBoxLayout(self)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.weekday)
        line.addWidget(QLabel("from"))
        line.addWidget(self.start)
        line.addWidget(QLabel("to"))
        line.addWidget(self.end)
        line.addWidget(self.services)
        line.addWidget(self.remove_button)
        line.addStretch(1)

    def service_ids(self) -> frozenset[str]:
        """The ticked services; none ticked means every service the doctor offers."""
        return frozenset(i for i, a in self.service_actions.items() if a.isChecked())

    def _label_services(self, *_args) -> None:
        ticked = [a.text() for a in self.service_actions.values() if a.isChecked()]
        self.services.setText(", ".join(ticked) if ticked else "All services")

    def mark(self, bad: bool) -> None:
        for edit in (self.start, self.end):
            set_invalid(edit, bad)


class HoursEditor(QWidget):
    """Rows of weekly hours; ``windows()`` reads them or raises ValueError with a sentence.

    ``edited`` is emitted when the user changes them (not when ``set_windows`` loads them)."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[HoursRow] = []
        self.services: list[tuple[str, str]] = []  # the doctor's services: (id, name)
        self.rows_box = QVBoxLayout()
        self.rows_box.setSpacing(6)
        self.add_button = QPushButton("Add hours")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._add_by_hand)
        self.error = QLabel()
        set_kind(self.error, "fieldError")
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Hours error")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.rows_box)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)

    def _add_by_hand(self) -> None:
        self.add_row().start.setFocus()
        self.edited.emit()

    def add_row(self, window: HoursInput | None = None) -> HoursRow:
        if window is None and self.rows:  # the next row starts as a copy of the last one's day
            last = self.rows[-1]
            row = HoursRow(services=self.services)
            row.weekday.setCurrentIndex(last.weekday.currentIndex())
        else:
            row = HoursRow(window, self.services)
        row.removed.connect(self._remove_by_hand)
        row.edited.connect(self.edited)
        self.rows.append(row)
        self.rows_box.addWidget(row)
        return row

    def _remove_by_hand(self, row: HoursRow) -> None:
        self.remove_row(row)
        self.edited.emit()

    def remove_row(self, row: HoursRow) -> None:
        self.rows.remove(row)
        row.hide()
        row.deleteLater()
        self.show_error(None)

    def set_windows(
        self, windows: list[HoursInput], services: list[tuple[str, str]] | None = None
    ) -> None:
        if services is not None:
            self.services = services
        for row in list(self.rows):
            self.remove_row(row)
        for window in windows:
            self.add_row(window)

    def windows(self) -> list[HoursInput]:
        """The rows as HoursInput; a row whose times cannot be read raises ValueError."""
        result = []
        for n, row in enumerate(self.rows, start=1):
            start, end = parse_clock(row.start.text()), parse_clock(row.end.text())
            if start is None or end is None:
                raise ValueError(f"Hours {n}: type the times as hh:mm, for example 09:00.")
            result.append(HoursInput(row.weekday.currentIndex(), start, end, row.service_ids()))
        return result

    def show_error(self, text: str | None, row_number: int | None = None) -> None:
        """A sentence under the rows; ``row_number`` (from 1) marks that row's times red."""
        self.error.setText(text or "")
        self.error.setVisible(bool(text))
        for n, row in enumerate(self.rows, start=1):
            row.mark(bool(text) and row_number == n)

    def show_problems(self, problems: dict[str, str]) -> None:
        """ValidationError.fields from set_hours: 'hours 2' -> that row, 'hours' -> the week."""
        for key, reason in problems.items():
            match = re.fullmatch(r"hours (\d+)", key)
            label = f"Hours {match.group(1)}" if match else "Hours"
            text = f"{label} {reason}" if not reason[:1].isupper() else reason
            self.show_error(text, int(match.group(1)) if match else None)
            return

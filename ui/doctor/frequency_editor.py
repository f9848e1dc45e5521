"""How often a dose is taken: n times a day, at fixed times, every n hours, or as needed.

One line: the kind, then a number or the times of day. The number accepts values that make no
sense (0, 99) so that the problem is shown in words as the doctor types, not silently clamped.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from clinicdesk.rx.payload import AS_NEEDED, EVERY_HOURS, FIXED_TIMES, PER_DAY, Frequency

KINDS = (
    (PER_DAY, "Times a day"),
    (FIXED_TIMES, "At fixed times"),
    (EVERY_HOURS, "Every N hours"),
    (AS_NEEDED, "As needed"),
)
# kind -> (words before the number, words after it, the usual number)
_NUMBER_WORDS = {
    PER_DAY: ("", "times a day", 3),
    EVERY_HOURS: ("every", "hours", 8),
    AS_NEEDED: ("at most", "a day (0: no limit)", 0),
}


def parse_times(text: str) -> tuple[str, ...]:
    """'8:00, 20:00' or '08:00 14:00' -> ('08:00', '20:00'); kept as typed otherwise."""
    parts = text.replace(",", " ").replace(";", " ").split()
    return tuple(f"0{p}" if len(p) == 4 and p[1] == ":" else p for p in parts)


class FrequencyEditor(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox()
        self.kind.setAccessibleName("How often")
        for kind, label in KINDS:
            self.kind.addItem(label, kind)
        self.before = QLabel()
        self.number = QSpinBox()
        self.number.setRange(0, 99)
        self.number.setAccessibleName("How many")
        self.after = QLabel()
        self.times = QLineEdit()
        self.times.setPlaceholderText("e.g. 08:00, 20:00")
        self.times.setAccessibleName("Times of day")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.kind)
        row.addWidget(self.before)
        row.addWidget(self.number)
        row.addWidget(self.after)
        row.addWidget(self.times, 1)
        row.addStretch(0)
        QWidget.setTabOrder(self.kind, self.number)
        QWidget.setTabOrder(self.number, self.times)
        self.setFocusProxy(self.kind)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.number.valueChanged.connect(self.changed)
        self.times.textEdited.connect(self.changed)
        self._kind_changed()

    def _kind_changed(self, *_args) -> None:
        kind = self.kind.currentData()
        words = _NUMBER_WORDS.get(kind)
        for widget in (self.before, self.number, self.after):
            widget.setVisible(words is not None)
        self.times.setVisible(kind == FIXED_TIMES)
        if words is not None:
            before, after, usual = words
            self.before.setText(before)
            self.before.setVisible(bool(before))
            self.after.setText(after)
            self.number.setValue(usual)
        self.changed.emit()

    def frequency(self) -> Frequency:
        kind = self.kind.currentData()
        if kind == FIXED_TIMES:
            return Frequency(kind, 0, parse_times(self.times.text()))
        return Frequency(kind, self.number.value())

    def set_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))

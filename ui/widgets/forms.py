"""Forms whose fields show their own error in red under the field.

``FieldForm`` lays fields out on a grid (label above the input, reason below it), keeps the tab
order in the order fields were added, and maps ``ValidationError.fields`` onto the fields. A
field's error goes away as soon as that field is edited, and ``edited`` tells the screen (so a
"saved" note that no longer describes the form can go too).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDateTimeEdit,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.theme import set_invalid, set_kind

_PREDICATES = ("is ", "are ", "must ", "may ", "has ", "does ", "should ", "contains ")


@dataclass
class Field:
    name: str
    label: str
    widget: QWidget
    error: QLabel
    title: QLabel
    hint: QLabel | None = None


def section(text: str) -> QLabel:
    """A heading over a part of a screen ("WEEKLY HOURS")."""
    label = QLabel(text)
    set_kind(label, "section")
    return label


def sentence(label: str, reason: str) -> str:
    """'Phone' + 'must have 6 digits' -> 'Phone must have 6 digits'."""
    if reason.startswith(_PREDICATES):
        return f"{label} {reason}"
    return reason[:1].upper() + reason[1:]


class FieldForm(QWidget):
    edited = Signal(str)  # the field's name, when the user changes it

    def __init__(self, parent: QWidget | None = None, columns: int = 1) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(10)
        for col in range(columns):
            self.grid.setColumnStretch(col, 1)
        self.fields: dict[str, Field] = {}
        self._order: list[QWidget] = []

    def add(
        self,
        name: str,
        label: str,
        widget: QWidget,
        row: int,
        col: int = 0,
        span: int = 1,
        hint: str | None = None,
    ) -> QWidget:
        cell = QVBoxLayout()
        cell.setSpacing(3)
        title = QLabel(label)
        title.setBuddy(widget)
        cell.addWidget(title)
        cell.addWidget(widget)
        note = None
        if hint is not None:
            note = QLabel(hint)
            set_kind(note, "hint")
            note.setWordWrap(True)
            cell.addWidget(note)
        error = QLabel()
        set_kind(error, "fieldError")
        error.setWordWrap(True)
        error.hide()
        cell.addWidget(error)
        cell.addStretch(1)
        self.grid.addLayout(cell, row, col, 1, span)
        plain = label.replace("&", "").rstrip(" *")
        self.fields[name] = Field(name, plain, widget, error, title, note)
        changed = {
            QLineEdit: "textEdited",
            QComboBox: "currentIndexChanged",
            QSpinBox: "valueChanged",
            QDateTimeEdit: "dateTimeChanged",
            QAbstractButton: "toggled",
        }
        for kind, signal in changed.items():
            if isinstance(widget, kind):
                getattr(widget, signal).connect(lambda *_args: self._edited(name))
                break
        if self._order:
            QWidget.setTabOrder(self._order[-1], widget)
        self._order.append(widget)
        return widget

    def _edited(self, name: str) -> None:
        self.set_error(name, None)
        self.edited.emit(name)

    def show_errors(self, problems: dict[str, str], focus: bool = True) -> dict[str, str]:
        """Show each reason under its field; returns the problems that match no field here."""
        self.clear_errors()
        first: Field | None = None
        for field in self.fields.values():  # form order, so the first bad field gets focus
            reason = problems.get(field.name)
            if reason is None:
                continue
            self.set_error(field.name, reason)
            first = first or field
        if focus and first is not None:
            first.widget.setFocus()
        return {k: v for k, v in problems.items() if k not in self.fields}

    def set_error(self, name: str, reason: str | None) -> None:
        field = self.fields[name]
        field.error.setText(sentence(field.label, reason) if reason else "")
        field.error.setVisible(bool(reason))
        field.error.setAccessibleName(f"{field.label} error")
        if field.hint is not None:
            field.hint.setVisible(not reason and not field.widget.isHidden())
        set_invalid(field.widget, bool(reason))

    def set_shown(self, names: list[str], shown: bool) -> None:
        """Shows or hides fields with their labels (a hidden field keeps no error)."""
        for name in names:
            field = self.fields[name]
            self.set_error(name, None)
            for part in (field.title, field.widget, field.hint):
                if part is not None:
                    part.setVisible(shown)

    def clear_errors(self) -> None:
        for name in self.fields:
            self.set_error(name, None)

    def error_text(self, name: str) -> str:
        return self.fields[name].error.text()

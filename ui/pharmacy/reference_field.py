"""The prescription's reference number typed by hand: grouped as typed, checked as typed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from clinicdesk.rx import reference
from ui.theme import set_invalid, set_kind


def reference_state(digits: str) -> tuple[str, bool | None]:
    """What the line under the field says, and whether the number is good (None: not yet)."""
    if not digits:
        return "The 12 digits printed beside the code", None
    if len(digits) < reference.LENGTH:
        return f"{len(digits)} of {reference.LENGTH} digits", None
    if not reference.is_valid(digits):
        return "Check digits do not match: a digit is wrong — check each one", False
    return "✓ Valid reference: press Enter", True


class ReferenceField(QWidget):
    """Emits ``submitted`` with the 12 digits on Enter, only when the check digits match."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(placeholderText="1234 5678 9012")
        self.edit.setAccessibleName("Reference number")
        self.edit.setMaxLength(reference.LENGTH + 2)  # with the two spaces
        self.state = QLabel()
        self.state.setWordWrap(True)  # a long message wraps rather than widening the field
        set_kind(self.state, "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.state)
        self.edit.textEdited.connect(self._edited)
        self.edit.returnPressed.connect(self._enter)
        self.edit.installEventFilter(self)
        self._show_state()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+V is the counter's (a picture, a code or a reference), not the field's own."""
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(
            QKeySequence.StandardKey.Paste
        ):
            return True  # not accepted: the counter's shortcut runs
        return super().eventFilter(watched, event)

    @property
    def digits(self) -> str:
        return reference.digits_in(self.edit.text())

    def set_digits(self, digits: str) -> None:
        self.edit.setText(reference.grouped(digits[: reference.LENGTH]))
        self._show_state()

    def clear(self) -> None:
        self.edit.clear()
        self._show_state()

    def _edited(self, _text: str) -> None:
        """Keep only digits, in groups of four, the cursor after the same digit as before."""
        before = self.edit.text()[: self.edit.cursorPosition()]
        position = len(reference.digits_in(before))
        self.set_digits(self.digits)
        grouped = self.edit.text()
        cursor = len(grouped)
        seen = 0
        for index, char in enumerate(grouped):
            if seen == position:
                cursor = index
                break
            seen += char.isdigit()
        self.edit.setCursorPosition(cursor)

    def _show_state(self) -> None:
        text, good = reference_state(self.digits)
        self.state.setText(text)
        set_invalid(self.edit, good is False)
        set_kind(self.state, "fieldError" if good is False else "muted")

    def _enter(self) -> None:
        _text, good = reference_state(self.digits)
        if good:
            self.submitted.emit(self.digits)

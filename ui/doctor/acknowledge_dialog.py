"""Before signing despite a warning (an allergy, a duplicated ingredient), the doctor says why,
one reason per warning; the reasons are stored with the prescription."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QWidget

from clinicdesk.services.prescription_checks import RxWarning
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout
from ui.widgets.forms import FieldForm

NEEDS_REASON = "Say why you prescribe it anyway."
ALLERGY = "allergy"


class AcknowledgeDialog(QDialog):
    def __init__(
        self,
        warnings: list[RxWarning],
        reasons: dict[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Acknowledge warnings")
        self.setMinimumWidth(560)
        layout, _title = titled_layout(self, "Sign despite these warnings?")
        intro = QLabel(
            "Each warning needs a reason before the prescription can be signed. The reasons are "
            "kept with the prescription."
        )
        intro.setWordWrap(True)
        set_kind(intro, "muted")
        layout.addWidget(intro)
        self.form = FieldForm()
        self.reasons: dict[str, QLineEdit] = {}
        for row, warning in enumerate(warnings):
            message = QLabel(warning.message)
            message.setWordWrap(True)
            set_kind(message, "banner" if warning.kind == ALLERGY else "subtitle")
            self.form.grid.addWidget(message, 2 * row, 0)
            edit = QLineEdit((reasons or {}).get(warning.key, ""))
            edit.setPlaceholderText("e.g. tolerated it before without a reaction")
            edit.setAccessibleName(f"Reason: {warning.message}")
            self.form.add(warning.key, "&Reason *" if row == 0 else "Reason *", edit, 2 * row + 1)
            self.reasons[warning.key] = edit
        layout.addWidget(self.form)
        buttons = QDialogButtonBox(self)
        self.sign = buttons.addButton(
            "Sign with these reasons", QDialogButtonBox.ButtonRole.AcceptRole
        )
        set_kind(self.sign, "primary")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.sign.setDefault(True)  # once in the dialog, so that it stays the default
        if warnings:
            self.reasons[warnings[0].key].setFocus()

    def submit(self) -> None:
        missing = {
            key: NEEDS_REASON for key, edit in self.reasons.items() if not edit.text().strip()
        }
        if missing:
            self.form.show_errors(missing)
            return
        self.accept()

    def acknowledgements(self) -> dict[str, str]:
        return {key: edit.text().strip() for key, edit in self.reasons.items()}

"""Before signing despite a warning (an allergy, a duplicated ingredient), the doctor says why,
one reason per warning; the reasons are stored with the prescription."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.services.prescription_checks import RxWarning
from ui.context import AppContext
from ui.theme import set_kind
from ui.widgets.form_dialog import FormDialog

NEEDS_REASON = "Say why you prescribe it anyway."
ALLERGY = "allergy"


class AcknowledgeDialog(FormDialog):
    """Nothing is saved here: the reasons go back to the prescription, which signs with them."""

    def __init__(
        self,
        ctx: AppContext,
        warnings: list[RxWarning],
        reasons: dict[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            ctx, "Acknowledge warnings", "Sign with these reasons", parent, 1, min_width=560
        )
        self.heading.setText("Sign despite these warnings?")
        intro = QLabel(
            "Each warning needs a reason before the prescription can be signed. The reasons are "
            "kept with the prescription."
        )
        intro.setWordWrap(True)
        set_kind(intro, "muted")
        self.layout_.insertWidget(self.layout_.indexOf(self.form), intro)
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
        self.finish_layout()
        if warnings:
            self.reasons[warnings[0].key].setFocus()

    def call(self) -> Callable[[], dict[str, str]]:
        missing = {
            key: NEEDS_REASON for key, edit in self.reasons.items() if not edit.text().strip()
        }
        if missing:
            raise ValidationError(missing)
        reasons = self.acknowledgements()
        return lambda: reasons

    def acknowledgements(self) -> dict[str, str]:
        return {key: edit.text().strip() for key, edit in self.reasons.items()}

"""Asking why before a change that must keep its reason: cancelling an appointment, rejecting a
booking, removing a chart entry, cancelling or not dispensing a prescription.

The change runs when the reason is given, and the dialog stays open until it went through: an
empty reason, or the service's refusal, is shown here and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from clinicdesk.errors import ValidationError
from ui.context import AppContext
from ui.theme import set_kind
from ui.widgets.form_dialog import FormDialog

#: what the change is given: the reason typed; returns the service call to run off the UI thread
Change = Callable[[str], Callable[[], Any]]


class ReasonDialog(FormDialog):
    def __init__(
        self,
        ctx: AppContext,
        title: str,
        question: str,
        save_text: str,
        change: Change,
        parent: QWidget | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(ctx, title, save_text, parent, columns=1, min_width=480)
        self.change = change
        asked = QLabel(question)
        asked.setWordWrap(True)
        self.layout_.insertWidget(self.layout_.indexOf(self.form), asked)
        self.reason = self.form.add("reason", "&Reason *", QLineEdit(), 0, hint=hint)
        self.reason.setAccessibleName("Reason")
        set_kind(self.save, "danger")
        self.cancel_button.setText("Back")  # not "Cancel" beside "Cancel appointment"
        self.cancel_button.setIcon(QIcon())
        self.finish_layout()
        self.reason.setFocus()

    def call(self) -> Callable[[], Any]:
        reason = self.reason.text().strip()
        if not reason:
            raise ValidationError({"reason": "Type why first: the reason is kept."})
        return self.change(reason)


def ask_reason(
    ctx: AppContext,
    parent: QWidget,
    title: str,
    question: str,
    save_text: str,
    change: Change,
    done: Callable[[Any], None] | None = None,
    hint: str | None = None,
) -> ReasonDialog:
    """Opens the question (not blocking); ``done(result)`` once the change went through."""
    dialog = ReasonDialog(ctx, title, question, save_text, change, parent, hint)
    if done is not None:
        dialog.submitted.connect(done)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog

"""The one dialog that submits a form: fields with their own errors, a message line for what
belongs to no field, and a primary button that Enter presses.

A subclass adds its fields to ``self.form`` (or widgets of its own to ``self.layout_``), calls
``finish_layout()``, and implements ``call()``: read the widgets on the UI thread and return the
service call to run on a worker. The base runs it off the UI thread and stays open meanwhile:
Save and Cancel are disabled and Esc waits (a second Enter never submits twice, and the opener
always hears the answer). It puts a ValidationError's reasons under their fields (a subclass
with rows of its own places those in ``place_errors``) and anything else in the message line,
and on success keeps the result in ``result_info``, emits ``submitted`` and closes (a dialog
that shows what was done instead, like a signed prescription, overrides ``succeeded``).
Nothing is changed when the service refuses.

A dialog shown before the main window exists (choosing one's password right after signing in)
has no AppContext yet: it passes ``ctx=None`` and the ``tasks`` runner instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QWidget

from clinicdesk.errors import ClinicDeskError, Conflict, ValidationError
from ui.context import AppContext
from ui.errors import describe
from ui.tasks import TaskRunner
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout
from ui.widgets.forms import FieldForm


class FormDialog(QDialog):
    submitted = Signal(object)  # the service call's result, after a save that went through

    #: the field that a Conflict (a taken name, a double booking) is about, if the form has one
    conflict_field: str | None = None
    #: what the primary button says while the call runs ("Signing…"), if it should change
    sending_text: str | None = None

    def __init__(
        self,
        ctx: AppContext | None,
        title: str,
        save_text: str,
        parent: QWidget | None = None,
        columns: int = 2,
        min_width: int = 500,
        *,
        tasks: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        runner = tasks or (ctx.tasks if ctx is not None else None)
        assert runner is not None, "a form dialog needs the app's context or its task runner"
        self.tasks = runner
        self.result_info: Any = None
        self.sending = False
        self.setWindowTitle(title)
        self.setMinimumWidth(min_width)
        self.layout_, self.heading = titled_layout(self, title, spacing=12)
        self.form = FieldForm(columns=columns)
        self.layout_.addWidget(self.form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_kind(self.message, "banner")
        self.message.hide()
        self.buttons = QDialogButtonBox(self)  # parented now: setDefault needs the dialog
        self.save_text = save_text
        self.save = self.buttons.addButton(save_text, QDialogButtonBox.ButtonRole.AcceptRole)
        set_kind(self.save, "primary")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

    def add_action(self, text: str, slot: Callable[[], None]) -> QPushButton:
        """A secondary button beside Save; Enter never presses it."""
        button = self.buttons.addButton(text, QDialogButtonBox.ButtonRole.ActionRole)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def finish_layout(self) -> None:
        """Adds the message line and the buttons under whatever the subclass laid out."""
        self.layout_.addWidget(self.message)
        self.layout_.addWidget(self.buttons)
        # made the default once in the dialog, so that it is the default again whenever another
        # button (one clicked, then left) was it for a while
        self.save.setDefault(True)

    def call(self) -> Callable[[], Any]:
        """On the UI thread: read the form and return the service call to run on a worker
        (widgets are never touched off the UI thread). May raise ValidationError."""
        raise NotImplementedError

    def say(self, text: str) -> None:
        """Shows ``text`` in the message line (empty hides it)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def submit(self) -> None:
        if self.sending or not self.save.isEnabled():
            return
        self.say("")
        self.form.clear_errors()
        try:
            work = self.call()
        except ClinicDeskError as error:
            self.refused(error)
            return
        self._sending(True)
        self.tasks.submit(work, on_result=self._done, on_error=self._not_done, owner=self)

    def _sending(self, on: bool) -> None:
        self.sending = on
        self.save.setEnabled(not on)
        self.cancel_button.setEnabled(not on)
        if self.sending_text:
            self.save.setText(self.sending_text if on else self.save_text)

    def reject(self) -> None:
        if not self.sending:  # Esc, Cancel and the window's close button alike
            super().reject()

    def _done(self, result: Any) -> None:
        self._sending(False)
        self.result_info = result
        self.submitted.emit(result)
        self.succeeded(result)

    def succeeded(self, result: Any) -> None:
        """After a save that went through: closes the dialog."""
        self.accept()

    def _not_done(self, error: BaseException) -> None:
        self._sending(False)  # before ``refused``, which a subclass may override
        self.refused(error)

    def place_errors(self, fields: dict[str, str]) -> dict[str, str]:
        """Shows each reason under its field; returns those about no field here."""
        return self.form.show_errors(fields)

    def refused(self, error: BaseException) -> None:
        """Shows why the service refused, under the field it names where there is one."""
        if isinstance(error, ValidationError):
            if not self.place_errors(error.fields):
                return
        elif isinstance(error, Conflict) and self.conflict_field in self.form.fields:
            self.form.set_error(self.conflict_field, error.message)
            return
        self.say(describe(error))
        self.save.setFocus()

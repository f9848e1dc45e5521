"""Changing one's own password; forced right after signing in with a temporary password."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from clinicdesk.errors import ValidationError, WrongPassword
from ui.tasks import TaskRunner
from ui.widgets.form_dialog import FormDialog


class ChangePasswordDialog(FormDialog):
    def __init__(self, session, tasks: TaskRunner, forced: bool, parent: QWidget | None = None):
        title = "Choose your password" if forced else "Change password"
        super().__init__(
            None, title, "Change password", parent, columns=1, min_width=440, tasks=tasks
        )
        self.session = session
        if forced:
            intro = QLabel(
                "You signed in with a temporary password. Choose a password that only you "
                "know before you continue."
            )
            intro.setWordWrap(True)
            self.layout_.insertWidget(self.layout_.indexOf(self.form), intro)
            self.cancel_button.setText("Sign out")
        self.current = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.new = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        label = "&Temporary password" if forced else "&Current password"
        self.form.add("password", label, self.current, 0)
        self.form.add("new_password", "&New password", self.new, 1, hint="At least 10 characters")
        self.form.add("repeat", "&Repeat new password", self.repeat, 2)
        self.finish_layout()

    def call(self) -> Callable[[], None]:
        if self.new.text() != self.repeat.text():
            raise ValidationError({"repeat": "does not match the new password"})
        return partial(self.session.change_password, self.current.text(), self.new.text())

    def refused(self, error: BaseException) -> None:
        if isinstance(error, WrongPassword):
            self.form.show_errors({"password": "is not correct"})
            self.current.selectAll()
            return
        super().refused(error)

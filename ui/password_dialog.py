"""Changing one's own password; forced right after signing in with a temporary password."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.errors import describe
from ui.tasks import TaskRunner
from ui.theme import set_kind
from ui.widgets.forms import FieldForm


class ChangePasswordDialog(QDialog):
    def __init__(self, session, tasks: TaskRunner, forced: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.tasks = tasks
        self.setWindowTitle("Choose your password" if forced else "Change password")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        if forced:
            intro = QLabel(
                "You signed in with a temporary password. Choose a password that only you "
                "know before you continue."
            )
            intro.setWordWrap(True)
            layout.addWidget(intro)
        self.form = FieldForm()
        self.current = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.new = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        label = "&Temporary password" if forced else "&Current password"
        self.form.add("password", label, self.current, 0)
        self.form.add("new_password", "&New password", self.new, 1, hint="At least 10 characters")
        self.form.add("repeat", "&Repeat new password", self.repeat, 2)
        layout.addWidget(self.form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_kind(self.message, "banner")
        self.message.hide()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(self)
        self.save = buttons.addButton("Change password", QDialogButtonBox.ButtonRole.AcceptRole)
        set_kind(self.save, "primary")
        self.save.setDefault(True)
        cancel = buttons.addButton(
            "Sign out" if forced else "Cancel", QDialogButtonBox.ButtonRole.RejectRole
        )
        cancel.setAutoDefault(False)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def submit(self) -> None:
        if not self.save.isEnabled():
            return
        if self.new.text() != self.repeat.text():
            self.form.show_errors({"repeat": "does not match the new password"})
            return
        self.form.clear_errors()
        self.message.hide()
        self.save.setEnabled(False)
        self.tasks.submit(
            self.session.change_password,
            self.current.text(),
            self.new.text(),
            on_result=lambda _none: self.accept(),
            on_error=self._failed,
            owner=self,
        )

    def _failed(self, error: BaseException) -> None:
        from clinicdesk.errors import ValidationError, WrongPassword

        self.save.setEnabled(True)
        if isinstance(error, WrongPassword):
            self.form.show_errors({"password": "is not correct"})
            self.current.selectAll()
        elif isinstance(error, ValidationError) and not self.form.show_errors(error.fields):
            return
        else:
            self.message.setText(describe(error))
            self.message.show()

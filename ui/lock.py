"""The lock screen: covers the main window until the same user types their password again.

Nothing underneath is destroyed. The main window disables its content and hides its open dialogs
while locked, so no patient data shows and no shortcut works, and restores them on unlock.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.errors import describe
from ui.tasks import TaskRunner
from ui.theme import PRIMARY, pixmap, set_kind


class LockScreen(QWidget):
    unlocked = Signal()
    sign_out_requested = Signal()

    def __init__(self, session, tasks: TaskRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self.session = session
        self.tasks = tasks
        self.setObjectName("LockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

        card = QFrame(objectName="LockCard")
        card.setFixedWidth(400)
        box = QVBoxLayout(card)
        box.setContentsMargins(32, 28, 32, 28)
        box.setSpacing(8)
        icon = QLabel()
        icon.setPixmap(pixmap("lock", 40, PRIMARY))
        box.addWidget(icon)
        title = QLabel("ClinicDesk is locked")
        set_kind(title, "title")
        box.addWidget(title)
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        set_kind(self.reason, "muted")
        box.addWidget(self.reason)
        box.addSpacing(8)
        who = QLabel(f"Password for {session.actor.display_name}")
        box.addWidget(who)
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        who.setBuddy(self.password)
        self.password.returnPressed.connect(self.submit)
        self.password.textEdited.connect(lambda _t: self.message.hide())
        box.addWidget(self.password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_kind(self.message, "banner")
        self.message.hide()
        box.addWidget(self.message)
        box.addSpacing(6)
        self.button = QPushButton("Unlock")
        set_kind(self.button, "primary")
        self.button.setMinimumHeight(36)
        self.button.clicked.connect(self.submit)
        box.addWidget(self.button)
        other = QPushButton("Sign out instead")
        set_kind(other, "link")
        other.setToolTip("Sign out, so someone else can sign in. Unsaved changes are lost.")
        other.clicked.connect(self.sign_out_requested)
        box.addWidget(other, 0, Qt.AlignmentFlag.AlignHCenter)

        grid = QGridLayout(self)
        grid.addWidget(card, 1, 1)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(2, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(2, 1)
        self.hide()

    def lock(self, reason: str) -> None:
        self.reason.setText(reason)
        self.password.clear()
        self.message.hide()
        self.button.setEnabled(True)
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()
        self.password.setFocus()

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        password = self.password.text()
        if not password:
            self._show("Type your password to unlock.")
            return
        self.button.setEnabled(False)
        self.button.setText("Checking…")
        self.tasks.submit(
            self.session.unlock,
            password,
            on_result=lambda _none: self._done(),
            on_error=self._failed,
            owner=self,
        )

    def _done(self) -> None:
        self.button.setText("Unlock")
        self.button.setEnabled(True)
        self.password.clear()
        self.hide()
        self.unlocked.emit()

    def _failed(self, error: BaseException) -> None:
        self.button.setText("Unlock")
        self.button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self._show(describe(error))

    def _show(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

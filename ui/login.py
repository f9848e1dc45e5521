"""The sign-in window: clinic name, user name, password; errors shown in words, inline.

Kept light on purpose: it imports no database code, so it shows fast; the services are imported on
a worker thread when the user signs in (and warmed up in the background meanwhile).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.tasks import TaskRunner
from ui.theme import PRIMARY, pixmap, set_kind
from ui.widgets.forms import FieldForm

DemoLogin = tuple[str, str, str]  # role label, user name, password


def _sign_in(folder: Path, username: str, password: str):
    from clinicdesk.services.access import sign_in

    return sign_in(folder, username, password)


class LoginWindow(QWidget):
    signed_in = Signal(object)  # ClinicSession

    def __init__(
        self,
        folder: Path,
        tasks: TaskRunner,
        clinic_name: str | None = None,
        username: str = "",
        demo_logins: list[DemoLogin] | None = None,
    ) -> None:
        super().__init__()
        self.folder = folder
        self.tasks = tasks
        self.setObjectName("LoginWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setWindowTitle(f"{clinic_name} – ClinicDesk" if clinic_name else "ClinicDesk")
        self.resize(960, 680)

        card = QFrame(objectName="LoginCard")
        card.setFixedWidth(420)
        # never squeeze the fields when a message appears: the window grows instead
        card.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        box = QVBoxLayout(card)
        box.setContentsMargins(36, 32, 36, 32)
        box.setSpacing(8)

        logo_row = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(pixmap("logo", 40, PRIMARY))
        brand = QLabel("ClinicDesk")
        set_kind(brand, "muted")
        logo_row.addWidget(logo)
        logo_row.addWidget(brand)
        logo_row.addStretch(1)
        box.addLayout(logo_row)
        box.addSpacing(8)

        self.clinic_label = QLabel(clinic_name or "Sign in")
        self.clinic_label.setWordWrap(True)
        set_kind(self.clinic_label, "title")
        box.addWidget(self.clinic_label)
        lead = QLabel("Sign in with your own user name and password.")
        lead.setWordWrap(True)
        set_kind(lead, "muted")
        box.addWidget(lead)
        box.addSpacing(12)

        self.form = FieldForm()
        self.username = QLineEdit(username)
        self.username.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.form.add("username", "&User name", self.username, 0)
        self.form.add("password", "&Password", self.password, 1)
        box.addWidget(self.form)

        self.message = QLabel()
        self.message.setWordWrap(True)
        set_kind(self.message, "banner")
        self.message.hide()
        box.addWidget(self.message)
        box.addSpacing(8)

        self.button = QPushButton("Sign in")
        set_kind(self.button, "primary")
        self.button.setDefault(True)
        self.button.setMinimumHeight(38)
        self.button.clicked.connect(self.submit)
        box.addWidget(self.button)
        QWidget.setTabOrder(self.password, self.button)

        for field in (self.username, self.password):
            field.returnPressed.connect(self.submit)
            field.textEdited.connect(self._clear_message)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.password.clear)

        outer = QGridLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        column = QVBoxLayout()
        column.setSpacing(16)
        column.addWidget(card)
        if demo_logins:
            column.addWidget(self._demo_box(demo_logins))
        outer.addLayout(column, 1, 1)
        outer.setRowStretch(0, 1)
        outer.setRowStretch(2, 2)
        outer.setColumnStretch(0, 1)
        outer.setColumnStretch(2, 1)

        (self.password if username else self.username).setFocus()

    def _demo_box(self, logins: list[DemoLogin]) -> QFrame:
        frame = QFrame(objectName="DemoBox")
        frame.setFixedWidth(420)
        frame.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        box = QVBoxLayout(frame)
        box.setContentsMargins(16, 12, 16, 12)
        box.setSpacing(2)
        title = QLabel("DEMO CLINIC LOGINS")
        set_kind(title, "section")
        note = QLabel("Click one to fill in the form. Demo data only.")
        set_kind(note, "hint")
        for label in (title, note):
            label.setContentsMargins(4, 0, 0, 0)  # in line with the links' text
            box.addWidget(label)
        for role, user, password in logins:
            link = QPushButton(f"{role}:  {user}")
            set_kind(link, "link")
            link.setToolTip(f"Sign in as {user} ({role})")
            link.setCursor(Qt.CursorShape.PointingHandCursor)
            link.clicked.connect(lambda _=False, u=user, p=password: self.fill(u, p))
            box.addWidget(link)
        return frame

    def fill(self, username: str, password: str) -> None:
        self.username.setText(username)
        self.password.setText(password)
        self._clear_message()
        self.button.setFocus()

    def set_clinic_name(self, name: str) -> None:
        self.clinic_label.setText(name)
        self.setWindowTitle(f"{name} – ClinicDesk")

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        username, password = self.username.text().strip(), self.password.text()
        missing = {
            k: "is required" for k, v in (("username", username), ("password", password)) if not v
        }
        if missing:
            self.form.show_errors(missing)
            return
        self.form.clear_errors()
        self._set_busy(True)
        self.tasks.submit(
            _sign_in,
            self.folder,
            username,
            password,
            on_result=self._signed_in,
            on_error=self._failed,
            owner=self,
        )

    def _signed_in(self, session) -> None:
        self._set_busy(False)
        self.password.clear()
        self.signed_in.emit(session)

    def _failed(self, error: BaseException) -> None:
        from ui.errors import describe

        self._set_busy(False)
        self.show_message(describe(error))
        self.password.clear()
        self.password.setFocus()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _clear_message(self) -> None:
        self.message.hide()

    def _set_busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
        self.button.setText("Signing in…" if busy else "Sign in")
        self.username.setReadOnly(busy)
        self.password.setReadOnly(busy)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()

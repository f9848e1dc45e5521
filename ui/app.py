"""Starting the desktop app: set-up wizard or sign-in, then the main window.

The path to a shown sign-in window imports only Qt and the light UI modules; the services
(SQLAlchemy, SQLCipher, Argon2) are imported on a worker thread once the window is up.
Set CLINICDESK_QUIT_WHEN_SHOWN=1 to quit as soon as the first window is shown, without starting
the background warm-up (cold-start benchmark).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from clinicdesk.logs import configure as configure_log
from clinicdesk.logs import log_unexpected
from clinicdesk.paths import JOINING_DIR
from ui.login import DemoLogin, LoginWindow
from ui.tasks import TaskRunner
from ui.theme import PRIMARY, icon, stylesheet

QUIT_WHEN_SHOWN = "CLINICDESK_QUIT_WHEN_SHOWN"


def _folder_state(folder: Path) -> str:
    """Imports the services (the warm-up) and returns 'new' or 'ready'; raises StoreError."""
    from clinicdesk.services.access import folder_state

    return folder_state(folder).value


def _looks_new(folder: Path) -> bool:
    """Nothing in the folder but, at most, a workstation's join cut off before it received the
    whole clinic (started again from the set-up)."""
    if not folder.exists():
        return True
    return not any(p.name != JOINING_DIR for p in folder.iterdir())


class Controller(QObject):
    """Moves between the windows: set-up, sign-in, main window, and back on sign-out.

    ``settings`` remembers per data folder the clinic's name and the last user name, so the
    sign-in window can greet with the clinic's name before the encrypted database is open.
    """

    def __init__(
        self,
        folder: Path,
        demo_logins: list[DemoLogin] | None = None,
        settings: QSettings | None = None,
        kdf=None,
        idle_ms: int | None = None,
        warm_up: bool = True,
    ) -> None:
        super().__init__()
        self.warm_up = warm_up
        self.folder = folder
        self.demo_logins = demo_logins
        self.settings = settings or QSettings("ClinicDesk", "ClinicDesk")
        self.kdf = kdf
        self.idle_ms = idle_ms
        self.tasks = TaskRunner(self)
        # removed at another desk: sign out, saying why, once the current callback is done
        self.tasks.account_gone.connect(self._fatal, Qt.ConnectionType.QueuedConnection)
        self.window: QWidget | None = None
        self.session = None
        self._key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]

    # ---- remembered per folder ----

    def _remembered(self, name: str) -> str:
        return str(self.settings.value(f"clinics/{self._key}/{name}", "") or "")

    def _remember(self, name: str, value: str) -> None:
        self.settings.setValue(f"clinics/{self._key}/{name}", value)
        self.settings.sync()

    # ---- windows ----

    def start(self) -> None:
        if _looks_new(self.folder):
            self.show_setup()
        else:
            self.show_login()

    def _replace_window(self, window: QWidget) -> None:
        old, self.window = self.window, window
        window.setWindowIcon(icon("logo", PRIMARY))
        window.show()
        if old is not None:
            old.close()
            old.deleteLater()

    def show_setup(self) -> None:
        from ui.setup_wizard import SetupWizard

        wizard = SetupWizard(self.folder, self.tasks, kdf=self.kdf)
        wizard.completed.connect(self._set_up)
        self._replace_window(wizard)

    def _set_up(self, username: str, clinic_name: str) -> None:
        self._remember("name", clinic_name)
        self._remember("user", username)
        self.show_login()

    def show_login(self) -> LoginWindow:
        from clinicdesk.services.access import folder_clinic_name

        login = LoginWindow(
            self.folder,
            self.tasks,
            clinic_name=folder_clinic_name(self.folder) or self._remembered("name") or None,
            username=self._remembered("user"),
            demo_logins=self.demo_logins,
        )
        login.signed_in.connect(self._signed_in)
        self._replace_window(login)
        if self.warm_up:
            self._check_folder(login)
        return login

    def _check_folder(self, login: LoginWindow) -> None:
        """Imports the services in the background and asks the core about the folder."""
        self.tasks.submit(
            _folder_state,
            self.folder,
            on_result=self._folder_checked,
            on_error=lambda e: self._folder_problem(login, e),
            owner=login,
        )

    def _folder_checked(self, state: str) -> None:
        if state == "new" and isinstance(self.window, LoginWindow):
            self.show_setup()

    def _folder_problem(self, login: LoginWindow, error: BaseException) -> None:
        from ui.errors import describe

        login.show_message(describe(error))

    def _signed_in(self, session) -> None:
        self.session = session
        self._remember("user", session.actor.username)
        if session.must_change_password:
            self._choose_password(session)
        else:
            self._load_details(session)

    def _choose_password(self, session) -> None:
        """A temporary password gives no access until its owner chooses their own."""
        from ui.password_dialog import ChangePasswordDialog

        dialog = ChangePasswordDialog(session, self.tasks, forced=True, parent=self.window)
        dialog.accepted.connect(lambda: self._load_details(session))
        dialog.rejected.connect(self._close_session)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _load_details(self, session) -> None:
        self.tasks.submit(
            session.clinic.details,
            on_result=lambda details: self._open_main(session, details),
            on_error=self._fatal,
        )

    def _open_main(self, session, details) -> None:
        from ui.context import AppContext
        from ui.main_window import MainWindow

        self._remember("name", details.name)
        main = MainWindow(AppContext(session, self.tasks, details), idle_ms=self.idle_ms)
        main.sign_out_requested.connect(self.sign_out)
        main.closing.connect(self._close_session)
        self._replace_window(main)
        session.start_jobs()  # both stopped by session.close() at sign-out or quit
        session.watch_other_desks()
        session.start_sync()

    def _fatal(self, error: BaseException) -> None:
        from ui.errors import describe

        self._close_session()
        login = self.show_login()
        login.show_message(describe(error))

    def sign_out(self) -> None:
        self._close_session()
        self.show_login()

    def _close_session(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            self.tasks.wait()
            session.close()


def _log_and_carry_on(kind, error, tb) -> None:
    """An unexpected error in a Qt slot is logged (type and place only) instead of quitting."""
    log_unexpected(error.with_traceback(tb))


def run(folder: Path, demo_logins: list[DemoLogin] | None = None) -> int:
    """Open ClinicDesk on ``folder``; ``demo_logins`` are (role label, user name, password)."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("ClinicDesk")
    app.setOrganizationName("ClinicDesk")
    app.setApplicationDisplayName("ClinicDesk")
    app.setStyleSheet(stylesheet())
    if Path(folder).is_dir():
        configure_log(Path(folder))
    sys.excepthook = _log_and_carry_on
    quit_when_shown = bool(os.environ.get(QUIT_WHEN_SHOWN))
    controller = Controller(Path(folder), demo_logins, warm_up=not quit_when_shown)
    controller.start()
    if quit_when_shown:
        QTimer.singleShot(0, app.quit)
    code = app.exec()
    controller._close_session()
    return code

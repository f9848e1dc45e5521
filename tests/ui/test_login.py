"""Signing in through the real sign-in window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import select

from clinicdesk.permissions import Role
from clinicdesk.store.models import JobRun
from ui.app import Controller
from ui.login import LoginWindow
from ui.main_window import MainWindow
from ui.password_dialog import ChangePasswordDialog


def start(qtbot, clinic_dir, settings, **kwargs) -> Controller:
    controller = Controller(clinic_dir[0], settings=settings, **kwargs)
    controller.start()
    assert isinstance(controller.window, LoginWindow)
    qtbot.waitExposed(controller.window)
    return controller


def job_runs(session) -> list[str]:
    with session.store.read() as s:
        return list(s.scalars(select(JobRun.job)))


def finish(qtbot, controller: Controller) -> None:
    qtbot.waitUntil(lambda: not controller.tasks.busy, timeout=5000)
    if controller.window is not None:
        controller.window.close()
    controller._close_session()


def test_wrong_password_shows_message_and_stays(qtbot, clinic_dir, settings):
    controller = start(qtbot, clinic_dir, settings)
    login = controller.window
    qtbot.keyClicks(login.username, "admin")
    qtbot.keyClicks(login.password, "not my password")
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: login.message.isVisible(), timeout=5000)
    assert "not correct" in login.message.text()
    assert controller.window is login and login.isVisible()
    assert login.password.text() == ""
    assert login.button.isEnabled()
    finish(qtbot, controller)


def test_empty_fields_are_named(qtbot, clinic_dir, settings):
    controller = start(qtbot, clinic_dir, settings)
    login = controller.window
    qtbot.mouseClick(login.button, Qt.MouseButton.LeftButton)
    assert login.form.error_text("username") == "User name is required"
    assert login.form.error_text("password") == "Password is required"
    finish(qtbot, controller)


def test_right_password_opens_main_window(qtbot, clinic_dir, settings, shared):
    controller = start(qtbot, clinic_dir, settings)
    login = controller.window
    qtbot.keyClicks(login.username, "admin")
    qtbot.keyClicks(login.password, shared.ADMIN_PASSWORD)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(controller.window, MainWindow), timeout=5000)
    main = controller.window
    session = controller.session
    # the clinic's background jobs start with the clinic: the no-show check has run once
    qtbot.waitUntil(lambda: "no_shows" in job_runs(session), timeout=5000)
    assert main.user_label.text() == "Ada Admin · Super admin"
    assert main.status_clinic.text() == "Sunrise Family Clinic"
    assert [main.nav.item(i).text() for i in range(main.nav.count())] == [
        "Front desk",
        "Doctor",
        "Pharmacy",
        "Admin",
    ]
    # the clinic's name is remembered for the next sign-in window
    main.sign_out_requested.emit()
    assert not session._jobs.running  # stopped at sign-out, before the database closed
    assert isinstance(controller.window, LoginWindow)
    assert controller.window.clinic_label.text() == "Sunrise Family Clinic"
    assert controller.window.username.text() == "admin"
    finish(qtbot, controller)


def test_demo_logins_fill_the_form(qtbot, clinic_dir, settings):
    logins = [("Receptionist", "reception", "reception pass 1")]
    controller = start(qtbot, clinic_dir, settings, demo_logins=logins)
    login = controller.window
    link = next(b for b in login.findChildren(type(login.button)) if "reception" in b.text())
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton)
    assert (login.username.text(), login.password.text()) == ("reception", "reception pass 1")
    finish(qtbot, controller)


def test_new_account_must_choose_a_password(qtbot, clinic_dir, admin, settings, shared):
    admin.users.create(admin.actor, "rita", "Rita Reception", {Role.RECEPTIONIST}, "temporary pw1")
    controller = start(qtbot, clinic_dir, settings)
    login = controller.window
    login.username.clear()
    qtbot.keyClicks(login.username, "rita")
    qtbot.keyClicks(login.password, "temporary pw1")
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: login.findChild(ChangePasswordDialog) is not None, timeout=5000)
    dialog = login.findChild(ChangePasswordDialog)
    assert dialog.isVisible() and controller.window is login
    qtbot.keyClicks(dialog.current, "temporary pw1")
    qtbot.keyClicks(dialog.new, "rita")
    qtbot.keyClicks(dialog.repeat, "rita")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.form.error_text("new_password") != "", timeout=5000)
    assert "at least 10 characters" in dialog.form.error_text("new_password")
    for field in (dialog.new, dialog.repeat):
        field.clear()
        qtbot.keyClicks(field, "rita's own pass")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(controller.window, MainWindow), timeout=5000)
    main = controller.window
    assert controller.session.must_change_password is False
    assert [main.nav.item(i).text() for i in range(main.nav.count())] == ["Front desk"]
    finish(qtbot, controller)

"""Removing an account and changing the clinic's key from Admin → Users: a confirmation that says
what happens, the work off the UI thread, and each stage shown while it runs."""

from __future__ import annotations

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from clinicdesk.errors import DatabaseMismatch, WrongPassword
from clinicdesk.permissions import Role
from clinicdesk.services.access import sign_in
from tests.conftest import STAFF_PASSWORD


def _answer_yes(monkeypatch) -> list[str]:
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_removing_an_account_changes_the_key_with_progress(
    qtbot, make_main, admin, staff, tasks, monkeypatch
):
    staff(Role.RECEPTIONIST, username="rita").close()
    asked = _answer_yes(monkeypatch)
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    users = workspace.users
    wait_idle(qtbot, tasks)
    row = [u.username for u in users.model.rows].index("rita")
    users.table.selectRow(row)

    qtbot.mouseClick(users.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    qtbot.waitUntil(lambda: "removed" in users.message.text(), timeout=20_000)

    assert "nothing they copied opens the clinic's data" in asked[0]
    assert users.message.text() == "Rita: removed, and the clinic's key changed."
    try:
        sign_in(admin.folder, "rita", STAFF_PASSWORD)
    except (WrongPassword, DatabaseMismatch):
        pass
    else:
        raise AssertionError("the removed account still signs in")
    assert admin.patients.count(admin.actor) == 0


def test_changing_the_clinics_key_says_what_happens_first(
    qtbot, make_main, admin, tasks, monkeypatch
):
    asked = _answer_yes(monkeypatch)
    stages: list[str] = []
    from clinicdesk.services import users as users_service

    real = users_service.change_key

    def recording(*args, progress=None, **kwargs):
        return real(*args, progress=lambda s: (stages.append(s), progress(s)), **kwargs)

    monkeypatch.setattr(users_service, "change_key", recording)
    main = make_main(admin)
    users = main.show_workspace("admin").users
    wait_idle(qtbot, tasks)
    users.key_button.setFocus()
    qtbot.keyClick(users.key_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "key was changed" in users.message.text(), timeout=20_000)

    assert "Everyone keeps their password" in asked[0]
    assert "Backups made before still open with the passwords of their time" in asked[0]
    assert stages[0] == "Preparing the new key"
    assert stages[1].startswith("Re-encrypting the clinic's data (")
    assert stages[2] == "Saving the keys"


def test_a_desk_whose_account_was_removed_elsewhere_signs_out_saying_why(
    qtbot, clinic_dir, admin, staff, settings
):
    from ui.app import Controller
    from ui.login import LoginWindow
    from ui.main_window import MainWindow

    staff(Role.RECEPTIONIST, username="rita").close()
    controller = Controller(clinic_dir[0], settings=settings)
    controller.start()
    login = controller.window
    qtbot.keyClicks(login.username, "rita")
    qtbot.keyClicks(login.password, STAFF_PASSWORD)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(controller.window, MainWindow), timeout=10_000)
    qtbot.waitUntil(lambda: not controller.tasks.busy, timeout=10_000)

    rita_id = next(u.id for u in admin.users.list(admin.actor) if u.username == "rita")
    admin.users.deactivate(admin.actor, rita_id)  # at the admin's desk
    controller.window.pages["frontdesk"].search.box.setText("ok")  # her next call

    qtbot.waitUntil(lambda: isinstance(controller.window, LoginWindow), timeout=10_000)
    assert "This account has been removed" in controller.window.message.text()
    controller._close_session()


def test_an_older_backup_is_reencrypted_from_the_backups_screen(
    qtbot, make_main, admin, staff, tasks, tmp_path
):
    staff(Role.RECEPTIONIST, username="rita").close()
    old = admin.backup(tmp_path / "old.cdbak").path
    admin.users.change_clinic_key(admin.actor)
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    screen = workspace.backups
    workspace.tabs.setCurrentWidget(screen)
    assert "including those of accounts removed since" in screen.findChild(QLabel).text()

    screen.reencrypt(old)
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=20_000)
    assert screen.message.text().startswith("old.cdbak is now encrypted with the clinic's")
    screen.reencrypt(old)
    qtbot.waitUntil(lambda: "already encrypted" in screen.message.text(), timeout=20_000)

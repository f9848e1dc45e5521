"""An admin resets a forgotten password on the Users screen; its owner signs in with the
temporary password and must choose their own before anything else."""

from __future__ import annotations

from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt

from clinicdesk.permissions import Role
from ui.admin.user_dialogs import ResetPasswordDialog
from ui.app import Controller
from ui.login import LoginWindow
from ui.main_window import MainWindow
from ui.password_dialog import ChangePasswordDialog


def test_reset_on_the_users_screen_then_the_new_password_is_forced_at_sign_in(
    qtbot, make_main, tasks, admin, staff, clinic_dir, settings, shared
):
    staff(Role.RECEPTIONIST, username="rita")
    main = make_main(admin)
    users = main.show_workspace("admin").users
    wait_idle(qtbot, tasks)
    users.table.selectRow([u.username for u in users.model.rows].index("admin"))
    assert not users.reset_button.isEnabled()  # one's own password is changed, not reset
    users.table.selectRow([u.username for u in users.model.rows].index("rita"))
    qtbot.mouseClick(users.reset_button, Qt.MouseButton.LeftButton)
    dialog = users.findChild(ResetPasswordDialog)
    temporary = dialog.password.text()
    assert len(temporary) == 14
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    assert users.message.text().startswith("Rita: password reset;")
    rita = next(u for u in users.model.rows if u.username == "rita")
    assert users.model.cells(rita)[3] == "Must choose a new password"

    controller = Controller(clinic_dir[0], settings=settings)
    controller.start()
    login = controller.window
    assert isinstance(login, LoginWindow)
    login.username.clear()
    qtbot.keyClicks(login.username, "rita")
    qtbot.keyClicks(login.password, shared.STAFF_PASSWORD)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: login.message.isVisible(), timeout=5000)
    assert "not correct" in login.message.text()  # the old password no longer opens

    qtbot.keyClicks(login.password, temporary)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: login.findChild(ChangePasswordDialog) is not None, timeout=5000)
    change = login.findChild(ChangePasswordDialog)
    assert controller.window is login  # nothing else opens first
    qtbot.keyClicks(change.current, "not the one")
    qtbot.keyClicks(change.new, "rita's own pass")
    qtbot.keyClicks(change.repeat, "rita's own pass")
    qtbot.keyClick(change.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: change.form.error_text("password") != "", timeout=5000)
    assert change.form.error_text("password") == "Temporary password is not correct"

    change.current.clear()
    qtbot.keyClicks(change.current, temporary)
    for field in (change.new, change.repeat):
        field.clear()
        qtbot.keyClicks(field, temporary)
    qtbot.keyClick(change.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: change.form.error_text("new_password") != "", timeout=5000)
    assert change.form.error_text("new_password") == (
        "New password must differ from the temporary password"
    )

    for field in (change.new, change.repeat):
        field.clear()
        qtbot.keyClicks(field, "rita's own pass")
    qtbot.keyClick(change.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(controller.window, MainWindow), timeout=10_000)
    assert controller.session.must_change_password is False
    qtbot.waitUntil(lambda: not controller.tasks.busy, timeout=5000)
    controller.window.close()
    controller._close_session()

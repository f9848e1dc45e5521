"""What an admin sees: the roles dialog shows every role, greys what she may not grant, and
never strips a super admin's role by saving; the pharmacy shows her the stock, not what patients
were given."""

from __future__ import annotations

from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt

from clinicdesk.permissions import Role
from ui.admin.user_dialogs import RolesDialog
from ui.pharmacy.pages import HISTORY, PAGES


def open_roles(qtbot, make_main, tasks, session, username: str) -> RolesDialog:
    main = make_main(session)
    workspace = main.show_workspace("admin")
    users = workspace.users
    workspace.tabs.setCurrentWidget(users)
    wait_idle(qtbot, tasks)
    row = [u.username for u in users.model.rows].index(username)
    users.table.selectRow(row)
    users.table.setFocus()
    qtbot.keyClick(users.table, Qt.Key.Key_Return)  # the keyboard path: Enter on the row
    dialog = users.findChild(RolesDialog)
    assert dialog is not None
    return dialog


def test_an_admin_sees_the_super_admin_role_greyed_and_cannot_strip_it(
    qtbot, make_main, tasks, admin, staff
):
    bea = staff(Role.ADMIN, username="bea")
    dialog = open_roles(qtbot, make_main, tasks, bea, "admin")
    box = dialog.roles.boxes[Role.SUPER_ADMIN]
    assert box.isChecked() and not box.isEnabled()
    assert not dialog.save.isEnabled()
    assert dialog.message.isVisible()
    assert dialog.message.text().startswith("Only a super admin may change")
    dialog.reject()
    (ada,) = [u for u in admin.users.list(admin.actor) if u.username == "admin"]
    assert Role.SUPER_ADMIN in ada.roles


def test_an_admin_grants_a_clinical_role_but_not_an_admin_one(
    qtbot, make_main, tasks, admin, staff
):
    bea = staff(Role.ADMIN, username="bea")
    staff(Role.RECEPTIONIST, username="clerk")
    dialog = open_roles(qtbot, make_main, tasks, bea, "clerk")
    boxes = dialog.roles.boxes
    assert set(boxes) == set(Role)
    assert not boxes[Role.SUPER_ADMIN].isEnabled() and not boxes[Role.ADMIN].isEnabled()
    boxes[Role.PHARMACIST].setChecked(True)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog) or not dialog.isVisible(), timeout=5000)
    wait_idle(qtbot, tasks)
    (clerk,) = [u for u in admin.users.list(admin.actor) if u.username == "clerk"]
    assert clerk.roles == {Role.RECEPTIONIST, Role.PHARMACIST}


def test_an_admin_cannot_open_her_own_roles_for_change(qtbot, make_main, tasks, staff):
    bea = staff(Role.ADMIN, username="bea")
    dialog = open_roles(qtbot, make_main, tasks, bea, "bea")
    assert not dialog.save.isEnabled()
    assert not any(box.isEnabled() for box in dialog.roles.boxes.values())
    assert "your own roles" in dialog.message.text()


def test_an_admin_managing_stock_has_no_dispensing_history(qtbot, make_main, tasks, staff):
    """Every patient's dispensed medicines are for those who dispense, not for the stock
    permission alone."""
    main = make_main(staff(Role.ADMIN, username="bea"))
    pharmacy = main.show_workspace("pharmacy")
    assert not pharmacy.views.isTabEnabled(PAGES.index(HISTORY))
    pharmacy.show_history()
    assert pharmacy.stack.currentWidget() is not pharmacy.history
    wait_idle(qtbot, tasks)

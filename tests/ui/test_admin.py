"""The admin workspace: users, the audit log, clinic settings and backups."""

from __future__ import annotations

import shiboken6
from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from clinicdesk.jobs import BACKUPS, JobRunner
from clinicdesk.permissions import Role
from ui.admin.user_dialogs import CreateUserDialog


def test_create_user_and_change_roles(qtbot, make_main, admin, tasks):
    main = make_main(admin)
    typing_in = QApplication.focusWidget()  # the patient search box, where reception types
    assert typing_in is main.pages["frontdesk"].search.box
    qtbot.keyClick(typing_in, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    workspace = main.stack.currentWidget()
    assert workspace is main.pages["admin"]
    users = workspace.users
    wait_idle(qtbot, tasks)
    assert [u.username for u in users.model.rows] == ["admin"]

    qtbot.mouseClick(users.create_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    dialog = users.findChild(CreateUserDialog)
    assert not dialog.doctor.licence.isVisibleTo(dialog)  # only for a doctor
    qtbot.keyClicks(dialog.username, "maria")
    qtbot.keyClicks(dialog.display_name, "Maria Lopez")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.error_text("roles") != "", timeout=5000)
    assert dialog.form.error_text("roles") == "Choose at least one role"

    dialog.roles.boxes[Role.RECEPTIONIST].setChecked(True)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), timeout=5000)
    wait_idle(qtbot, tasks)
    maria = next(u for u in users.model.rows if u.username == "maria")
    assert maria.status == "pending"
    assert users.model.cells(maria)[2:4] == ("Receptionist", "Pending first sign-in")
    assert "account created" in users.message.text()


def test_a_doctor_account_is_created_with_the_profile(qtbot, make_main, admin, tasks):
    service = admin.schedule.add_service(admin.actor, "Consultation", 20, 5, 4500)
    main = make_main(admin)
    users = main.show_workspace("admin").users
    wait_idle(qtbot, tasks)
    qtbot.mouseClick(users.create_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    dialog = users.findChild(CreateUserDialog)
    qtbot.keyClicks(dialog.username, "dr.ade")
    qtbot.keyClicks(dialog.display_name, "Dr Ade Bello")
    dialog.roles.boxes[Role.DOCTOR].setChecked(True)
    assert dialog.doctor.licence.isVisibleTo(dialog)
    qtbot.keyClicks(dialog.doctor.new_specialization, "Paediatrics")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.error_text("licence_number") != "", timeout=5000)
    assert dialog.form.error_text("licence_number") == "Licence number is required"
    assert dialog.form.error_text("services") == "Choose at least one service"
    assert [u.username for u in admin.users.list(admin.actor)] == ["admin"]

    qtbot.keyClicks(dialog.doctor.licence, "GMC 7012345")
    dialog.doctor.service_boxes[service.id].setChecked(True)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    assert "Dr Ade Bello: account created" in users.message.text()
    (doctor,) = admin.schedule.doctors(admin.actor)
    assert (doctor.name, doctor.specialization, doctor.licence_number) == (
        "Dr Ade Bello",
        "Paediatrics",
        "GMC 7012345",
    )


def test_verify_chain_reports_intact(qtbot, make_main, admin, tasks):
    main = make_main(admin)
    main.show_workspace("admin")
    workspace = main.pages["admin"]
    audit = workspace.audit
    workspace.tabs.setCurrentWidget(audit)
    wait_idle(qtbot, tasks)
    assert audit.model.rowCount() > 0
    qtbot.mouseClick(audit.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: audit.result.isVisible(), timeout=5000)
    assert audit.result.text().startswith("The audit chain is intact:")
    wait_idle(qtbot, tasks)
    QApplication.processEvents()


def test_receptionist_sees_no_admin(qtbot, make_main, staff):
    main = make_main(staff(Role.RECEPTIONIST))
    assert list(main.pages) == ["frontdesk"]


def test_back_up_from_the_admin_screen(qtbot, make_main, admin, tasks, tmp_path):
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    screen = workspace.backups
    workspace.tabs.setCurrentWidget(screen)
    target = tmp_path / "usb drive" / "backups"
    screen.folder.setText(str(target))
    qtbot.mouseClick(screen.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=10_000)
    (written,) = target.glob("*.cdbak")
    assert screen.message.text().startswith("Backup written and verified:")
    assert str(written) in screen.message.text()
    assert admin.audit.recent(admin.actor, 1)[0].action == "data.backup"

    screen.folder.clear()
    qtbot.mouseClick(screen.button, Qt.MouseButton.LeftButton)
    assert screen.form.error_text("folder") == "Backup folder is required"
    assert list(target.glob("*.cdbak")) == [written]


def test_the_backups_screen_refuses_the_data_folder_and_creates_nothing_there(
    qtbot, make_main, admin, tasks
):
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    screen = workspace.backups
    workspace.tabs.setCurrentWidget(screen)
    inside = admin.folder / "my backups"
    screen.folder.setText(str(inside))
    qtbot.mouseClick(screen.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=10_000)
    assert "inside the clinic's data folder" in screen.message.text()
    assert not inside.exists()
    assert not list(admin.folder.rglob("*.cdbak"))


def test_settings_name_minutes_rightly_and_saved_note_goes_on_the_next_edit(
    qtbot, make_main, admin, tasks
):
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    screen = workspace.settings
    workspace.tabs.setCurrentWidget(screen)
    screen.idle.setValue(1)
    assert screen.idle.text() == "1 minute"
    screen.idle.setValue(2)
    assert screen.idle.text() == "2 minutes"
    screen.idle.setValue(1)

    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=5000)
    assert screen.message.text() == "Settings saved."
    assert admin.clinic.details().idle_lock_minutes == 1

    qtbot.keyClicks(screen.phone, "5")
    assert not screen.message.isVisible()
    screen.name.clear()
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.form.error_text("name") != "", timeout=5000)
    assert not screen.message.isVisible()


def test_the_backups_screen_lists_backups_and_keeps_the_daily_schedule(
    qtbot, make_main, admin, tasks, tmp_path
):
    main = make_main(admin)
    workspace = main.show_workspace("admin")
    screen = workspace.backups
    workspace.tabs.setCurrentWidget(screen)
    wait_idle(qtbot, tasks)
    assert screen.model.rows == []
    assert screen.daily.isChecked() and screen.at.text() == "19:00"
    assert screen.keep.text() == "30 days"

    daily = tmp_path / "usb" / "daily"
    screen.scheduled_folder.setText(str(admin.folder / "inside"))
    qtbot.mouseClick(screen.schedule_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.schedule_form.error_text("folder") != "", timeout=5000)
    assert "inside the clinic's data folder" in screen.schedule_form.error_text("folder")
    screen.scheduled_folder.setText(str(daily))
    screen.keep.setValue(1)
    qtbot.mouseClick(screen.schedule_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.schedule_message.isVisible(), timeout=5000)
    assert screen.schedule_message.text() == (
        f"Daily backup at 19:00 into {daily}, kept for 1 day."
    )
    assert admin.backups.schedule(admin.actor).folder == str(daily)

    screen.folder.setText(str(tmp_path / "by hand"))
    qtbot.mouseClick(screen.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=10_000)
    assert JobRunner(admin.store, (BACKUPS,)).run("backup") is True  # as a desk's jobs would
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2, timeout=5000)
    shown = [screen.model.cells(row) for row in screen.model.rows]
    assert sorted(cells[2] for cells in shown) == sorted([admin.actor.display_name, "Scheduled"])
    assert {cells[3] for cells in shown} == {"Verified"}
    scheduled = next(cells for cells in shown if cells[2] == "Scheduled")
    assert scheduled[4].startswith(str(daily))

"""First-run set-up through the wizard, as the person installing ClinicDesk does it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from clinicdesk.services.access import FolderState, folder_state, sign_in
from ui.setup_wizard import ADMIN_PAGE, CHOICE_PAGE, CLINIC_PAGE, RECOVERY_PAGE, SetupWizard


def choose_new_clinic(qtbot, wizard: SetupWizard) -> None:
    """The first page asks: a new clinic (chosen already) or joining one."""
    assert wizard.currentId() == CHOICE_PAGE
    assert wizard.choice_page.new.isChecked()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == CLINIC_PAGE


def test_setup_end_to_end(qtbot, tmp_path, tasks, fast_kdf):
    folder = tmp_path / "new clinic"
    wizard = SetupWizard(folder, tasks, kdf=fast_kdf)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    choose_new_clinic(qtbot, wizard)
    page = wizard.clinic_page

    # Next with no name: the field says why and keeps focus
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert page.form.error_text("name") == "Clinic name is required"
    assert wizard.currentId() != ADMIN_PAGE

    qtbot.keyClicks(page.name, "Harbour Medical Practice")
    qtbot.keyClicks(page.address, "3 Quay Street, Portsmouth")
    qtbot.keyClicks(page.phone, "+44 23 9200 0000")
    page.time_zone.lineEdit().clear()
    qtbot.keyClicks(page.time_zone.lineEdit(), "Europe/London")
    page.currency.lineEdit().clear()
    qtbot.keyClicks(page.currency.lineEdit(), "gbp")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == ADMIN_PAGE

    admin = wizard.admin_page
    qtbot.keyClicks(admin.username, "hana")
    qtbot.keyClicks(admin.display_name, "Hana Admin")
    qtbot.keyClicks(admin.password, "short")
    qtbot.keyClicks(admin.repeat, "short")
    create = wizard.button(QWizard.WizardButton.CommitButton)
    qtbot.mouseClick(create, Qt.MouseButton.LeftButton)
    assert admin.form.error_text("password") == "Password must be at least 10 characters long"
    assert wizard.focusWidget() is admin.password

    admin.password.clear()
    admin.repeat.clear()
    qtbot.keyClicks(admin.password, "harbour lights 7")
    qtbot.keyClicks(admin.repeat, "harbour lights 8")
    qtbot.mouseClick(create, Qt.MouseButton.LeftButton)
    assert admin.form.error_text("repeat") == "Repeat password does not match the password"

    admin.repeat.clear()
    qtbot.keyClicks(admin.repeat, "harbour lights 7")
    qtbot.mouseClick(create, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentId() == RECOVERY_PAGE, timeout=10000)

    recovery = wizard.recovery_page
    key = recovery.key_label.text()
    assert len(key.replace("-", "")) == 32
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled()
    qtbot.keyClicks(recovery.confirm, "AAAA-BBBB")
    assert not finish.isEnabled()
    assert recovery.match.text() == "Not the same key yet."
    recovery.confirm.clear()
    qtbot.keyClicks(recovery.confirm, key.replace("-", " ").lower())  # spaces, lower case: fine
    assert finish.isEnabled()

    with qtbot.waitSignal(wizard.completed) as done:
        qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert done.args == ["hana", "Harbour Medical Practice"]
    assert folder_state(folder) is FolderState.READY
    session = sign_in(folder, "hana", "harbour lights 7")
    try:
        details = session.clinic.details()
        assert (details.name, details.time_zone, details.currency) == (
            "Harbour Medical Practice",
            "Europe/London",
            "GBP",
        )
    finally:
        session.close()


def test_unknown_time_zone_is_named(qtbot, tmp_path, tasks):
    wizard = SetupWizard(tmp_path / "c", tasks)
    qtbot.addWidget(wizard)
    wizard.show()
    choose_new_clinic(qtbot, wizard)
    page = wizard.clinic_page
    qtbot.keyClicks(page.name, "Clinic")
    page.time_zone.lineEdit().clear()
    qtbot.keyClicks(page.time_zone.lineEdit(), "Mars/Olympus")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert "not a known time zone" in page.form.error_text("time_zone")
    assert page.time_zone.property("invalid") is True

"""Adding a workstation through the real widgets and the real server: Admin -> Sync makes a
code and shows it (text, QR, server, fingerprint, time left); on a new PC the set-up wizard's
"Join a clinic" refuses a wrong code on its page, leaving the folder empty, then joins with the
right one, showing its progress, and its staff sign in there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWizard

from clinicdesk.services.access import FolderState, folder_state, sign_in
from clinicdesk.sync.join_code import new_code
from tests.conftest import STAFF_PASSWORD
from tests.sync.conftest import patients_at
from tests.sync.test_join import connected_clinic, nothing_in
from ui.admin.sync import SyncScreen
from ui.context import AppContext
from ui.setup_wizard import CHOICE_PAGE, JOIN_PAGE, SetupWizard
from ui.tasks import TaskRunner


@pytest.fixture
def tasks(qtbot):
    runner = TaskRunner()
    yield runner
    runner.wait()


def make_code_on_screen(qtbot, admin, tasks, name: str):
    admin.start_sync()  # as when the clinic is opened on a desk that syncs
    screen = SyncScreen(AppContext(admin, tasks, admin.clinic.details()))
    qtbot.addWidget(screen)
    screen.show()
    assert screen.add_button.isVisible()
    screen.add_button.click()
    dialog = screen.add_dialog
    dialog.save.click()  # no name yet: asked for, nothing made
    qtbot.waitUntil(lambda: "required" in dialog.form.error_text("device"), timeout=10_000)
    qtbot.keyClicks(dialog.device, name)
    qtbot.keyClick(dialog.device, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.code is not None, timeout=15_000)
    return screen, dialog


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_an_admin_shows_a_code_and_the_new_pc_joins_with_it(
    qtbot, clinic_dir, tmp_path, server, tasks
):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        _screen, dialog = make_code_on_screen(qtbot, admin, tasks, "Consulting 2")
        code = dialog.code
        assert code is not None and code.device_name == "Consulting 2"
        shown = dialog.code_label.text().split()
        assert "-".join(shown) == code.code  # the six groups, as they are read out
        assert dialog.qr.pixmap().width() >= 150  # large enough for a scanner across a desk
        assert dialog.left.text().startswith(("Valid for 29 min", "Valid for 30 min 00 s"))
        assert code.fingerprint == dialog.fingerprint.text().split("\n", 1)[1].replace("\n", ":")
        assert code.server in dialog.server.text()
        # once its time is up, the dialog says so
        dialog.clock = lambda: code.expires_at + timedelta(seconds=1)
        dialog._tick()
        assert "expired" in dialog.left.text() and not dialog.code_label.isEnabled()
    finally:
        admin.close()

    folder = tmp_path / "new-pc"
    wizard = SetupWizard(folder, tasks)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    assert wizard.currentId() == CHOICE_PAGE
    qtbot.mouseClick(wizard.choice_page.join, Qt.MouseButton.LeftButton, pos=QPoint(8, 10))
    assert wizard.choice_page.join.isChecked()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == JOIN_PAGE
    page = wizard.join_page
    join_button = wizard.button(QWizard.WizardButton.FinishButton)
    assert join_button.text() == "Join clinic"

    # a typing mistake is told under the field before anything is sent
    typo = code.code[:-1] + ("2" if code.code[-1] != "2" else "3")
    qtbot.keyClicks(page.code, typo)
    qtbot.keyClicks(page.address, server.url.removeprefix("https://"))
    qtbot.keyClick(page.address, Qt.Key.Key_Return)
    assert "typing mistake" in page.form.error_text("code")
    assert nothing_in(folder)

    # a code the server does not know: the fingerprint is shown to compare, then the refusal
    page.code.clear()
    qtbot.keyClicks(page.code, new_code())
    qtbot.keyClick(page.code, Qt.Key.Key_Return)
    qtbot.waitUntil(page.same.isVisible, timeout=10_000)
    assert code.fingerprint.split(":")[0] in page.fingerprint.text()
    qtbot.keyClick(page.code, Qt.Key.Key_Return)  # not ticked: asked to compare first
    assert "tick the box" in page.message.text()
    page.same.setChecked(True)
    qtbot.keyClick(page.code, Qt.Key.Key_Return)
    qtbot.waitUntil(page.message.isVisible, timeout=10_000)
    qtbot.waitUntil(lambda: "knows no such join code" in page.message.text(), timeout=10_000)
    assert page.code.isEnabled() and join_button.isEnabled()
    assert nothing_in(folder)

    # the right code joins, with its progress shown, and the wizard ends for the sign-in
    page.code.clear()
    qtbot.keyClicks(page.code, code.code.lower())
    seen: list[tuple[int, int, bool, str]] = []

    def shown(_done: int, _total: int) -> None:  # after the page's own slot: as it then stands
        bar = page.progress
        seen.append((bar.value(), bar.maximum(), bar.isVisible(), page.progress_text.text()))

    page.progressed.connect(shown)
    with qtbot.waitSignal(wizard.completed, timeout=60_000) as done:
        qtbot.keyClick(page.code, Qt.Key.Key_Return)
    assert done.args == ["", "Sunrise Family Clinic"]
    value, maximum, visible, text = seen[-1]
    assert visible and value == maximum > 0
    assert text == f"Receiving the clinic's records: {maximum:,} of {maximum:,} changes\u2026"
    assert folder_state(folder) is FolderState.READY
    session = sign_in(folder, "ben", STAFF_PASSWORD)
    try:
        assert patients_at(session) == 2
    finally:
        session.close()


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_scanned_code_brings_the_server_and_pins_it_without_asking(
    qtbot, clinic_dir, tmp_path, server, tasks
):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        code = admin.sync.make_join_code(admin.actor, "Pharmacy")
    finally:
        admin.close()
    folder = tmp_path / "pharmacy-pc"
    wizard = SetupWizard(folder, tasks)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.choice_page.join.setChecked(True)
    wizard.next()
    page = wizard.join_page
    # the barcode scanner types the QR's text into the focused field, then Enter
    assert page.code.hasFocus() or wizard.focusWidget() is page.code
    qtbot.keyClicks(page.code, code.uri)
    assert page.code.text() == code.code
    assert page.address.text() == server.url.removeprefix("https://")
    with qtbot.waitSignal(wizard.completed, timeout=60_000):
        qtbot.keyClick(page.code, Qt.Key.Key_Return)
    assert not page.same.isVisible()  # the scanned fingerprint matched: nothing to compare
    assert folder_state(folder) is FolderState.READY

"""Admin -> Sync through the real widgets and the real server: the certificate is checked and
its fingerprint shown before anything is sent, a wrong token is refused in words, and once
connected the screen lists this desk among the clinic's devices."""

from __future__ import annotations

import pytest
import shiboken6

from clinicdesk.sync.protocol import same_fingerprint
from ui.admin.sync import SyncScreen
from ui.context import AppContext
from ui.tasks import TaskRunner


@pytest.fixture
def tasks(qtbot):
    runner = TaskRunner()
    yield runner
    runner.wait()


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_an_admin_connects_the_clinic_after_comparing_the_certificate(qtbot, admin, server, tasks):
    screen = SyncScreen(AppContext(admin, tasks, admin.clinic.details()))
    qtbot.addWidget(screen)
    screen.show()
    assert screen.state.text() == "Not connected: this desk works alone."
    assert not screen.table.isVisible()

    screen.connect_button.click()
    dialog = screen.connect_dialog
    qtbot.keyClicks(dialog.address, server.url.removeprefix("https://"))
    dialog.save.click()  # the server not checked yet: nothing is sent
    assert dialog.form.error_text("address") == (
        "Check the server first, and compare its certificate's fingerprint."
    )

    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.server is not None, timeout=10_000)
    shown = dialog.server.fingerprint
    assert same_fingerprint(shown, server.fingerprint)
    assert shown in dialog.fingerprint.text().replace("\n", ":")

    qtbot.keyClicks(dialog.token, "not-the-operators-token")
    dialog.save.click()
    qtbot.waitUntil(dialog.message.isVisible, timeout=10_000)
    assert "token" in dialog.message.text().lower()
    assert not admin.sync.status(admin.actor).enabled

    dialog.token.clear()
    qtbot.keyClicks(dialog.token, server.operator_token)
    dialog.save.click()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), timeout=10_000)
    assert admin.sync.status(admin.actor).enabled
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=10_000)
    this_desk = screen.model.row(0)
    assert this_desk.this_desk and screen.model.cells(this_desk)[0].endswith("(this desk)")
    assert not screen.revoke_button.isEnabled()  # a desk does not remove itself

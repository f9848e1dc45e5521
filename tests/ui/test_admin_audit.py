"""Admin → Audit log: verify (also against a backup), today's digest, a digest typed back."""

from __future__ import annotations

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt

from tests.store.audit_attacks import register, rewrite_and_rechain, seq_of


def _audit_screen(qtbot, make_main, session, tasks):
    main = make_main(session)
    workspace = main.show_workspace("admin")
    screen = workspace.audit
    workspace.tabs.setCurrentWidget(screen)
    wait_idle(qtbot, tasks)
    return screen


def test_todays_digest_is_shown_and_a_digest_typed_back_is_checked(qtbot, make_main, admin, tasks):
    register(admin)
    screen = _audit_screen(qtbot, make_main, admin, tasks)
    shown = screen.digest.text()
    assert shown.startswith("Entry ") and shown.count("-") == 3

    screen.digest_input.setFocus()
    qtbot.keyClicks(screen.digest_input, shown.lower())
    qtbot.keyClick(screen.digest_input, Qt.Key.Key_Return)
    qtbot.waitUntil(screen.digest_result.isVisible, timeout=5000)
    assert screen.digest_result.text().startswith("The digest matches: entry ")

    screen.digest_input.clear()
    qtbot.keyClicks(screen.digest_input, "Entry 3 of 1 Dec 2026: ABCD")
    qtbot.keyClick(screen.digest_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "16 letters" in screen.digest_result.text(), timeout=5000)
    wait_idle(qtbot, tasks)


def test_verify_against_a_backup_names_the_rewritten_entry(
    qtbot, make_main, admin, tasks, tmp_path
):
    register(admin, n=2)
    made = admin.backup(tmp_path / "friday.cdbak").path
    rewrite_and_rechain(admin.store, seq_of(admin.store, "patient.register"), "Somebody Else")
    screen = _audit_screen(qtbot, make_main, admin, tasks)

    screen.verify(made)
    qtbot.waitUntil(screen.result.isVisible, timeout=5000)
    text = screen.result.text()
    assert text.startswith("The audit chain is broken")
    assert "when the backup friday.cdbak was made on " in text
    assert screen.verify_button.isEnabled() and screen.backup_button.isEnabled()
    wait_idle(qtbot, tasks)


def test_verify_says_how_many_outside_records_agree(qtbot, make_main, admin, tasks):
    screen = _audit_screen(qtbot, make_main, admin, tasks)
    qtbot.mouseClick(screen.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(screen.result.isVisible, timeout=5000)
    assert screen.result.text().startswith("The audit chain is intact:")
    assert "record of the log kept outside the database" in screen.result.text()
    wait_idle(qtbot, tasks)

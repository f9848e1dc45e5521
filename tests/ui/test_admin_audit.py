"""Admin → Audit log: entries in words, filters, every entry reachable, new entries arriving;
verify (also against a backup), today's digest, a digest typed back."""

from __future__ import annotations

from datetime import date

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt

from clinicdesk.permissions import Role
from clinicdesk.services.patients import PatientInput
from clinicdesk.store import audit
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


def _about(screen) -> list[str]:
    return [screen.model.cells(r)[4] for r in screen.model.rows]


def test_entries_read_in_words_and_filter_by_keyboard(qtbot, make_main, admin, tasks):
    chloe = admin.patients.register(
        admin.actor,
        PatientInput("Chloé", "Moreau", date(1985, 2, 3), "female"),
        not_a_duplicate=True,
    )
    register(admin, n=2)
    admin.patients.get(admin.actor, chloe.id)
    screen = _audit_screen(qtbot, make_main, admin, tasks)
    cells = [screen.model.cells(r) for r in screen.model.rows]
    assert ("Ada Admin", "Opened a patient's record", f"Patient Chloé Moreau ({chloe.mrn})") in [
        c[2:5] for c in cells
    ]
    assert "Signed in" in [c[3] for c in cells]

    screen.filters.patient.setFocus()
    qtbot.keyClicks(screen.filters.patient, "moreau")
    qtbot.keyClick(screen.filters.patient, Qt.Key.Key_Tab)  # on to the action list
    assert screen.filters.action.hasFocus()
    qtbot.keyClick(screen.filters.action, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(screen.model.rows) == 2, timeout=5000)
    assert set(_about(screen)) == {f"Patient Chloé Moreau ({chloe.mrn})"}
    assert screen.count.text() == "2 entries shown."

    qtbot.keyClicks(screen.filters.since, "31/02/2026")
    qtbot.keyClick(screen.filters.since, Qt.Key.Key_Return)
    assert "'31/02/2026' is not a date" in screen.count.text()
    assert len(screen.model.rows) == 2  # nothing else changed
    wait_idle(qtbot, tasks)


def test_every_entry_is_reachable_with_older_entries(qtbot, make_main, admin, tasks):
    with admin.store.write(admin.actor) as s:
        for i in range(230):
            audit.append(s, admin.actor, "patient.view", "patients", None, n=i)
    newest = admin.audit.newest_seq(admin.actor)
    screen = _audit_screen(qtbot, make_main, admin, tasks)
    assert len(screen.model.rows) == 100 and screen.more_button.isVisible()
    while screen.more_button.isVisible():
        qtbot.mouseClick(screen.more_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, tasks)
    assert [r.seq for r in screen.model.rows] == list(range(newest, 0, -1))
    assert screen.count.text() == f"{newest:,} entries shown."


def test_new_entries_appear_while_the_log_is_shown(qtbot, make_main, admin, staff, tasks):
    screen = _audit_screen(qtbot, make_main, admin, tasks)
    assert screen.poll.isActive()
    screen.poll.setInterval(200)  # the test need not wait the usual few seconds
    reception = staff(Role.RECEPTIONIST, username="rosa")  # another desk signs in
    register(reception, family="Dubois")
    qtbot.waitUntil(
        lambda: any(
            r.actor_name == "Rosa" and r.what == "Registered a patient" for r in screen.model.rows
        ),
        timeout=10000,
    )
    assert [r.seq for r in screen.model.rows] == sorted(
        (r.seq for r in screen.model.rows), reverse=True
    )
    screen.hide()
    assert not screen.poll.isActive()
    wait_idle(qtbot, tasks)

"""Admin: the formulary (add, a duplicate refused, withdraw) and the signing keys (rotate,
revoke, export a trust file and import it into another clinic)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import shiboken6
from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel

from clinicdesk.services.access import AdminAccount, create_clinic, sign_in
from ui.admin.formulary import DrugDialog
from ui.admin.signing_keys import RevokeDialog, SigningKeysScreen
from ui.context import AppContext

CLICK = Qt.MouseButton.LeftButton


def admin_tab(qtbot, make_main, admin, tasks, name: str):
    workspace = make_main(admin).show_workspace("admin")
    screen = getattr(workspace, name)
    workspace.tabs.setCurrentWidget(screen)
    wait_idle(qtbot, tasks)
    return screen


def submit_drug(qtbot, screen, tasks, **fields: str) -> DrugDialog:
    qtbot.mouseClick(screen.add_button, CLICK)
    dialog = screen.findChild(DrugDialog)
    for name, text in fields.items():
        qtbot.keyClicks(getattr(dialog, name), text)
    qtbot.mouseClick(dialog.save, CLICK)
    wait_idle(qtbot, tasks)
    return dialog


def test_add_a_drug_refuse_a_duplicate_and_withdraw(qtbot, make_main, admin, tasks):
    screen = admin_tab(qtbot, make_main, admin, tasks, "formulary")
    seeded = screen.model.rowCount()
    assert seeded > 50

    dialog = submit_drug(
        qtbot,
        screen,
        tasks,
        name="Ivermectin",
        ingredients="ivermectin",
        drug_class="antiparasitic",
        forms="tablet",
        strengths="3 mg",
    )
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())
    wait_idle(qtbot, tasks)
    assert screen.message.text() == "Ivermectin: added to the formulary."
    assert screen.model.rowCount() == seeded + 1
    qtbot.keyClicks(screen.search, "antipara")
    assert [screen.model.cells(d)[:4] for d in screen.model.rows] == [
        ("Ivermectin", "In use", "ivermectin", "antiparasitic")
    ]
    assert [d.name for d in admin.formulary.search(admin.actor, "iverm")] == ["Ivermectin"]

    duplicate = submit_drug(qtbot, screen, tasks, name="ibuprofen", ingredients="ibuprofen")
    assert duplicate.isVisible()
    assert duplicate.form.error_text("name") == "Ibuprofen is already in the formulary."
    duplicate.reject()
    assert len(admin.formulary.all(admin.actor)) == seeded + 1

    assert screen.selected().name == "Ivermectin"
    assert screen.active_button.text() == "Withdraw"
    qtbot.mouseClick(screen.active_button, CLICK)
    wait_idle(qtbot, tasks)
    assert screen.message.text().startswith("Ivermectin is withdrawn: no longer offered")
    assert screen.model.cells(screen.selected())[1] == "Withdrawn"
    assert screen.active_button.text() == "Reinstate"
    assert admin.formulary.search(admin.actor, "iverm") == []


def test_empty_drug_fields_are_named(qtbot, make_main, admin, tasks):
    screen = admin_tab(qtbot, make_main, admin, tasks, "formulary")
    dialog = submit_drug(qtbot, screen, tasks, drug_class="antiparasitic")
    assert dialog.form.error_text("name") == "Name is required"
    assert dialog.form.error_text("ingredients") == "Name at least one"


def test_rotate_then_revoke_the_old_key(qtbot, make_main, admin, tasks):
    screen = admin_tab(qtbot, make_main, admin, tasks, "signing_keys")
    (first,) = screen.model.rows
    assert screen.model.cells(first)[2:4] == ("This clinic", "In use")

    qtbot.mouseClick(screen.rotate_button, CLICK)
    box = screen.confirm_box
    assert "stay valid" in box.text()
    qtbot.mouseClick(box.defaultButton(), CLICK)
    wait_idle(qtbot, tasks)
    assert screen.message.text().startswith("New key ")
    new, old = screen.model.rows
    assert old.kid == first.kid
    assert screen.model.cells(old)[3].startswith("Retired, trusted until ")
    assert screen.model.cells(new)[3] == "In use"

    screen.table.selectRow(1)
    qtbot.mouseClick(screen.revoke_button, CLICK)
    dialog = screen.findChild(RevokeDialog)
    qtbot.mouseClick(dialog.save, CLICK)
    wait_idle(qtbot, tasks)
    assert dialog.form.error_text("reason") == "Say why the key is revoked"
    assert [k.status for k in admin.signing_keys.list(admin.actor)] == ["active", "retired"]
    qtbot.keyClicks(dialog.reason, "A copy of the old database was lost")
    qtbot.mouseClick(dialog.save, CLICK)
    wait_idle(qtbot, tasks)
    assert screen.message.text() == (
        f"Key {old.kid} revoked: prescriptions signed with it are refused from now."
    )
    assert [screen.model.cells(k)[3] for k in screen.model.rows] == ["In use", "Revoked"]


def test_trust_file_exported_and_imported_by_another_clinic(
    qtbot, make_main, admin, tasks, tmp_path, monkeypatch, shared
):
    screen = admin_tab(qtbot, make_main, admin, tasks, "signing_keys")
    trust = tmp_path / "sunrise.cdtrust"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(trust), "")))
    qtbot.mouseClick(screen.export_button, CLICK)
    wait_idle(qtbot, tasks)
    assert screen.message.text().startswith(f"Trust file with 1 key written to {trust}.")

    other_details = replace(shared.DETAILS, name="Harbour Street Surgery")
    folder = tmp_path / "other clinic"
    account = AdminAccount("admin", "Olu Admin", shared.ADMIN_PASSWORD)
    create_clinic(folder, other_details, account, kdf=shared.FAST_KDF)
    other = sign_in(folder, "admin", shared.ADMIN_PASSWORD)
    try:
        there = SigningKeysScreen(AppContext(other, tasks, other.clinic.details()))
        qtbot.addWidget(there)
        wait_idle(qtbot, tasks)
        assert [there.model.cells(k)[1:3] for k in there.model.rows] == [
            ("Harbour Street Surgery", "This clinic")
        ]
        chosen = [trust]
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", staticmethod(lambda *a: (str(chosen[0]), ""))
        )
        (ours,) = admin.signing_keys.list(admin.actor)
        qtbot.mouseClick(there.import_button, CLICK)
        wait_idle(qtbot, tasks)
        dialog = there.trust_dialog
        shown = [label.text() for label in dialog.findChildren(QLabel)]
        assert ours.fingerprint in shown
        assert not dialog.import_button.isEnabled()
        qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter alone cancels: nothing imported
        wait_idle(qtbot, tasks)
        assert len(other.signing_keys.list(other.actor)) == 1

        qtbot.mouseClick(there.import_button, CLICK)
        wait_idle(qtbot, tasks)
        dialog = there.trust_dialog
        assert dialog.checked.hasFocus()
        qtbot.keyClick(dialog.checked, Qt.Key.Key_Space)  # the admin checked every group
        assert dialog.import_button.isEnabled()
        qtbot.mouseClick(dialog.import_button, CLICK)
        wait_idle(qtbot, tasks)
        assert there.message.text() == "1 key of Sunrise Family Clinic now known here."
        imported = [k for k in there.model.rows if not k.own]
        assert [there.model.cells(k)[:4] for k in imported] == [
            (
                ours.fingerprint,
                "Sunrise Family Clinic",
                "Imported",
                "In use",
            )
        ]

        chosen[0] = Path(tmp_path / "notes.txt")
        chosen[0].write_text("not keys", encoding="utf-8")
        qtbot.mouseClick(there.import_button, CLICK)
        wait_idle(qtbot, tasks)
        assert there.message.text() == (
            "notes.txt is not a ClinicDesk trust file (it cannot be read as one); "
            "nothing was imported."
        )
        assert len(other.signing_keys.list(other.actor)) == 2
    finally:
        tasks.wait()
        other.close()

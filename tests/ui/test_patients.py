"""Reception's daily work through the front-desk screen: find, register, edit."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from clinicdesk.services.patients import PatientInput
from ui.frontdesk.duplicates import DuplicatesDialog
from ui.frontdesk.patient_dialog import PatientDialog


@pytest.fixture
def desk(make_main, admin):
    main = make_main(admin)
    return main, main.pages["frontdesk"]


def open_register_dialog(qtbot, main, desk) -> PatientDialog:
    qtbot.keyClick(main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = desk.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def type_patient(qtbot, dialog: PatientDialog, **values: str) -> None:
    for name, text in values.items():
        widget = getattr(dialog, name)
        if name == "sex":
            widget.setCurrentIndex(widget.findData(text))
        else:
            type_text(qtbot, widget, text)


def type_text(qtbot, widget, text: str) -> None:
    """QTest can only type ASCII keys; other letters arrive as if from an input method."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
        else:
            widget.insert(char)


def search(qtbot, tasks, desk, text: str) -> None:
    box = desk.search.box
    box.clear()
    qtbot.keyClicks(box, text)
    qtbot.waitUntil(
        lambda: (
            desk.search.status.text().endswith(("found", "patient."))
            or "No patient" in desk.search.status.text()
        ),
        timeout=3000,
    )
    wait_idle(qtbot, tasks)


def test_register_then_find_by_search(qtbot, desk, tasks):
    main, desk = desk
    dialog = open_register_dialog(qtbot, main, desk)
    type_patient(
        qtbot,
        dialog,
        given_name="Zoë",
        family_name="Okafor",
        date_of_birth="07/11/1990",
        sex="female",
        phone="+44 7700 900123",
    )
    assert dialog.dob_hint.text().startswith("7 November 1990")
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)  # Enter saves
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    assert desk.detail.patient.full_name == "Zoë Okafor"
    assert desk.detail.patient.mrn.startswith("SFC-")

    search(qtbot, tasks, desk, "zoe oka")
    assert desk.search.model.rowCount() == 1
    assert desk.search.model.patient(0).family_name == "Okafor"
    search(qtbot, tasks, desk, "07/11/1990")
    assert desk.search.model.rowCount() == 1


def test_keyboard_from_search_box_to_opened_patient(qtbot, desk, tasks, admin):
    main, desk = desk
    for given, phone in (
        ("Amir", "0161 496 0001"),
        ("Anna", "0161 496 0002"),
        ("Anton", "0161 496 0003"),
    ):
        data = PatientInput(given, "Novak", date(1980, 1, 1), "male", phone=phone)
        admin.patients.register(admin.actor, data, not_a_duplicate=True)
    qtbot.keyClick(main, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    search(qtbot, tasks, desk, "novak")
    assert desk.search.model.rowCount() == 3
    qtbot.keyClick(desk.search.box, Qt.Key.Key_Down)
    assert main.focusWidget() is desk.search.table
    qtbot.keyClick(desk.search.table, Qt.Key.Key_Down)
    qtbot.keyClick(desk.search.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.detail.patient is not None, timeout=3000)
    assert desk.detail.patient.given_name == "Anna"
    assert desk.detail.values["dob"].text() == "01/01/1980"


def test_bad_field_is_shown_under_it(qtbot, desk, tasks):
    main, desk = desk
    dialog = open_register_dialog(qtbot, main, desk)
    type_patient(
        qtbot,
        dialog,
        given_name="Tom",
        family_name="Baker",
        date_of_birth="31/02/1970",
        sex="male",
        phone="12ab",
        email="tom.example.com",
    )
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    form = dialog.form
    assert form.error_text("date_of_birth") == (
        "Date of birth is not a date: February 1970 has 28 days"
    )
    assert dialog.dob_hint.text() == "Not a date: February 1970 has 28 days"
    assert form.error_text("phone").startswith("Phone may contain only digits")
    assert form.error_text("email").startswith("Email is not a valid e-mail address")
    assert form.error_text("given_name") == ""
    assert dialog.focusWidget() is dialog.date_of_birth  # the first bad field
    assert dialog.isVisible()
    wait_idle(qtbot, tasks)
    assert admin_count(desk) == 0


def admin_count(desk) -> int:
    return desk.ctx.session.patients.count(desk.ctx.actor)


def test_duplicate_dialog_offers_the_existing_patient(qtbot, desk, tasks, admin):
    main, desk = desk
    existing = admin.patients.register(
        admin.actor, PatientInput("José", "Müller", date(1985, 3, 12), "male", phone="0170 1234567")
    )
    dialog = open_register_dialog(qtbot, main, desk)
    type_patient(
        qtbot, dialog, given_name="Jose", family_name="Muller", date_of_birth="12031985", sex="male"
    )
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.duplicates is not None and dialog.duplicates.isVisible(), timeout=5000
    )
    duplicates: DuplicatesDialog = dialog.duplicates
    assert duplicates.table.item(0, 0).text() == existing.mrn
    assert "same date of birth" in duplicates.table.item(0, 4).text()

    qtbot.mouseClick(duplicates.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: desk.detail.patient is not None, timeout=3000)
    assert desk.detail.patient.id == existing.id
    assert gone(dialog)
    assert admin_count(desk) == 1


def test_duplicate_can_be_registered_as_new_person(qtbot, desk, tasks, admin):
    main, desk = desk
    admin.patients.register(admin.actor, PatientInput("Mary", "Smith", date(1950, 5, 5), "female"))
    dialog = open_register_dialog(qtbot, main, desk)
    type_patient(
        qtbot,
        dialog,
        given_name="Mary",
        family_name="Smith",
        date_of_birth="05/05/1950",
        sex="female",
    )
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.duplicates is not None and dialog.duplicates.isVisible(), timeout=5000
    )
    qtbot.mouseClick(dialog.duplicates.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    wait_idle(qtbot, tasks)
    assert admin_count(desk) == 2


def test_edit_saves_and_history_shows_who_changed_what(qtbot, desk, tasks, admin):
    main, desk = desk
    admin.patients.register(admin.actor, PatientInput("Ravi", "Patel", date(1975, 8, 1), "male"))
    search(qtbot, tasks, desk, "patel")
    qtbot.keyClick(desk.search.box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.detail.patient is not None, timeout=3000)
    qtbot.keyClick(main, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = desk.dialog
    assert dialog.given_name.text() == "Ravi"
    qtbot.keyClicks(dialog.phone, "0113 496 0000")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    assert desk.detail.values["phone"].text() == "0113 496 0000"

    qtbot.mouseClick(desk.detail.history_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: desk.history_dialog is not None, timeout=3000)
    table = desk.history_dialog.table
    assert table.item(0, 2).text() == "Ada Admin"
    assert table.item(0, 3).text() == "Phone: (empty) → 0113 496 0000"
    assert table.item(1, 3).text() == "Registered"
    desk.history_dialog.close()


def test_edit_conflict_shows_its_message(qtbot, desk, tasks, admin):
    main, desk = desk
    p = admin.patients.register(
        admin.actor, PatientInput("Lena", "Berg", date(1990, 2, 2), "female")
    )
    search(qtbot, tasks, desk, "berg")
    qtbot.keyClick(desk.search.box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.detail.patient is not None, timeout=3000)
    qtbot.keyClick(main, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = desk.dialog
    # someone at another desk saves first
    admin.patients.update(
        admin.actor,
        p.id,
        PatientInput("Lena", "Berg", date(1990, 2, 2), "female", phone="020 7946 0001"),
        1,
    )
    qtbot.keyClicks(dialog.email, "lena@example.org")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=5000)
    assert "changed by someone else" in dialog.message.text()
    assert dialog.isVisible() and dialog.email.text() == "lena@example.org"
    dialog.done(0)


def test_stale_search_results_are_dropped(qtbot, desk, tasks, admin):
    _main, desk = desk
    admin.patients.register(
        admin.actor, PatientInput("Olga", "Ivanova", date(1960, 1, 1), "female")
    )
    box = desk.search.box
    qtbot.keyClicks(box, "iv")
    desk.search.search_now()  # an answer for "iv" is on its way...
    qtbot.keyClicks(box, "x")  # ...but the text changed meanwhile
    wait_idle(qtbot, tasks)
    qtbot.waitUntil(lambda: "No patient" in desk.search.status.text(), timeout=3000)
    assert desk.search.model.rowCount() == 0
    QApplication.processEvents()

"""Enter saves a new patient on every way in, also after a save was refused for a field."""

from __future__ import annotations

from conftest import gone, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

ENTER = Qt.Key.Key_Return


def opened(qtbot, dialog):
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    return dialog


def refuse_then_fix_then_enter(qtbot, register) -> None:
    """Save clicked with the sex missing is refused; choose it, then Enter in a text box saves
    (the click had left the dialog without a default button, so Enter did nothing)."""
    for field, text in (
        ("given_name", "Nia"),
        ("family_name", "Osei"),
        ("date_of_birth", "03/04/1992"),
    ):
        qtbot.keyClicks(getattr(register, field), text)
    qtbot.mouseClick(register.save, Qt.MouseButton.LeftButton)
    assert register.form.error_text("sex") == "Sex is required"
    assert QApplication.focusWidget() is register.sex
    register.sex.setCurrentIndex(register.sex.findData("female"))
    register.phone.setFocus()
    qtbot.keyClicks(register.phone, "0161 496 0777")
    qtbot.keyClick(register.phone, ENTER)
    qtbot.waitUntil(lambda: gone(register), timeout=5000)


def test_enter_saves_in_new_patient_from_the_walk_in_dialog(qtbot, make_main, admin, tasks):
    main = make_main(admin)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_F4)
    qtbot.keyClick(main, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desk.walk_in_dialog is not None, timeout=3000)
    walk_in = opened(qtbot, desk.walk_in_dialog)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    register = opened(qtbot, walk_in.register_dialog)
    refuse_then_fix_then_enter(qtbot, register)
    wait_idle(qtbot, tasks)
    assert walk_in.picker.patient.full_name == "Nia Osei"
    assert not gone(walk_in)  # the walk-in is not queued by the same Enter


def test_enter_saves_in_new_patient_from_the_patients_page(qtbot, make_main, admin, tasks):
    main = make_main(admin)
    desk = main.pages["frontdesk"]
    qtbot.keyClick(main, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    register = opened(qtbot, desk.dialog)
    refuse_then_fix_then_enter(qtbot, register)
    wait_idle(qtbot, tasks)
    assert [p.full_name for p in admin.patients.search(admin.actor, "Nia Osei")] == ["Nia Osei"]

"""A patient already booked at that time: refused, unless a permitted role gives a reason."""

from __future__ import annotations

import shiboken6
from conftest import open_booking_dialog, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from scheduling_setup import make_practice


def test_booking_a_busy_patient_needs_a_reason(qtbot, admin, tasks):
    practice = make_practice(admin)
    monday = practice.monday
    ines = practice.patient("Ines")
    practice.book(ines, monday, "09:00")  # with Dr Hale
    ross = practice.add_doctor("dr.ross", "Dr Ian Ross", "Room 4")
    dialog = open_booking_dialog(qtbot, admin, tasks, ines, ross, monday)
    assert dialog.chosen_slot().starts_at == practice.at(monday, "09:00")

    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert "already has an appointment" in dialog.message.text()
    assert dialog.override.isVisible()
    assert [v.doctor_id for v in admin.appointments.day(admin.actor, monday)] == [
        practice.doctor_id
    ]

    qtbot.keyClicks(dialog.override, "Vaccination straight after the consultation")
    qtbot.keyClick(dialog.override, Qt.Key.Key_Return)
    wait_idle(qtbot, tasks)
    assert not shiboken6.isValid(dialog) or not dialog.isVisible(), dialog.message.text()
    doctors = sorted(v.doctor_name for v in admin.appointments.day(admin.actor, monday))
    assert doctors == ["Dr Ian Ross", "Dr Maya Hale"]

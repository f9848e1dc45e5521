"""Needs attention: bookings hit by a doctor's leave, moved or marked as told."""

from __future__ import annotations

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from scheduling_setup import make_practice

from ui.frontdesk.attention import AttentionDialog


def test_move_to_offers_and_patient_told(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    other = practice.add_doctor("dr.ross", "Dr Sam Ross", "Room 3")
    monday = practice.monday
    first = practice.book(practice.patient("Ines"), monday, "09:00")
    second = practice.book(practice.patient("Olga"), monday, "10:00")
    third = practice.book(practice.patient("Pia"), monday, "11:00")
    assert admin.schedule.add_leave(admin.actor, practice.doctor_id, monday, monday) == 3

    main = make_main(admin)
    main.schedule_actions["show_attention"].trigger()
    dialog = main.pages["frontdesk"].findChild(AttentionDialog)
    wait_idle(qtbot, tasks)
    assert [a.appointment.id for a in dialog.model.rows] == [first.id, second.id, third.id]
    row = dialog.model.rows[0]
    assert dialog.model.cells(row)[1:3] == ("Ines Berg", "Dr Maya Hale")
    assert "leave" in row.reason
    same = row.same_doctor
    assert same is not None and same.doctor_id == practice.doctor_id
    assert dialog.same_button.text() == f"Move to {dialog.offer_text(same)}"
    assert dialog.other_button.text().endswith("with Dr Sam Ross")

    qtbot.mouseClick(dialog.same_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    moved = admin.appointments.day(admin.actor, same.starts_at.date(), [practice.doctor_id])
    assert first.id in {a.id for a in moved if a.starts_at == same.starts_at}
    assert dialog.message.text().startswith("Ines Berg moved to")
    assert [a.appointment.id for a in dialog.model.rows] == [second.id, third.id]

    offer = dialog.model.rows[0].other_doctor
    qtbot.mouseClick(dialog.other_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    on_other = admin.appointments.day(admin.actor, offer.starts_at.date(), [other])
    assert second.id in {a.id for a in on_other}

    qtbot.mouseClick(dialog.told_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tasks)
    assert dialog.model.rows == []
    assert dialog.empty.isVisible()
    assert not dialog.told_button.isEnabled()
    assert admin.appointments.needing_attention(admin.actor) == []

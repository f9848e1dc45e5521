"""Appointment history: filters, attendance per doctor and a doctor's .ics export."""

from __future__ import annotations

from conftest import wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QDate
from scheduling_setup import make_practice

from ui.frontdesk.appointment_report import AppointmentReportDialog


def _set(edit, day) -> None:
    edit.setDate(QDate(day.year, day.month, day.day))


def test_filters_attendance_and_export(qtbot, make_main, admin, tasks, tmp_path):
    practice = make_practice(admin)
    other = practice.add_doctor("dr.ross", "Dr Sam Ross", "Room 3")
    monday = practice.monday
    ines = practice.book(practice.patient("Ines"), monday, "09:00")
    practice.book(practice.patient("Olga"), monday, "10:00")
    admin.appointments.cancel(admin.actor, ines.id, "Unwell")
    admin.appointments.book(
        admin.actor,
        practice.patient("Pia").id,
        other,
        practice.consultation_id,
        practice.at(monday, "11:00"),
    )

    main = make_main(admin)
    main.schedule_actions["show_appointment_history"].trigger()
    wait_idle(qtbot, tasks)
    dialog = main.pages["frontdesk"].findChild(AppointmentReportDialog)
    _set(dialog.first_day, monday)
    _set(dialog.last_day, monday)
    wait_idle(qtbot, tasks)
    assert [dialog.model.cells(v)[1] for v in dialog.model.rows] == [
        "Ines Berg",
        "Olga Berg",
        "Pia Berg",
    ]
    assert dialog.count.text() == "3 appointments"
    attendance = {a.doctor_name: a for a in dialog.attendance_model.rows}
    assert attendance["Dr Maya Hale"].cancelled == 1
    assert attendance["Dr Maya Hale"].booked == 1
    assert attendance["Dr Sam Ross"].booked == 1
    assert not dialog.export_button.isEnabled()

    dialog.status.setCurrentIndex(dialog.status.findData("cancelled"))
    wait_idle(qtbot, tasks)
    assert [v.patient_name for v in dialog.model.rows] == ["Ines Berg"]
    assert dialog.model.cells(dialog.model.rows[0])[4] == "Cancelled"

    dialog.status.setCurrentIndex(0)
    dialog.doctor.setCurrentIndex(dialog.doctor.findData(other))
    wait_idle(qtbot, tasks)
    assert [v.patient_name for v in dialog.model.rows] == ["Pia Berg"]
    assert dialog.export_button.isEnabled()

    target = tmp_path / "ross.ics"
    dialog.export_to(target)
    wait_idle(qtbot, tasks)
    text = target.read_text()
    assert text.startswith("BEGIN:VCALENDAR") and text.count("BEGIN:VEVENT") == 1
    assert dialog.message.text() == f"Calendar file written: {target}"

    dialog.export_to(tmp_path / "no such folder" / "x.ics")
    wait_idle(qtbot, tasks)
    assert dialog.message.text().endswith("does not exist (is the drive connected?).")


def test_range_ending_before_it_starts(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    main = make_main(admin)
    main.schedule_actions["show_appointment_history"].trigger()
    wait_idle(qtbot, tasks)
    dialog = main.pages["frontdesk"].findChild(AppointmentReportDialog)
    _set(dialog.first_day, practice.monday)
    _set(dialog.last_day, practice.monday.fromordinal(practice.monday.toordinal() - 1))
    wait_idle(qtbot, tasks)
    assert dialog.form.error_text("last_day") == "To is before the first day"

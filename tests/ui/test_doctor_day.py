"""The doctor's day through the real widgets: the queue, Call next by keyboard, the visit opens."""

from __future__ import annotations

from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from scheduling_setup import make_practice

from clinicdesk.services.access import sign_in
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.visits import VisitService


def open_doctor(qtbot, main):
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_2, CTRL)
    workspace = main.stack.currentWidget()
    assert workspace is main.pages["doctor"]
    return workspace


def test_call_next_walk_in_by_keyboard_opens_the_visit(qtbot, doctor, make_main, tasks):
    main = make_main(doctor)
    assert main.stack.currentWidget() is main.pages["doctor"]  # a doctor starts on their day
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_1, CTRL)
    workspace = open_doctor(qtbot, main)  # and Ctrl+2 comes back to it
    day = workspace.day
    qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 2, timeout=5000)
    assert [day.waiting_model.cells(q)[1] for q in day.waiting_model.rows] == [
        "Νίκος Παπαδόπουλος",
        "Amara Okoye",
    ]
    assert "Ctrl+Enter" in day.call_button.text()
    assert day.appointments_empty.text() == "No appointments booked with you today."

    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: workspace.visit.visit is not None, timeout=5000)
    wait_idle(qtbot, tasks)
    assert workspace.stack.currentWidget() is workspace.visit
    assert workspace.visit.name.text() == "Νίκος Παπαδόπουλος"
    assert workspace.visit.banner.plain_text() == "No known allergies recorded"
    assert workspace.visit.fields["complaint"].hasFocus()
    [called] = [q for q in doctor.queue.board(doctor.actor) if q.status == "called"]
    assert called.patient_name == "Νίκος Παπαδόπουλος"

    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F2)  # back to the day
    assert workspace.stack.currentWidget() is day
    qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 1, timeout=5000)
    assert day.seen_model.cells(day.seen_model.row(0))[1::2] == ("Νίκος Παπαδόπουλος", "With you")


def test_enter_on_a_waiting_patient_opens_their_visit(qtbot, doctor, make_main, tasks):
    main = make_main(doctor)
    workspace = open_doctor(qtbot, main)
    day = workspace.day
    qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 2, timeout=5000)
    day.waiting.setFocus()
    qtbot.keyClick(day.waiting, Qt.Key.Key_Down)
    qtbot.keyClick(day.waiting, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: workspace.visit.visit is not None, timeout=5000)
    assert workspace.visit.visit.patient_name == "Amara Okoye"
    assert workspace.stack.currentWidget() is workspace.visit


def test_someone_without_a_doctor_profile_is_told_so(qtbot, admin, make_main, tasks):
    main = make_main(admin)
    workspace = open_doctor(qtbot, main)
    day = workspace.day
    qtbot.waitUntil(day.message.isVisible, timeout=5000)
    assert day.message.text() == (
        "Ada Admin has no doctor profile; an administrator adds one under "
        "Admin → Schedule → Doctors."
    )
    assert not day.call_button.isEnabled()


def test_enter_on_a_checked_in_appointment_opens_its_visit(qtbot, admin, make_main, tasks):
    practice = make_practice(admin)
    clock = practice.freeze(practice.monday, "08:50")
    ola = practice.book(practice.patient("Ola"), practice.monday, "09:00")
    practice.book(practice.patient("Bo"), practice.monday, "09:30")
    admin.queue.check_in(admin.actor, ola.id)
    doctor = sign_in(admin.folder, "dr.hale", "doctor password 1")
    doctor.visits = VisitService(doctor.store, AppointmentService(doctor.store, clock), clock)
    try:
        main = make_main(doctor)
        day = open_doctor(qtbot, main).day
        qtbot.waitUntil(lambda: day.appointments_model.rowCount() == 2, timeout=5000)
        rows = day.appointments_model.rows
        assert [day.appointments_model.cells(a) for a in rows] == [
            ("09:00", "Ola Berg", "Consultation", "Checked in"),
            ("09:30", "Bo Berg", "Consultation", "Confirmed"),
        ]
        day.appointments.setFocus()
        qtbot.keyClick(day.appointments, Qt.Key.Key_Down)
        qtbot.keyClick(day.appointments, Qt.Key.Key_Return)
        assert day.message.text() == (
            "Bo Berg is confirmed: the visit opens once reception has checked them in."
        )
        qtbot.mouseClick(day.refresh_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, tasks)
        assert day.message.isVisible()  # a refresh leaves the answer on screen
        day.appointments.setFocus()
        qtbot.keyClick(day.appointments, Qt.Key.Key_Up)
        qtbot.keyClick(day.appointments, Qt.Key.Key_Return)
        screen = main.pages["doctor"].visit
        qtbot.waitUntil(lambda: screen.visit is not None, timeout=5000)
        assert screen.visit.appointment_id == ola.id
        assert screen.visit_line.text().startswith("Appointment · started ")
        wait_idle(qtbot, tasks)
        assert admin.appointments.day(admin.actor, practice.monday)[0].status == "in_consultation"
    finally:
        tasks.wait()
        doctor.close()

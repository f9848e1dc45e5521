"""The main window's tick marks confirmed appointments past their grace period as no-shows."""

from __future__ import annotations

from conftest import wait_idle  # tests/ui/conftest.py
from scheduling_setup import make_practice


def test_the_tick_flags_a_late_patient_as_a_no_show(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    view = practice.book(practice.patient("Ines"), practice.monday, "09:00")
    main = make_main(admin)
    assert main.no_show_timer.isActive()
    practice.freeze(practice.monday, "09:10")  # inside the 15-minute grace
    main.flag_no_shows()
    wait_idle(qtbot, tasks)
    assert admin.appointments.history(admin.actor, view.id)[-1].to_status == "confirmed"
    practice.freeze(practice.monday, "09:20")
    main.flag_no_shows()
    wait_idle(qtbot, tasks)
    assert admin.appointments.history(admin.actor, view.id)[-1].to_status == "no_show"

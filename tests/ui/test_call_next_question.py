""" "Call next" while a patient is still with the doctor asks first, by keyboard, and never
finishes the visit the doctor did not finish: at the doctor's day (Ctrl+Enter) and at the
front desk's queue."""

from __future__ import annotations

import pytest
import shiboken6
from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from clinicdesk.services.access import ClinicSession

ALT = Qt.KeyboardModifier.AltModifier
NIKOS, AMARA = "Νίκος Παπαδόπουλος", "Amara Okoye"
QUESTION = (
    f"{NIKOS} is still in consultation with Dr Maya Hale. Finish that visit first, or call "
    "the next patient and leave it open."
)


@pytest.fixture
def doctor(doctor: ClinicSession) -> ClinicSession:
    """Nikos is with the GP (his visit open, its note begun); Amara waits
    (tests/ui/conftest.py)."""
    visit = doctor.visits.call_next(doctor.actor)
    assert visit is not None and visit.patient_name == NIKOS
    return doctor


def statuses(session: ClinicSession) -> dict[str, str]:
    return {q.patient_name: q.status for q in session.queue.board(session.actor)}


def nikos_visit(session: ClinicSession):
    day = session.visits.doctor_day(session.actor)
    [entry] = [q for q in day.queue if q.patient_name == NIKOS]
    return session.visits.get(session.actor, day.open_visits[entry.id])


def ask_at_the_day(qtbot, make_main, doctor):
    main = make_main(doctor)
    workspace = main.pages["doctor"]
    day = workspace.day
    qtbot.waitUntil(lambda: day.waiting_model.rowCount() == 1, timeout=5000)
    day.waiting.setFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: day.question is not None, timeout=5000)
    box = day.question
    qtbot.waitUntil(box.isVisible, timeout=3000)
    assert box.text() == QUESTION
    assert sorted(b.text() for b in box.buttons()) == [
        f"&Finish {NIKOS}'s visit first",
        "&Leave it open and call next",
        "Cancel",
    ]
    assert box.defaultButton().text() == f"&Finish {NIKOS}'s visit first"
    return workspace, box


def test_asking_changes_nothing_and_escape_cancels(qtbot, make_main, doctor, tasks):
    before = statuses(doctor)
    workspace, box = ask_at_the_day(qtbot, make_main, doctor)
    assert statuses(doctor) == before == {NIKOS: "called", AMARA: "waiting"}
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: workspace.day.question is None, timeout=3000)
    wait_idle(qtbot, tasks)
    assert statuses(doctor) == before
    assert nikos_visit(doctor).status == "open"
    assert workspace.visit.visit is None  # nothing opened


def test_finish_first_opens_that_visit_and_calls_nobody(qtbot, make_main, doctor, tasks):
    workspace, box = ask_at_the_day(qtbot, make_main, doctor)
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the default: finish Nikos's visit first
    qtbot.waitUntil(lambda: workspace.visit.visit is not None, timeout=5000)
    wait_idle(qtbot, tasks)
    assert workspace.stack.currentWidget() is workspace.visit
    assert workspace.visit.visit.patient_name == NIKOS
    assert workspace.visit.visit.status == "open"  # opened for the doctor to finish, not signed
    assert statuses(doctor) == {NIKOS: "called", AMARA: "waiting"}


def test_leave_it_open_calls_the_next_and_keeps_the_visit_open(qtbot, make_main, doctor, tasks):
    workspace, box = ask_at_the_day(qtbot, make_main, doctor)
    qtbot.keyClick(box, Qt.Key.Key_L, ALT)
    qtbot.waitUntil(lambda: workspace.visit.visit is not None, timeout=5000)
    wait_idle(qtbot, tasks)
    assert workspace.visit.visit.patient_name == AMARA
    assert statuses(doctor) == {NIKOS: "called", AMARA: "called"}
    kept = nikos_visit(doctor)
    assert (kept.status, kept.signed_at) == ("open", None)


def test_the_front_desk_asks_too_and_never_marks_the_patient_seen(
    qtbot, make_main, admin, doctor, tasks
):
    main = make_main(admin)
    queue = main.pages["frontdesk"].queue
    qtbot.keyClick(main, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: queue.waiting_model.rowCount() == 1, timeout=5000)
    qtbot.mouseClick(queue.call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: queue.question is not None, timeout=5000)
    box = queue.question
    assert box.text() == QUESTION
    assert f"&Finish {NIKOS}'s visit first" not in [b.text() for b in box.buttons()]
    assert box.defaultButton().text() == "&Leave it open and call next"
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: queue.question is None, timeout=3000)
    wait_idle(qtbot, tasks)
    assert statuses(admin) == {NIKOS: "called", AMARA: "waiting"}
    assert queue.called_model.row(queue.called.currentIndex().row()).patient_name == NIKOS

    qtbot.mouseClick(queue.call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: queue.question is not None, timeout=5000)
    box = queue.question
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not shiboken6.isValid(box) or not box.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: statuses(admin)[AMARA] == "called", timeout=5000)
    wait_idle(qtbot, tasks)
    assert statuses(admin) == {NIKOS: "called", AMARA: "called"}
    assert nikos_visit(doctor).status == "open"

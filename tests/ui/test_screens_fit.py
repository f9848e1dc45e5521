"""Screens that fit: no page asks for more than 1280 x 720, showing the Calendar or typing a long
visit note never widens the window, and at 1024 x 768 every control a desk needs can be reached."""

from __future__ import annotations

import pytest
from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget
from scheduling_setup import make_practice

from tests.clinical.clinic_setup import three_items
from tests.pharmacy.pharmacy_setup import Counter

LIMIT_W, LIMIT_H = 1280, 720
SMALL = (1024 - 16, 768 - 48)  # a 1024 x 768 screen less the window's frame and title bar


def offenders(pages: dict[str, QWidget]) -> list[str]:
    """Pages whose minimum size is beyond 1280 x 720, with that size."""
    found = []
    for name, page in pages.items():
        hint = page.minimumSizeHint()
        if hint.width() > LIMIT_W or hint.height() > LIMIT_H:
            found.append(f"{name}: {hint.width()} x {hint.height()}")
    print("pages over 1280 x 720:", found or "none")
    return found


def reachable(main: QWidget, widget: QWidget) -> bool:
    """Shown inside the window, or brought into it by the scroll area that holds it."""
    if not widget.isVisibleTo(main):
        return False
    parent = widget.parentWidget()
    while parent is not None and parent is not main:
        if isinstance(parent, QScrollArea) and parent.widget().isAncestorOf(widget):
            parent.ensureWidgetVisible(widget, 0, 0)
            QApplication.processEvents()
        parent = parent.parentWidget()
    top_left = widget.mapTo(main, widget.rect().topLeft())
    return main.rect().contains(QRect(top_left, widget.size()))


def sideways(main: QWidget) -> int:
    """How far, in px, the shown page scrolls sideways: the widest horizontal scroll range of
    the window's page scroll area and any scroll area shown inside it; 0 when all fits."""
    QApplication.processEvents()
    areas = [main.page_scroll, *main.page_scroll.widget().findChildren(QScrollArea)]
    return max(a.horizontalScrollBar().maximum() for a in areas if a.isVisibleTo(main))


def on_screen(main: QWidget) -> bool:
    """The whole window, frame included, within the screen's usable area."""
    return main.screen().availableGeometry().contains(main.frameGeometry())


def at_small_screen(qtbot, main) -> None:
    main.resize(*SMALL)
    qtbot.waitUntil(lambda: main.width() <= SMALL[0], timeout=2000)


def walk_front_desk(qtbot, tasks, desk) -> dict[str, QWidget]:
    pages = {}
    for name, show in (
        ("front desk patients", desk.show_patients),
        ("front desk calendar", desk.show_calendar),
        ("front desk queue", desk.show_queue),
    ):
        show()
        wait_idle(qtbot, tasks)
        pages[name] = desk.stack.currentWidget()
    return pages


def test_the_calendar_never_widens_the_window_and_all_fits_at_1024(qtbot, make_main, admin, tasks):
    practice = make_practice(admin)
    main = make_main(practice.session)
    desk = main.pages["frontdesk"]
    wait_idle(qtbot, tasks)
    width, patients_width = main.width(), desk.minimumSizeHint().width()
    pages = walk_front_desk(qtbot, tasks, desk)
    desk.show_patients()
    qtbot.wait(20)
    assert main.width() == width, "showing the Calendar widened the window"
    assert desk.minimumSizeHint().width() <= patients_width, "the Calendar widened the front desk"
    assert on_screen(main), "the window is larger than the screen"
    assert offenders(pages) == []

    at_small_screen(qtbot, main)
    desk.show_patients()
    qtbot.wait(20)
    assert sideways(main) == 0, "the patients page scrolls sideways at 1024 px"
    assert reachable(main, desk.new_button), "+ New patient is off screen"
    assert reachable(main, desk.detail), "the patient card is off screen"
    desk.show_calendar()
    wait_idle(qtbot, tasks)
    assert reachable(main, desk.calendar.show_cancelled), "Show cancelled is off screen"
    [legend] = [
        w for w in desk.calendar.findChildren(QWidget) if w.accessibleName() == "Colour legend"
    ]
    assert reachable(main, legend), "the colour legend is off screen"
    assert sideways(main) == 0, "the Calendar scrolls sideways at 1024 px"
    desk.show_queue()
    wait_idle(qtbot, tasks)
    assert main.width() <= SMALL[0]


def test_a_long_visit_note_never_widens_the_window_and_all_fits_at_1024(
    qtbot, make_main, consultation, tasks
):
    doctor, visit_id = consultation.doctor, consultation.visit.id
    doctor.prescriptions.write(doctor.actor, visit_id, three_items()[:2])
    main = make_main(doctor)
    workspace = main.pages["doctor"]
    qtbot.keyClick(main, Qt.Key.Key_2, CTRL)
    day = workspace.day
    qtbot.waitUntil(lambda: day.seen_model.rowCount() == 1, timeout=5000)
    day.seen.setFocus()
    qtbot.keyClick(day.seen, Qt.Key.Key_Return)
    screen = workspace.visit
    qtbot.waitUntil(lambda: screen.visit is not None, timeout=5000)
    width, visit_width = main.width(), screen.minimumSizeHint().width()
    assert main.page_scroll.verticalScrollBar().maximum() == 0, "the visit scrolls at 1366 x 768"
    note = screen.fields["complaint"]
    note.setFocus()
    qtbot.keyClicks(note, "sore throat and a cough that keeps her awake at night " * 8)
    qtbot.keyClick(note, Qt.Key.Key_Tab)  # leaving the field saves it
    wait_idle(qtbot, tasks)
    assert main.width() == width, "typing a long note widened the window"
    assert screen.minimumSizeHint().width() <= visit_width, "typing a long note widened the visit"
    assert on_screen(main), "the window is larger than the screen"
    pages = {}
    for name, show in (
        ("doctor today", workspace.show_today),
        ("doctor chart", workspace.show_chart),
        ("doctor visit", workspace.show_visit),
    ):
        show()
        wait_idle(qtbot, tasks)
        pages[name] = workspace.stack.currentWidget()
    assert offenders(pages) == []

    at_small_screen(qtbot, main)
    workspace.show_visit()
    wait_idle(qtbot, tasks)
    assert sideways(main) == 0, "the visit scrolls sideways at 1024 px"
    assert reachable(main, screen.save_button), "the visit's Save is off screen"
    assert reachable(main, screen.finish_button), "the visit's Finish is off screen"
    for name, control in (
        ("Book follow-up", screen.follow_up_button),
        ("the prescription list", screen.prescriptions),
        ("New prescription", screen.new_rx_button),
        ("Cancel prescription", screen.cancel_rx_button),
        ("Print", screen.print_button),
        ("Save as PDF", screen.pdf_button),
    ):
        assert reachable(main, control), f"{name} is off screen"
    table = screen.prescriptions
    assert table.horizontalHeader().length() <= table.viewport().width()
    drugs = table.visualRect(table.model().index(0, 1))
    first = table.fontMetrics().horizontalAdvance("Ibuprofen 400 mg")
    assert drugs.width() > first, "the prescribed drug is cut short at 1024 px"
    doctor.visits.finish(doctor.actor, visit_id)
    doctor.visits.add_addendum(doctor.actor, visit_id, "Throat swab sent to the laboratory " * 6)
    screen.open_visit(visit_id)
    qtbot.waitUntil(lambda: screen.addenda.isVisible(), timeout=5000)
    assert sideways(main) == 0, "the signed visit with an addendum scrolls sideways at 1024 px"
    assert reachable(main, screen.addendum_button), "Add addendum is off screen"
    assert reachable(main, screen.addenda), "the addendum is off screen"
    workspace.show_today()
    wait_idle(qtbot, tasks)
    assert reachable(main, day.call_button), "Call next is off screen"


@pytest.mark.usefixtures("own_settings")
def test_pharmacy_and_admin_pages_fit(qtbot, make_main, counter: Counter, admin, tasks):
    pages: dict[str, QWidget] = {}
    main = make_main(counter.pharmacist)
    pharmacy = main.pages["pharmacy"]
    for name, show in (
        ("pharmacy counter", pharmacy.show_counter),
        ("pharmacy stock", pharmacy.show_stock),
        ("pharmacy history", pharmacy.show_history),
    ):
        show()
        wait_idle(qtbot, tasks)
        pages[name] = pharmacy.stack.currentWidget()
    at_small_screen(qtbot, main)
    pharmacy.show_counter()
    wait_idle(qtbot, tasks)
    assert sideways(main) == 0, "the counter scrolls sideways at 1024 px"
    office_window = make_main(admin)
    office = office_window.pages["admin"]
    wait_idle(qtbot, tasks)
    for index in range(office.tabs.count()):
        office.tabs.setCurrentIndex(index)
        wait_idle(qtbot, tasks)
        pages[f"admin {office.tabs.tabText(index)}"] = office.tabs.widget(index)
    assert offenders(pages) == []

    at_small_screen(qtbot, office_window)
    office_window.show_workspace("admin")
    wait_idle(qtbot, tasks)
    bar = office.tabs.tabBar()
    print("admin tabs at 1024:", bar.sizeHint().width(), "px in", office.tabs.width(), "px")
    assert bar.sizeHint().width() <= office.tabs.width(), "the admin tabs scroll at 1024 px"

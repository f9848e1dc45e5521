"""The dispensing history through its real widgets: filters by text, pharmacist and dates,
re-asked after typing pauses, the CSV export of what the filters show, and reprinting a
dispense's labels and receipt."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from conftest import CTRL, SHIFT, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtGui import QPageLayout
from PySide6.QtWidgets import QApplication, QLineEdit

from clinicdesk.rx import reference
from clinicdesk.services.pharmacy_views import DispenseInput, DispenseView
from tests.clinic_time import clinic_today
from ui.context import AppContext
from ui.pharmacy.history_view import MEDICINE, HistoryView
from ui.widgets.printing import PrintJob

pytestmark = pytest.mark.clock  # dated by the clinic's calendar; see .ci/run


@pytest.fixture
def dispensed(counter) -> DispenseView:
    """Ten ibuprofen tablets and the 28 omeprazole capsules handed over today."""
    ph, batches = counter.pharmacist, counter.batches
    chosen = [
        DispenseInput(1, batches["ibuprofen_soon"].id, 10),
        DispenseInput(2, batches["omeprazole"].id, 28),
    ]
    return ph.pharmacy.dispense(ph.actor, counter.rx.code, chosen)


@pytest.fixture
def made_on(counter) -> date:
    """The clinic's date just before the history screen is made."""
    return clinic_today(counter.pharmacist)


@pytest.fixture
def view(qtbot, counter, dispensed, tasks, made_on) -> HistoryView:
    session = counter.pharmacist
    history = HistoryView(AppContext(session, tasks, session.clinic.details()))
    history.resize(1200, 600)
    history.show()
    qtbot.waitExposed(history)
    history.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is history, timeout=2000)
    history.refresh()
    wait_idle(qtbot, tasks)
    return history


def retype(qtbot, view: HistoryView, tasks, field: QLineEdit, text: str) -> None:
    """Replace the field's text by keyboard, then wait for the pause and the new answer."""
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, text)
    qtbot.waitUntil(lambda: not view.pause.isActive(), timeout=5000)
    wait_idle(qtbot, tasks)


def batches_shown(view: HistoryView) -> list[str]:
    return [r.batch_number for r in view.model.rows]


def test_the_last_month_shows_what_was_dispensed(view, made_on, dispensed, counter):
    until = view.until.value()
    # midnight may pass while the screen is made: it shows the day it was made or the next
    assert until in (made_on, clinic_today(counter.pharmacist))
    assert view.since.value() == until - timedelta(days=30)
    assert batches_shown(view) == ["IBU-SOON", "OME-1"]
    first = view.model.cells(view.model.rows[0])
    assert first == (
        dispensed.at.strftime("%d/%m/%Y %H:%M"),  # the clinic's own time
        reference.grouped(counter.rx.reference),
        dispensed.patient_name,
        "Ibuprofen 400 mg tablet",
        f"10 {dispensed.lines[0].unit}",  # what and how much first, where the page has room
        "£1.20",
        "IBU-SOON",
        counter.batches["ibuprofen_soon"].expiry.strftime("%d/%m/%Y"),
        "Priya Shah",
    )
    total = f"£{dispensed.total / 100:.2f}"
    assert view.count.text() == f"2 lines from 1 dispense · {total} in all"


def test_the_history_fits_a_1366_screen_without_scrolling_sideways(
    qtbot, make_main, counter, dispensed, tasks
):
    main = make_main(counter.pharmacist)
    main.resize(1366 - 16, 768 - 48)  # the whole of a 1366 x 768 screen, less the frame
    pharmacy = main.pages["pharmacy"]
    pharmacy.show_history()
    table = pharmacy.history.table
    qtbot.waitUntil(lambda: table.model().rowCount() == 2, timeout=5000)
    QApplication.processEvents()
    assert table.horizontalScrollBar().maximum() == 0, "the history scrolls sideways"
    assert main.page_scroll.horizontalScrollBar().maximum() == 0
    header = table.horizontalHeader()
    last = header.count() - 1
    assert header.sectionViewportPosition(last) + header.sectionSize(last) <= header.width()
    medicine = table.model().index(0, MEDICINE)
    assert medicine.data(Qt.ItemDataRole.ToolTipRole) == "Ibuprofen 400 mg tablet"  # if elided


def test_typing_filters_by_drug_batch_reference_and_pharmacist(qtbot, view, counter, tasks):
    retype(qtbot, view, tasks, view.text, "omepra")
    assert batches_shown(view) == ["OME-1"]
    retype(qtbot, view, tasks, view.text, "ibu-soon")
    assert batches_shown(view) == ["IBU-SOON"]
    retype(qtbot, view, tasks, view.text, reference.grouped(counter.rx.reference))
    assert batches_shown(view) == ["IBU-SOON", "OME-1"]
    retype(qtbot, view, tasks, view.pharmacist, "someone else")
    assert batches_shown(view) == []
    assert view.count.text() == "Nothing was dispensed that matches."
    retype(qtbot, view, tasks, view.pharmacist, "priya")
    assert batches_shown(view) == ["IBU-SOON", "OME-1"]


def test_dates_filter_and_a_wrong_date_is_said_at_its_field(qtbot, view, tasks, dispensed):
    today = dispensed.at.date()  # the clinic's day of the dispense, whenever midnight falls
    tomorrow = today + timedelta(days=1)
    retype(qtbot, view, tasks, view.until, (tomorrow + timedelta(days=5)).strftime("%d/%m/%Y"))
    retype(qtbot, view, tasks, view.since, tomorrow.strftime("%d/%m/%Y"))
    assert batches_shown(view) == []
    retype(qtbot, view, tasks, view.since, "31/02/2026")
    assert view.form.error_text("since") == "From is not a date: February 2026 has 28 days"
    assert batches_shown(view) == []  # the last good answer stays
    retype(qtbot, view, tasks, view.since, today.strftime("%d/%m/%Y"))
    assert view.form.error_text("since") == ""
    assert batches_shown(view) == ["IBU-SOON", "OME-1"]
    retype(qtbot, view, tasks, view.until, "01/01/2020")
    assert view.form.error_text("until") == "To is before the first day"


def test_the_export_writes_what_the_filters_show(qtbot, view, counter, tasks, tmp_path):
    retype(qtbot, view, tasks, view.text, "omeprazole")
    target = tmp_path / "dispensed.csv"
    view.export_to(target)
    wait_idle(qtbot, tasks)
    assert view.message.text() == f"Saved {target}"
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["Batch"], r["Quantity"], r["Pharmacist"]) for r in rows] == [
        ("OME-1", "28", "Priya Shah")
    ]
    assert rows[0]["Reference"] == reference.grouped(counter.rx.reference)


def test_labels_and_receipt_are_reprinted_from_a_chosen_line(qtbot, view, dispensed):
    """A smudged label or a lost receipt: the dispense's own printouts, from the history."""
    assert not view.labels_button.isEnabled()  # nothing chosen yet
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    assert view.selected().dispense_id == dispensed.id
    assert view.labels_button.isEnabled() and view.receipt_button.isEnabled()

    for key, paper_mm, pages in ((Qt.Key.Key_L, (80, 50), 2), (Qt.Key.Key_R, (80, None), 1)):
        qtbot.keyClick(view.table, key, CTRL | SHIFT)
        qtbot.waitUntil(lambda: view.findChild(PrintJob) is not None, timeout=3000)
        job = view.findChild(PrintJob)
        qtbot.waitUntil(lambda job=job: job.preview is not None, timeout=10_000)
        paper = job.printer.pageLayout().fullRect(QPageLayout.Unit.Millimeter)
        assert round(paper.width()) == paper_mm[0]
        assert paper_mm[1] is None or round(paper.height()) == paper_mm[1]
        assert len(job.pages) == pages  # a label per item given; the receipt on one roll
        job.preview.reject()
        qtbot.waitUntil(lambda: view.findChild(PrintJob) is None, timeout=3000)

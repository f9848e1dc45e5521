"""The doctor workspace: Today, Chart and Visit under one switch (keys in ``pages.py``).

Ctrl+F finds any patient and opens their chart. Calling a patient in, or Enter on one of
today's patients, opens the visit; the chart view follows the patient of the open visit.
The page keys and Ctrl+F are the main window's: while this workspace is shown they come here.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.patients import PatientRecord
from clinicdesk.services.visits import VisitView
from ui.context import AppContext
from ui.doctor.chart_view import ChartView
from ui.doctor.day import CALL_NEXT_KEYS, DayView
from ui.doctor.pages import CHART, PAGES, TODAY, VISIT
from ui.doctor.visit_view import VisitScreen
from ui.frontdesk.patient_picker import PatientPicker
from ui.theme import icon
from ui.widgets.dialogs import titled_layout
from ui.widgets.keys import view_shortcuts
from ui.widgets.pages import Page, PageSwitch
from ui.widgets.stacks import CurrentPageStack


class FindPatientDialog(QDialog):
    """Type a name, phone, date of birth or MRN; Enter opens the chart."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a chart")
        self.setMinimumWidth(520)
        layout, _heading = titled_layout(self, "Open a patient's chart")
        self.picker = PatientPicker(ctx, self)
        self.picker.chosen.connect(lambda _p: self.accept())
        layout.addWidget(self.picker)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        layout.addStretch(1)
        self.picker.setFocus()

    @property
    def patient(self) -> PatientRecord | None:
        return self.picker.patient


class DoctorWorkspace(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.find_dialog: FindPatientDialog | None = None
        self.day = DayView(ctx)
        self.chart = ChartView(ctx)
        self.visit = VisitScreen(ctx)
        self.day.visit_opened.connect(self._visit_opened)
        self.chart.visit_requested.connect(self.open_visit)
        self.visit.chart_loaded.connect(self.chart.show_chart)

        self.views = PageSwitch(PAGES)
        self.stack = CurrentPageStack()
        for page in (self.day, self.chart, self.visit):
            self.stack.addWidget(page)
        self.views.currentChanged.connect(self._view_changed)
        view_shortcuts(self, ((keys, self._call_next_key) for keys in CALL_NEXT_KEYS))
        self.find_button = QPushButton(icon("search"), "Find patient…  (Ctrl+F)")
        self.find_button.setToolTip("Open any patient's chart")
        self.find_button.clicked.connect(self.find_patient)
        top = QHBoxLayout()
        top.addWidget(self.views, 1)
        top.addWidget(self.find_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 12, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._focus_view)

    # ---- views ----

    def available_pages(self) -> tuple[Page, ...]:
        return PAGES

    def show_page(self, page: Page) -> None:
        self.views.setCurrentIndex(PAGES.index(page))
        self._focus_view()

    def show_today(self) -> None:
        self.show_page(TODAY)

    def show_chart(self) -> None:
        self.show_page(CHART)

    def show_visit(self) -> None:
        self.show_page(VISIT)

    def _view_changed(self, index: int) -> None:
        self.stack.setCurrentIndex(index)  # a view shown reloads its patient (ui.changes)
        self._focus_view()

    def _focus_view(self) -> None:
        view = self.stack.currentWidget()
        view.focus_view()

    def _call_next_key(self) -> None:
        """Ctrl+Enter calls the next patient while Today shows (never from inside a note)."""
        if self.stack.currentWidget() is self.day:
            self.day.call_next()

    # ---- opening ----

    def open_visit(self, visit_id: str) -> None:
        self.visit.open_visit(visit_id)
        self.show_visit()

    def _visit_opened(self, visit: VisitView) -> None:
        self.ctx.notify(f"{visit.patient_name}: the visit is open.")
        self.open_visit(visit.id)

    def open_chart(self, patient_id: str) -> None:
        self.chart.open_patient(patient_id)
        self.show_chart()

    def find_patient(self) -> None:
        if self.find_dialog is not None and shiboken6.isValid(self.find_dialog):
            self.find_dialog.activateWindow()
            return
        dialog = FindPatientDialog(self.ctx, self)
        dialog.accepted.connect(lambda: self.open_chart(dialog.patient.id))
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _r: self.window().activateWindow())
        self.find_dialog = dialog
        dialog.open()

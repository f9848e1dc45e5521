"""The chart: who the patient is and their allergies on top, always; the record beneath.

Left, the editable sections (conditions first) above the documents, previous visits and
prescriptions; right, the vitals with their trend. The whole chart comes from one
``chart.open`` call on a worker; it reloads when shown and after every committed change to
the patient, from here or anywhere else in the app (``ui.changes``).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedLayout,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.chart import Chart
from clinicdesk.services.patients import SEXES, PatientRecord
from clinicdesk.services.prescription_views import PrescriptionSummary
from clinicdesk.services.visit_views import VisitSummary
from ui.changes import FollowPatient
from ui.context import AppContext
from ui.doctor.allergy_banner import AllergyBanner
from ui.doctor.chart_history import ChartHistoryDialog
from ui.doctor.chart_sections_view import LifestylePanel, SectionPanel, entry_table
from ui.doctor.documents_view import DocumentsPanel
from ui.doctor.pages import TODAY
from ui.doctor.vitals_plot import VitalsPlot
from ui.errors import describe
from ui.frontdesk.schedule_data import zone_of
from ui.tasks import Task
from ui.theme import icon, set_kind
from ui.widgets.dates import format_day, format_moment
from ui.widgets.empty_state import EmptyState
from ui.widgets.table import RowsModel

EDITABLE = (
    ("conditions", "Conditions"),
    ("allergies", "Allergies"),
    ("surgeries", "Surgeries"),
    ("family_history", "Family history"),
)


def patient_line(p: PatientRecord, today: date) -> str:
    """'MRN-000123 · 46 years · Male · born 14/05/1979', the age on the clinic's ``today``."""
    parts = (
        p.mrn,
        p.age_text(today),
        SEXES.get(p.sex, p.sex),
        f"born {format_day(p.date_of_birth)}" if p.date_of_birth else "",
    )
    return " · ".join(x for x in parts if x)


class VisitsModel(RowsModel[VisitSummary]):
    HEADERS = ("Date", "Doctor", "Complaint", "Diagnosis", "Status")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, v: VisitSummary) -> tuple[str, ...]:
        return (
            format_moment(v.started_at, self.time_zone),
            v.doctor_name,
            _line(v.complaint),
            _line(v.diagnosis),
            v.status_label,
        )


class PrescriptionsModel(RowsModel[PrescriptionSummary]):
    HEADERS = ("Reference", "Date", "Drugs", "Status")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, p: PrescriptionSummary) -> tuple[str, ...]:
        issued = format_moment(p.issued_at, self.time_zone)[:10]
        return (p.reference_grouped, issued, ", ".join(p.drugs), p.status_label)


def _line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 60 else first[:59] + "…"


def _tabs(name: str) -> QTabWidget:
    tabs = QTabWidget()
    tabs.setAccessibleName(name)
    tabs.setDocumentMode(False)
    return tabs


class ChartView(QWidget):
    visit_requested = Signal(str)  # visit id
    loaded = Signal(object)  # Chart

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.chart: Chart | None = None
        self.requested_id: str | None = None  # the patient being opened or shown
        self.history_dialog: ChartHistoryDialog | None = None
        self._task: Task | None = None
        zone = zone_of(ctx.details.time_zone)

        self._stack = QStackedLayout(self)
        self._stack.addWidget(self._empty_page())

        self.name = QLabel()
        set_kind(self.name, "title")
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel()
        set_kind(self.summary, "subtitle")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        set_kind(self.status, "muted")
        self.history_button = QPushButton(icon("history"), "&History")
        self.history_button.setToolTip("Every change to this chart: who, when, what")
        self.history_button.clicked.connect(self.show_history)
        self.refresh_button = QPushButton(icon("refresh"), "")
        self.refresh_button.setToolTip("Reload the chart")
        self.refresh_button.clicked.connect(self.reload)
        names = QVBoxLayout()
        names.setSpacing(2)
        names.addWidget(self.name)
        names.addWidget(self.summary)
        head = QHBoxLayout()
        head.addLayout(names, 1)
        head.addWidget(self.status, 0, Qt.AlignmentFlag.AlignBottom)
        head.addWidget(self.history_button, 0, Qt.AlignmentFlag.AlignBottom)
        head.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.banner = AllergyBanner()

        self.sections: dict[str, SectionPanel] = {}
        self.record_tabs = _tabs("Chart sections")
        for key, title in EDITABLE:
            panel = SectionPanel(ctx, key)
            self.sections[key] = panel
            self.record_tabs.addTab(panel, title)
        self.lifestyle = LifestylePanel(ctx)
        self.record_tabs.addTab(self.lifestyle, "Lifestyle")

        self.documents = DocumentsPanel(ctx)
        self.visits_model = VisitsModel(ctx.details.time_zone)
        self.visits = entry_table(self.visits_model, "Previous visits", stretch=2)
        self.visits.open_requested.connect(self._open_visit)
        self.prescriptions_model = PrescriptionsModel(ctx.details.time_zone)
        self.prescriptions = entry_table(self.prescriptions_model, "Prescriptions", stretch=2)
        self.history_tabs = _tabs("Documents and history")
        self.history_tabs.addTab(self.documents, "Documents")
        self.history_tabs.addTab(self.visits, "Visits")
        self.history_tabs.addTab(self.prescriptions, "Prescriptions")

        self.plot = VitalsPlot(zone)
        self.vitals = SectionPanel(ctx, "vitals")
        vitals_box = QWidget()
        vitals_layout = QVBoxLayout(vitals_box)
        vitals_layout.setContentsMargins(0, 0, 0, 0)
        vitals_layout.setSpacing(4)
        heading = QLabel("VITALS")
        set_kind(heading, "section")
        vitals_layout.addWidget(heading)
        vitals_layout.addWidget(self.plot, 2)
        vitals_layout.addWidget(self.vitals, 3)
        vitals_box.setMinimumWidth(570)  # the readings without scrolling sideways, in 1366 px

        left = QSplitter(Qt.Orientation.Vertical)
        left.setChildrenCollapsible(False)
        left.addWidget(self.record_tabs)
        left.addWidget(self.history_tabs)
        body = QSplitter()
        body.setChildrenCollapsible(False)
        body.setHandleWidth(16)
        body.addWidget(left)
        body.addWidget(vitals_box)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 1)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addWidget(self.banner)
        layout.addWidget(body, 1)
        self._stack.addWidget(page)
        # any change to this patient (a visit, a prescription, another desk's edit) shows here
        FollowPatient(self, ctx, lambda: self.requested_id, self.reload)

    def _empty_page(self) -> QWidget:
        page = EmptyState(
            "doctor",
            f"No chart is open. Press Ctrl+F to find a patient, or open a visit from {TODAY.hint}.",
        )
        self.empty_text = page.text
        return page

    # ---- loading ----

    @property
    def patient_id(self) -> str | None:
        return self.chart.patient.id if self.chart else None

    def open_patient(self, patient_id: str) -> None:
        """Load the whole chart in one call; the banner says loading until it is in."""
        if self._task is not None:
            self._task.cancel()
        if patient_id != self.patient_id:
            self.banner.set_allergies(None)
        self.requested_id = patient_id
        self.status.setText("Opening…")
        self._task = self.ctx.tasks.submit(
            self.ctx.session.chart.open,
            self.ctx.actor,
            patient_id,
            on_result=self.show_chart,
            on_error=self._failed,
            owner=self,
        )

    def reload(self) -> None:
        if self.requested_id:
            self.open_patient(self.requested_id)

    def _failed(self, error: BaseException) -> None:
        self._task = None
        self.status.setText("")
        if self.chart is None:
            self.empty_text.setText(describe(error))
        else:
            self.ctx.notify(describe(error))

    def show_chart(self, chart: Chart) -> None:
        """Fill every part from a loaded chart (also used when a visit loaded it)."""
        self._task = None
        self.chart = chart
        p = chart.patient
        self.requested_id = p.id
        self.name.setText(p.full_name)
        self.summary.setText(patient_line(p, self.ctx.clinic_today()))
        self.status.setText("")
        self.banner.set_allergies(chart.allergies)
        for key, panel in self.sections.items():
            panel.set_entries(p.id, chart.sections[key])
        self.lifestyle.set_entries(p.id, chart.sections["lifestyle"])
        self.vitals.set_entries(p.id, chart.sections["vitals"])
        self.plot.set_entries(chart.sections["vitals"])
        self.documents.set_documents(p.id, chart.documents)
        self.visits_model.set_rows(chart.visits)
        self.prescriptions_model.set_rows(chart.prescriptions)
        for table, rows in ((self.visits, chart.visits), (self.prescriptions, chart.prescriptions)):
            if rows:
                table.selectRow(0)
        self.history_tabs.setTabText(1, f"Visits ({len(chart.visits)})")
        self.history_tabs.setTabText(2, f"Prescriptions ({len(chart.prescriptions)})")
        self.history_tabs.setTabText(0, f"Documents ({len(chart.documents)})")
        self._stack.setCurrentIndex(1)
        self.loaded.emit(chart)

    def focus_view(self) -> None:
        if self.chart is not None:
            self.record_tabs.currentWidget().setFocus()

    # ---- actions ----

    def _open_visit(self) -> None:
        visit = self.visits_model.row(self.visits.currentIndex().row())
        if visit is not None:
            self.visit_requested.emit(visit.id)

    def show_history(self) -> None:
        chart = self.chart
        if chart is None:
            return

        def loaded(changes) -> None:
            title = f"{chart.patient.full_name} ({chart.patient.mrn})"
            self.history_dialog = ChartHistoryDialog(
                title, changes, self.ctx.details.time_zone, self
            )
            self.history_dialog.finished.connect(self.history_dialog.deleteLater)
            self.history_dialog.open()

        self.ctx.tasks.submit(
            self.ctx.session.chart.history,
            self.ctx.actor,
            chart.patient.id,
            on_result=loaded,
            on_error=lambda e: self.ctx.notify(describe(e)),
            owner=self,
        )

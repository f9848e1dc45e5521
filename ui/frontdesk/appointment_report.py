"""Appointment history (Schedule → Appointment history…): filter, attendance, a doctor's .ics.

Filters are a date range (in the clinic's time zone, both days included), a doctor or all, and a
status or all. Underneath, attendance per doctor over the same range (all statuses, whatever the
status filter says: a rate needs the no-shows too). The export writes the chosen doctor's
bookings in the range (cancelled and rejected left out) to an iCalendar file, off the UI thread.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QWidget,
)

from clinicdesk.scheduling.status import AppointmentStatus
from clinicdesk.services.appointment_reports import Attendance
from clinicdesk.services.booking import AppointmentView
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.schedule_data import Directory, clock_text, slot_text, zone_of
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout
from ui.widgets.forms import FieldForm
from ui.widgets.table import RowsModel, read_only_rows

ALL = ""


class HistoryModel(RowsModel[AppointmentView]):
    HEADERS = ("When", "Patient", "Doctor", "Service", "Status")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.zone = zone_of(time_zone)

    def cells(self, v: AppointmentView) -> tuple[str, ...]:
        when = f"{slot_text(v.starts_at, self.zone)}–{clock_text(v.ends_at, self.zone)}"
        return (when, v.patient_name, v.doctor_name, v.service_name, v.status_label)


class AttendanceModel(RowsModel[Attendance]):
    HEADERS = ("Doctor", "Booked", "Attended", "No-shows", "Cancelled", "Attendance")

    def cells(self, a: Attendance) -> tuple[str, ...]:
        return (
            a.doctor_name,
            str(a.booked),
            str(a.attended),
            str(a.no_shows),
            str(a.cancelled),
            f"{a.rate:.0%}",
        )


def _date_edit(day: date) -> QDateEdit:
    edit = QDateEdit(calendarPopup=True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setDate(QDate(day.year, day.month, day.day))
    return edit


def _table(model: RowsModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    read_only_rows(table)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


class AppointmentReportDialog(QDialog):
    def __init__(self, ctx: AppContext, directory: Directory, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.directory = directory
        self.setWindowTitle("Appointment history")
        self.setMinimumSize(860, 560)
        layout, _title = titled_layout(self, "Appointment history")

        today = ctx.clinic_today()
        self.form = FieldForm(columns=4)
        self.first_day = _date_edit(today - timedelta(days=30))
        self.last_day = _date_edit(today + timedelta(days=30))
        self.doctor = QComboBox()
        self.doctor.addItem("All doctors", ALL)
        for d in directory.doctors:
            self.doctor.addItem(d.name, d.id)
        self.status = QComboBox()
        self.status.addItem("Any status", ALL)
        for status in AppointmentStatus:
            self.status.addItem(status.label, status)
        self.form.add("first_day", "&From", self.first_day, 0, 0)
        self.form.add("last_day", "&To", self.last_day, 0, 1)
        self.form.add("doctor", "&Doctor", self.doctor, 0, 2)
        self.form.add("status", "St&atus", self.status, 0, 3)
        layout.addWidget(self.form)

        self.model = HistoryModel(ctx.details.time_zone)
        self.table = _table(self.model)
        self.table.setAccessibleName("Appointments")
        layout.addWidget(self.table, 3)
        self.count = QLabel()
        set_kind(self.count, "hint")
        layout.addWidget(self.count)

        heading = QLabel("ATTENDANCE PER DOCTOR")
        set_kind(heading, "section")
        layout.addWidget(heading)
        self.attendance_model = AttendanceModel()
        self.attendance_table = _table(self.attendance_model)
        self.attendance_table.setAccessibleName("Attendance per doctor")
        layout.addWidget(self.attendance_table, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)

        bar = QHBoxLayout()
        self.export_button = QPushButton("&Export doctor's schedule (.ics)…")
        self.export_button.setAutoDefault(False)
        self.export_button.clicked.connect(self.choose_export_file)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        bar.addWidget(self.export_button)
        bar.addStretch(1)
        bar.addWidget(close)
        layout.addLayout(bar)

        for edit in (self.first_day, self.last_day):
            edit.dateChanged.connect(self.refresh)
        for combo in (self.doctor, self.status):
            combo.currentIndexChanged.connect(self.refresh)
        self._seq = 0
        self.refresh()

    def days(self) -> tuple[date, date]:
        return self.first_day.date().toPython(), self.last_day.date().toPython()

    def refresh(self) -> None:
        self._update_export()
        first, last = self.days()
        if last < first:
            self.form.show_errors({"last_day": "is before the first day"}, focus=False)
            return
        self.form.clear_errors()
        self._seq += 1
        seq = self._seq
        reports, actor = self.ctx.session.reports, self.ctx.actor
        doctor_id = self.doctor.currentData() or None
        status = self.status.currentData() or None

        def load() -> tuple[list[AppointmentView], list[Attendance]]:
            return (
                reports.search(actor, first, last, doctor_id, status),
                reports.attendance(actor, first, last),
            )

        def loaded(data) -> None:
            if seq != self._seq:  # a newer filter is on its way
                return
            rows, attendance = data
            self.model.set_rows(rows)
            self.attendance_model.set_rows(attendance)
            self.count.setText(
                f"{len(rows)} appointment{'s' if len(rows) != 1 else ''}"
                if rows
                else "No appointments match."
            )

        self.ctx.tasks.submit(load, on_result=loaded, on_error=self._failed, owner=self)

    def _update_export(self) -> None:
        chosen = bool(self.doctor.currentData())
        self.export_button.setEnabled(chosen)
        self.export_button.setToolTip(
            "" if chosen else "Choose a doctor first: the file holds one doctor's schedule."
        )

    def choose_export_file(self) -> None:
        doctor = self.directory.doctor(self.doctor.currentData())
        if doctor is None:
            return
        first, last = self.days()
        slug = "-".join(doctor.name.lower().replace(".", "").split())
        suggested = f"{slug}-{first:%Y-%m-%d}-to-{last:%Y-%m-%d}.ics"
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export doctor's schedule", suggested, "Calendar files (*.ics)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the chosen doctor's schedule for the range to ``path``, off the UI thread."""
        doctor_id = self.doctor.currentData()
        if not doctor_id:
            self._say("Choose a doctor first: the file holds one doctor's schedule.", error=True)
            return
        first, last = self.days()
        session, actor = self.ctx.session, self.ctx.actor

        def write() -> Path:
            return session.save_export(
                path, session.reports.ics_for_doctor(actor, doctor_id, first, last)
            )

        self.ctx.tasks.submit(
            write,
            on_result=lambda done: self._say(f"Calendar file written: {done}"),
            on_error=lambda error: self._say(describe(error), error=True),
            owner=self,
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.show()

    def _failed(self, error: BaseException) -> None:
        self._say(describe(error), error=True)

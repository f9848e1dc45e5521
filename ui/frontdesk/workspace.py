"""The front-desk workspace: three pages under one switch (keys in ``pages.py``).

Patients: search beside the opened patient's record. Calendar: the day or week of
appointments. Queue: today's walk-in queue. Booking (Ctrl+B) and adding a walk-in (Ctrl+W)
work from any of them and take the opened patient, if there is one.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.permissions import P
from clinicdesk.scheduling.status import AppointmentStatus
from clinicdesk.services.patients import PatientRecord
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.appointment_dialog import AppointmentDialog
from ui.frontdesk.booking_dialog import BookingDialog
from ui.frontdesk.calendar import CalendarView
from ui.frontdesk.detail import PatientDetail
from ui.frontdesk.history import HistoryDialog
from ui.frontdesk.pages import CALENDAR, PAGES, PATIENTS, QUEUE
from ui.frontdesk.patient_dialog import PatientDialog
from ui.frontdesk.patients import PatientSearch
from ui.frontdesk.queue_board import QueueBoard
from ui.frontdesk.schedule_data import Directory, load_directory, slot_text, zone_of
from ui.frontdesk.walk_in_dialog import WalkInDialog
from ui.theme import icon, set_kind
from ui.waiting_room import WaitingRoomDisplay
from ui.widgets.pages import Page, PageSwitch
from ui.widgets.stacks import CurrentPageStack


class FrontDeskWorkspace(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.can_write = ctx.actor.can(P.PATIENT_WRITE)
        self.dialog: PatientDialog | None = None
        self.history_dialog: HistoryDialog | None = None
        self.booking_dialog: BookingDialog | None = None
        self.appointment_dialog: AppointmentDialog | None = None
        self.walk_in_dialog: WalkInDialog | None = None
        self.waiting_room: WaitingRoomDisplay | None = None
        self.directory: Directory | None = None
        self._after_directory: list = []

        title = QLabel("Patients")
        set_kind(title, "title")
        self.count_label = QLabel()
        set_kind(self.count_label, "muted")
        self.new_button = QPushButton(icon("plus", "#ffffff"), "New patient")
        set_kind(self.new_button, "primary")
        self.new_button.setToolTip("Register a new patient (Ctrl+N)")
        self.new_button.clicked.connect(self.new_patient)
        self.new_button.setVisible(self.can_write)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.count_label, 0, Qt.AlignmentFlag.AlignBottom)
        head.addStretch(1)
        head.addWidget(self.new_button)

        self.search = PatientSearch(ctx)
        self.search.open_requested.connect(self.open_patient)
        self.detail = PatientDetail(ctx.details.time_zone, self.can_write)
        self.detail.edit_requested.connect(self.edit_selected)
        self.detail.history_requested.connect(self.show_history)
        self.detail.new_requested.connect(self.new_patient)
        self.detail.setMinimumWidth(300)
        self.detail.setMaximumWidth(480)

        split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(self.search)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setHandleWidth(16)

        self.patients_page = patients = QWidget()
        patients_layout = QVBoxLayout(patients)
        patients_layout.setContentsMargins(0, 0, 0, 0)
        patients_layout.setSpacing(14)
        patients_layout.addLayout(head)
        patients_layout.addWidget(split, 1)

        self.calendar = CalendarView(ctx, lambda: self.directory)
        self.calendar.directory_needed.connect(self.load_directory)
        self.calendar.book_requested.connect(self._book_at)
        self.calendar.appointment_requested.connect(self.open_appointment)
        self.queue = QueueBoard(ctx)
        self.queue.walk_in_requested.connect(self.add_walk_in)

        self.views = PageSwitch(PAGES)
        self.stack = CurrentPageStack()
        for page in (patients, self.calendar, self.queue):
            self.stack.addWidget(page)
        self.views.currentChanged.connect(self._view_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 12, 24, 16)
        layout.setSpacing(12)
        layout.addWidget(self.views)
        layout.addWidget(self.stack, 1)
        self.refresh_count()
        self.load_directory()

    def showEvent(self, event) -> None:
        """Reception starts typing a name (or moving the cursor) the moment the view appears."""
        super().showEvent(event)
        QTimer.singleShot(0, self._focus_view)

    # ---- views ----

    def available_pages(self) -> tuple[Page, ...]:
        return PAGES

    def show_page(self, page: Page) -> None:
        self.views.setCurrentIndex(PAGES.index(page))
        self._focus_view()

    def show_patients(self) -> None:
        self.show_page(PATIENTS)

    def show_calendar(self) -> None:
        self.show_page(CALENDAR)

    def show_queue(self) -> None:
        self.show_page(QUEUE)

    def _shown(self) -> Page:
        return PAGES[self.views.currentIndex()]

    def _view_changed(self, index: int) -> None:
        self.stack.setCurrentIndex(index)  # the calendar reloads as it is shown (FollowTables)
        self._focus_view()

    def _focus_view(self) -> None:
        page = self._shown()
        if page is PATIENTS:
            self.search.focus_box()
        elif page is CALENDAR:
            self.calendar.grid.setFocus()
        else:
            self.queue.waiting.setFocus()

    # ---- doctors and services, loaded once ----

    def load_directory(self, then=None) -> None:
        """Load (or reload) the doctors and services; ``then(directory)`` once they are in."""
        if then is not None:
            self._after_directory.append(then)
        self.ctx.tasks.submit(
            load_directory,
            self.ctx.session,
            self.ctx.actor,
            on_result=self._directory_loaded,
            on_error=lambda e: self.ctx.notify(describe(e)),
            owner=self,
        )

    def _directory_loaded(self, directory: Directory) -> None:
        self.directory = directory
        self.calendar.set_directory(directory)
        self.queue.set_directory(directory)
        waiting, self._after_directory = self._after_directory, []
        for then in waiting:
            then(directory)
        if self._shown() is CALENDAR:
            self.calendar.reload()

    def _with_directory(self, then) -> None:
        if self.directory is not None:
            then(self.directory)
        else:
            self.load_directory(then)

    def selected_patient(self) -> PatientRecord | None:
        """The opened patient, else the one highlighted in the search results."""
        return self.detail.patient or self.search.current()

    def refresh_count(self) -> None:
        self.ctx.tasks.submit(
            self.ctx.session.patients.count,
            self.ctx.actor,
            on_result=lambda n: self.count_label.setText(f"{n:,} registered"),
            on_error=lambda _e: None,
            owner=self,
        )

    # ---- actions (also the Patients menu) ----

    def focus_search(self) -> None:
        self.views.setCurrentIndex(PAGES.index(PATIENTS))
        self.search.focus_box()

    def new_patient(self) -> None:
        if not self.can_write or self._dialog_open():
            return
        self._open_dialog(PatientDialog(self.ctx, None, self))

    def edit_selected(self) -> None:
        """Edit the opened patient; if another row is highlighted, open that one first."""
        if not self.can_write or self._dialog_open():
            return
        highlighted = self.search.current()
        opened = self.detail.patient
        if opened is not None and (highlighted is None or highlighted.id == opened.id):
            self._open_dialog(PatientDialog(self.ctx, opened, self))
        elif highlighted is not None:
            self.open_patient(highlighted, then_edit=True)

    def _dialog_open(self) -> bool:
        return _is_open(self.dialog)

    def _open_dialog(self, dialog: PatientDialog) -> None:
        self.dialog = dialog
        dialog.submitted.connect(self._saved)
        dialog.use_existing.connect(lambda p: self.open_patient(p))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _saved(self, record: PatientRecord) -> None:
        registered = record.version == 1
        if registered:
            self.search.show_only(record)
        else:
            self.search.model.replace(record)
        self.detail.show_patient(record)
        verb = "Registered" if registered else "Saved"
        self.ctx.notify(f"{verb} {record.full_name} ({record.mrn}).")
        if registered:
            self.refresh_count()

    def open_patient(self, patient: PatientRecord, then_edit: bool = False) -> None:
        """Load the current record (the service notes the view in the audit log)."""

        def opened(record: PatientRecord) -> None:
            self.detail.show_patient(record)
            if then_edit:
                self._open_dialog(PatientDialog(self.ctx, record, self))

        self.ctx.tasks.submit(
            self.ctx.session.patients.get,
            self.ctx.actor,
            patient.id,
            on_result=opened,
            on_error=lambda e: self.ctx.notify(describe(e)),
            owner=self,
        )

    def show_history(self) -> None:
        patient = self.detail.patient
        if patient is None:
            return

        def loaded(changes) -> None:
            self.history_dialog = HistoryDialog(patient, changes, self.ctx.details.time_zone, self)
            self.history_dialog.finished.connect(self.history_dialog.deleteLater)
            self.history_dialog.open()

        self.ctx.tasks.submit(
            self.ctx.session.patients.history,
            self.ctx.actor,
            patient.id,
            on_result=loaded,
            on_error=lambda e: self.ctx.notify(describe(e)),
            owner=self,
        )

    # ---- booking and the queue ----

    def book_appointment(self) -> None:
        """Book for the selected patient; the earliest free slots are offered first."""
        self._open_booking(None, None)

    def _book_at(self, doctor_id: str, starts_at) -> None:
        self._open_booking(doctor_id, starts_at)

    def _open_booking(self, doctor_id: str | None, starts_at) -> None:
        if not self.ctx.actor.can(P.APPOINTMENTS_MANAGE) or _is_open(self.booking_dialog):
            return
        patient = self.selected_patient()

        def opened(directory: Directory) -> None:
            dialog = BookingDialog(self.ctx, directory, patient, doctor_id, starts_at, self)
            dialog.submitted.connect(self._booked)
            self._show_dialog("booking_dialog", dialog)

        self._with_directory(opened)

    def _booked(self, view) -> None:
        when = slot_text(view.starts_at, zone_of(self.ctx.details.time_zone))
        self.ctx.notify(f"Booked {view.patient_name} with {view.doctor_name}, {when}.")
        self.calendar.reload()

    def open_appointment(self, appointment) -> None:
        if _is_open(self.appointment_dialog):
            return

        def opened(directory: Directory, allowed: tuple[AppointmentStatus, ...]) -> None:
            if _is_open(self.appointment_dialog):
                return
            dialog = AppointmentDialog(self.ctx, directory, appointment, allowed, self)
            dialog.changed.connect(self._appointment_changed)
            self._show_dialog("appointment_dialog", dialog)

        self._with_directory(
            lambda directory: self.ctx.tasks.submit(
                self.ctx.session.appointments.moves,
                self.ctx.actor,
                appointment.id,
                on_result=lambda allowed: opened(directory, allowed),
                on_error=lambda error: self.ctx.notify(describe(error)),
                owner=self,
            )
        )

    def _appointment_changed(self, sentence: str) -> None:
        self.ctx.notify(sentence)
        self.calendar.reload()
        self.queue.reload()

    def show_attention(self) -> None:
        """Bookings hit by a change of hours or days off (Schedule → Needs attention)."""
        from ui.frontdesk.attention import AttentionDialog

        dialog = AttentionDialog(self.ctx, self)
        dialog.changed.connect(self._appointment_changed)
        self._show_dialog("attention_dialog", dialog)

    def show_appointment_history(self) -> None:
        """Appointments by date range, doctor and status; attendance; a doctor's .ics."""
        from ui.frontdesk.appointment_report import AppointmentReportDialog

        def opened(directory: Directory) -> None:
            dialog = AppointmentReportDialog(self.ctx, directory, self)
            self._show_dialog("report_dialog", dialog)

        self._with_directory(opened)

    def add_walk_in(self) -> None:
        if not self.ctx.actor.can(P.APPOINTMENTS_MANAGE) or _is_open(self.walk_in_dialog):
            return
        patient = self.detail.patient if self._shown() is PATIENTS else None

        def opened(directory: Directory) -> None:
            dialog = WalkInDialog(self.ctx, directory, patient, self)
            dialog.submitted.connect(self._queued)
            self._show_dialog("walk_in_dialog", dialog)

        self._with_directory(opened)

    def _queued(self, view) -> None:
        wait = view.estimated_wait_minutes
        estimate = f", about {wait} minutes to wait" if wait else ""
        self.ctx.notify(f"{view.patient_name} is in the queue with token {view.token}{estimate}.")
        self.queue.reload()

    def _show_dialog(self, name: str, dialog: QDialog) -> None:
        setattr(self, name, dialog)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self._back_from_dialog)
        dialog.open()
        dialog.activateWindow()

    def _back_from_dialog(self) -> None:
        """The keyboard goes back where staff were before the dialog."""
        self.window().activateWindow()
        self._focus_view()

    def open_waiting_room(self) -> WaitingRoomDisplay:
        """The display for a second screen; one at a time, brought to the front if open."""
        if not _is_open(self.waiting_room):
            self.waiting_room = WaitingRoomDisplay(self.ctx)
            self.waiting_room.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.waiting_room.open_on(self.window().screen())
        self.waiting_room.raise_()
        return self.waiting_room

    def close_windows(self) -> None:
        """The main window is closing: the display goes with it."""
        if _is_open(self.waiting_room):
            self.waiting_room.close()


def _is_open(widget: QWidget | None) -> bool:
    return widget is not None and shiboken6.isValid(widget) and widget.isVisible()

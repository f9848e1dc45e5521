"""One appointment and what reception can do with it.

Check in (the patient joins the queue), approve or reject a pending booking, mark a no-show,
cancel with a reason (the refund due under the clinic's policy is shown), reschedule to one of
the doctor's free slots, book a follow-up after a completed or missed visit, export the
appointment to a calendar file (.ics), and the history of every change. After a cancellation,
whoever on the waitlist could take the freed slot is offered ("Book <name> here"). Each
action goes to the service; a refusal is shown here in the service's own words and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.money import money_text
from clinicdesk.scheduling.status import AppointmentStatus as S
from clinicdesk.services.appointments import AppointmentView, StatusChange
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.booking_dialog import SlotList
from ui.frontdesk.calendar_paint import STATUS_COLOURS
from ui.frontdesk.schedule_data import (
    Directory,
    Slot,
    clock_text,
    offered_slots,
    slot_text,
    zone_of,
)
from ui.theme import set_kind
from ui.widgets.dates import format_moment
from ui.widgets.dialogs import titled_layout
from ui.widgets.reason_dialog import ask_reason
from ui.widgets.table import read_only_rows

# The moves reception makes here, in button order; which are offered is the core's rule
# (``moves``). Seeing the patient (in consultation, completed) is the doctor's.
ACTIONS = {
    S.CHECKED_IN: "Check &in",
    S.CONFIRMED: "&Approve",
    S.REJECTED: "&Reject…",
    S.NO_SHOW: "Mark &no-show",
}
FORWARD = (S.CHECKED_IN, S.CONFIRMED)  # what Enter does when offered; otherwise Enter closes


def change_text(change: StatusChange) -> str:
    """'Confirmed → Checked in', or what else happened (moved, told, ...)."""
    before = S(change.from_status).label if change.from_status else ""
    after = S(change.to_status).label
    if not before:
        return f"Booked ({after.lower()})"
    if "moved_from" in change.detail:
        return "Rescheduled"
    return after if before == after else f"{before} → {after}"


def detail_text(change: StatusChange, zone_name: str, currency: str) -> str:
    d = change.detail
    parts = []
    if d.get("moved_from"):
        parts.append(f"was {format_moment_iso(d['moved_from'], zone_name)}")
    if d.get("reason"):
        parts.append(str(d["reason"]))
    if "refund_minor" in d:
        parts.append(f"refund {money_text(int(d['refund_minor']), currency)}")
    if d.get("told"):
        parts.append(f"patient told: {d['told']}")
    return "; ".join(parts)


def format_moment_iso(text: str, zone_name: str) -> str:
    return format_moment(datetime.fromisoformat(text), zone_name)


class AppointmentDialog(QDialog):
    changed = Signal(str)  # a sentence for the status bar, after any change

    def __init__(
        self,
        ctx: AppContext,
        directory: Directory,
        appointment: AppointmentView,
        allowed: tuple[S, ...],
        parent: QWidget | None = None,
    ) -> None:
        """``allowed``: what the appointment may become now (``AppointmentService.moves``)."""
        super().__init__(parent)
        self.ctx = ctx
        self.directory = directory
        self.appointment = a = appointment
        self.zone = zone_of(ctx.details.time_zone)
        self.setWindowTitle(f"Appointment – {a.patient_name}")
        self.setMinimumWidth(620)

        layout, _title = titled_layout(self, a.patient_name)
        when = (
            f"{slot_text(a.starts_at, self.zone)}–{clock_text(a.ends_at, self.zone)} · "
            f"{a.service_name} · {a.doctor_name}"
        )
        summary = QLabel(when)
        set_kind(summary, "subtitle")
        layout.addWidget(summary)
        self.status = QLabel(a.status_label)
        accent, fill = STATUS_COLOURS[a.status]
        self.status.setObjectName("StatusChip")
        self.status.setStyleSheet(f"color: {accent}; background: {fill}; border-color: {accent};")
        layout.addWidget(self.status, 0, Qt.AlignmentFlag.AlignLeft)

        self.pages = QStackedWidget()
        self.actions_page = self._actions_page(allowed)
        self.reschedule_page = self._reschedule_page()
        self.pages.addWidget(self.actions_page)
        self.pages.addWidget(self.reschedule_page)
        layout.addWidget(self.pages, 1)

        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        self.show_actions()  # the default button is set once it is inside the dialog
        self._load_history()

    # ---- pages ----

    def _actions_page(self, allowed: tuple[S, ...]) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 6, 0, 0)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        a = self.appointment
        for target, text in ACTIONS.items():
            if target in allowed:
                button = QPushButton(text)
                button.clicked.connect(lambda _=False, t=target: self._on_action(t))
                row.addWidget(button)
                self.buttons[target] = button
        if a.status.movable:
            self.buttons["reschedule"] = QPushButton("Re&schedule…")
            self.buttons["reschedule"].clicked.connect(self.show_reschedule)
            row.addWidget(self.buttons["reschedule"])
        if S.CANCELLED in allowed:
            self.buttons[S.CANCELLED] = QPushButton("&Cancel appointment…")
            set_kind(self.buttons[S.CANCELLED], "danger")
            self.buttons[S.CANCELLED].clicked.connect(lambda: self.ask_reason(S.CANCELLED))
            row.addWidget(self.buttons[S.CANCELLED])
        row.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        row.addWidget(self.close_button)
        box.addLayout(row)
        box.addLayout(self._more_row())
        self.first_button = next(
            (self.buttons[t] for t in FORWARD if t in self.buttons), self.close_button
        )

        heading = QLabel("HISTORY")
        set_kind(heading, "section")
        box.addWidget(heading)
        self.history = QTableWidget(0, 4)
        self.history.setHorizontalHeaderLabels(("When", "By", "What", "Details"))
        read_only_rows(self.history)
        header = self.history.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.history.setMinimumHeight(160)
        box.addWidget(self.history, 1)
        return page

    def _more_row(self) -> QHBoxLayout:
        """Follow-up (after a completed or missed visit) and the calendar export."""
        row = QHBoxLayout()
        if self.appointment.status.finished:
            self.follow_up_days = QSpinBox()
            self.follow_up_days.setRange(1, 365)
            self.follow_up_days.setValue(14)
            self.follow_up_days.setSuffix(" days")
            self.follow_up_days.setAccessibleName("Follow-up after")
            self.buttons["follow_up"] = QPushButton("Book &follow-up in")
            self.buttons["follow_up"].clicked.connect(self.book_follow_up)
            row.addWidget(self.buttons["follow_up"])
            row.addWidget(self.follow_up_days)
        self.export_button = QPushButton("E&xport to calendar (.ics)…")
        self.export_button.setAutoDefault(False)
        self.export_button.clicked.connect(self.choose_export_file)
        row.addWidget(self.export_button)
        row.addStretch(1)
        return row

    def _reschedule_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 6, 0, 0)
        heading = QLabel(f"FREE SLOTS WITH {self.appointment.doctor_name.upper()}")
        set_kind(heading, "section")
        box.addWidget(heading)
        self.slots = SlotList()
        self.slots.setAccessibleName("Free slots")
        self.slots.chosen.connect(self.reschedule_to)
        self.slots.itemDoubleClicked.connect(
            lambda item: self.reschedule_to(item.data(Qt.ItemDataRole.UserRole))
        )
        box.addWidget(self.slots, 1)
        hint = QLabel("Enter moves the appointment to the highlighted slot.")
        set_kind(hint, "hint")
        box.addWidget(hint)
        back = QPushButton("Back")
        back.setAutoDefault(False)
        back.clicked.connect(self.show_actions)
        box.addWidget(back, 0, Qt.AlignmentFlag.AlignRight)
        return page

    def show_actions(self) -> None:
        self.pages.setCurrentWidget(self.actions_page)
        self.first_button.setDefault(True)
        self.first_button.setFocus()

    # ---- actions ----

    def _on_action(self, target: S) -> None:
        if target == S.REJECTED:
            self.ask_reason(S.REJECTED)
        elif target == S.CHECKED_IN:
            self._run(
                self.ctx.session.queue.check_in,
                self.appointment.id,
                done=lambda q: f"{self.appointment.patient_name} checked in: token {q.token}.",
            )
        else:
            self._run(
                self.ctx.session.appointments.set_status,
                self.appointment.id,
                target,
                done=lambda v: f"{v.patient_name}: {v.status_label.lower()}.",
            )

    def ask_reason(self, target: S) -> None:
        """Cancelling or rejecting asks why first; the reason is kept in the history."""
        appointments, actor, a = self.ctx.session.appointments, self.ctx.actor, self.appointment
        if target == S.CANCELLED:
            currency = self.ctx.details.currency

            def cancelled(refund: int) -> None:
                due = f"refund due {money_text(refund, currency)}" if refund else "no refund due"
                self._look_for_waitlist(f"Cancelled {a.patient_name}'s appointment; {due}.")

            self.reason_dialog = ask_reason(
                self.ctx,
                self,
                "Cancel appointment",
                f"Why is {a.patient_name}'s appointment cancelled?",
                "Cancel appointment",
                lambda reason: partial(appointments.cancel, actor, a.id, reason),
                cancelled,
                hint="Kept in the history. Any refund follows the clinic's cancellation policy.",
            )
        else:
            self.reason_dialog = ask_reason(
                self.ctx,
                self,
                "Reject booking",
                f"Why is {a.patient_name}'s booking rejected?",
                "Reject booking",
                lambda reason: partial(appointments.set_status, actor, a.id, S.REJECTED, reason),
                lambda _view: self._finish(f"Rejected {a.patient_name}'s booking."),
                hint="Kept in the history; tell the patient.",
            )

    def show_reschedule(self) -> None:
        self.pages.setCurrentWidget(self.reschedule_page)
        self.slots.clear()
        a = self.appointment
        doctor = self.directory.doctor(a.doctor_id)
        self.ctx.tasks.submit(
            offered_slots,
            self.ctx.session,
            self.ctx.actor,
            a.service_id,
            [doctor] if doctor else [],
            a.starts_at.astimezone(self.zone).date(),
            limit=20,
            on_result=self._show_slots,
            on_error=lambda e: self.show_message(describe(e)),
            owner=self,
        )

    def _show_slots(self, slots: list[Slot]) -> None:
        for slot in slots:
            item_text = slot_text(slot.starts_at, self.zone)
            self.slots.addItem(item_text)
            self.slots.item(self.slots.count() - 1).setData(Qt.ItemDataRole.UserRole, slot)
        if slots:
            self.slots.setCurrentRow(0)
            self.slots.setFocus()
        else:
            self.show_message("The doctor has no free slot in the two weeks from that day.")

    def reschedule_to(self, slot: Slot | None) -> None:
        if slot is None:
            return
        name = self.appointment.patient_name
        self._run(
            self.ctx.session.appointments.reschedule,
            self.appointment.id,
            slot.starts_at,
            slot.doctor_id,
            done=lambda v: f"Moved {name} to {slot_text(v.starts_at, self.zone)}.",
        )

    def book_follow_up(self) -> None:
        """The doctor's first free slot after the chosen number of days, same service."""
        name = self.appointment.patient_name
        self._run(
            self.ctx.session.appointments.book_follow_up,
            self.appointment.id,
            self.follow_up_days.value(),
            done=lambda v: (
                f"Follow-up for {name} booked: {slot_text(v.starts_at, self.zone)} "
                f"with {v.doctor_name}."
            ),
        )

    def choose_export_file(self) -> None:
        a = self.appointment
        suggested = f"appointment-{a.starts_at.astimezone(self.zone):%Y-%m-%d-%H%M}.ics"
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export to calendar", suggested, "Calendar files (*.ics)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the appointment's calendar entry (no health details) to ``path``."""
        session = self.ctx.session
        reports, actor, appointment_id = (
            session.reports,
            self.ctx.actor,
            self.appointment.id,
        )

        def write() -> Path:
            return session.save_export(path, reports.ics_for_appointment(actor, appointment_id))

        def written(done: Path) -> None:
            self.show_message(f"Calendar file written: {done}", "success")

        self.ctx.tasks.submit(
            write,
            on_result=written,
            on_error=lambda error: self.show_message(describe(error)),
            owner=self,
        )

    def _run(self, fn, *args, done) -> None:
        """Call the service; on success report and close, on refusal show why and stay."""
        self.message.hide()
        self.setEnabled(False)

        def succeeded(value) -> None:
            self.setEnabled(True)
            self._finish(done(value))

        def refused(error: BaseException) -> None:
            self.setEnabled(True)
            self.show_message(describe(error))

        self.ctx.tasks.submit(
            fn, self.ctx.actor, *args, on_result=succeeded, on_error=refused, owner=self
        )

    def _finish(self, sentence: str) -> None:
        self.accept()
        self.changed.emit(sentence)

    # ---- the waitlist, after a cancellation ----

    def _look_for_waitlist(self, sentence: str) -> None:
        """The slot just freed: who on the waitlist could take it? None: close as usual."""
        self.changed.emit(sentence)
        a = self.appointment

        def found(matches: list[tuple[str, str, str]]) -> None:
            if not matches:
                self.accept()
                return
            self._show_matches(sentence, matches)

        self.ctx.tasks.submit(
            self.ctx.session.appointments.waitlist_matches,
            self.ctx.actor,
            a.doctor_id,
            a.service_id,
            a.starts_at,
            on_result=found,
            on_error=lambda _e: self.accept(),  # the cancellation stands either way
            owner=self,
        )

    def _show_matches(self, sentence: str, matches: list[tuple[str, str, str]]) -> None:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 6, 0, 0)
        done = QLabel(sentence)
        set_kind(done, "success")
        done.setWordWrap(True)
        box.addWidget(done)
        heading = QLabel("ON THE WAITLIST FOR THIS SLOT")
        set_kind(heading, "section")
        box.addWidget(heading)
        self.waitlist_buttons: dict[str, QPushButton] = {}
        for entry_id, _patient_id, patient_name in matches:
            button = QPushButton(f"Book {patient_name} here")
            button.clicked.connect(
                lambda _=False, e=entry_id, n=patient_name: self.book_from_waitlist(e, n)
            )
            box.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
            self.waitlist_buttons[entry_id] = button
        box.addStretch(1)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        box.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.pages.addWidget(page)
        self.pages.setCurrentWidget(page)
        first = next(iter(self.waitlist_buttons.values()))
        first.setDefault(True)
        first.setFocus()

    def book_from_waitlist(self, entry_id: str, patient_name: str) -> None:
        a = self.appointment
        self._run(
            self.ctx.session.appointments.book_from_waitlist,
            entry_id,
            a.doctor_id,
            a.starts_at,
            done=lambda v: (
                f"Booked {patient_name} from the waitlist: {slot_text(v.starts_at, self.zone)} "
                f"with {v.doctor_name}."
            ),
        )

    def show_message(self, text: str, kind: str = "banner") -> None:
        """A refusal in the banner style, or (kind="success") a confirmation."""
        set_kind(self.message, kind)
        self.message.setText(text)
        self.message.show()

    # ---- history ----

    def _load_history(self) -> None:
        self.ctx.tasks.submit(
            self.ctx.session.appointments.history,
            self.ctx.actor,
            self.appointment.id,
            on_result=self._show_history,
            on_error=lambda e: self.show_message(describe(e)),
            owner=self,
        )

    def _show_history(self, changes: list[StatusChange]) -> None:
        zone_name, currency = self.ctx.details.time_zone, self.ctx.details.currency
        self.history.setRowCount(len(changes))
        for row, c in enumerate(reversed(changes)):  # newest first
            cells = (
                format_moment(c.at, zone_name),
                c.by,
                change_text(c),
                detail_text(c, zone_name, currency),
            )
            for col, text in enumerate(cells):
                self.history.setItem(row, col, QTableWidgetItem(text))

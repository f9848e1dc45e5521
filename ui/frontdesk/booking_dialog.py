"""Booking an appointment: patient, service, doctor (or any doctor), then a free slot.

The keyboard path for a known patient: Ctrl+B with the patient open, the earliest free slots
are listed with the first highlighted; Enter holds it (nobody else can take it while the
dialog is open), Enter again books. Closing the dialog releases the hold. A refusal (the slot
was taken meanwhile, the patient is already booked then, ...) is shown here and books nothing.
When the patient already has another appointment on the highlighted slot's day, the dialog says
so before booking and the button reads "Book anyway".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.money import money_text
from clinicdesk.permissions import P
from clinicdesk.services.appointments import AppointmentView, Hold
from clinicdesk.services.booking import PatientBusy, SlotUnavailable
from clinicdesk.services.patients import PatientRecord
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.patient_picker import PatientPicker
from ui.frontdesk.schedule_data import (
    Directory,
    Slot,
    clock_text,
    local_now,
    offered_slots,
    slot_text,
    zone_of,
)
from ui.tasks import Task
from ui.theme import set_kind
from ui.widgets.form_dialog import FormDialog

ANY = "any"  # the doctor list's data: "any", "specialization:<id>" or "doctor:<id>"
BOOKINGS_AHEAD = 60  # days of the patient's bookings read from the first day, for the warning


def same_day_warning(name: str, others: list[AppointmentView], zone) -> str:
    """'Chloé Moreau already has an appointment at 11:10 with Dr Okafor on this day. ...'"""
    times = " and ".join(f"at {clock_text(a.starts_at, zone)} with {a.doctor_name}" for a in others)
    many = "appointments" if len(others) > 1 else "an appointment"
    return (
        f"{name} already has {many} {times} on this day. "
        "Book anyway, or choose a slot on another day."
    )


class SlotList(QListWidget):
    """Enter on a slot chooses it (and is not passed on to the dialog's default button)."""

    chosen = Signal(object)  # Slot

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem():
            self.chosen.emit(self.currentItem().data(Qt.ItemDataRole.UserRole))
        else:
            super().keyPressEvent(event)

    def slot(self, row: int) -> Slot | None:
        item = self.item(row)
        return item.data(Qt.ItemDataRole.UserRole) if item else None


class BookingDialog(FormDialog):
    """Emits ``submitted(AppointmentView)`` once booked."""

    def __init__(
        self,
        ctx: AppContext,
        directory: Directory,
        patient: PatientRecord | None = None,
        doctor_id: str | None = None,
        starts_at: datetime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Book an appointment", "Book", parent, columns=3, min_width=760)
        self.directory = directory
        self.zone = zone_of(ctx.details.time_zone)
        self.after = starts_at
        self.hold: Hold | None = None
        self._holding: Slot | None = None
        self._seq = 0
        self._slots_task: Task | None = None
        layout = self.layout_
        self.picker = PatientPicker(ctx)
        self.service = QComboBox()
        currency = ctx.details.currency
        for s in directory.services:
            fee = money_text(s.fee_minor, currency)
            self.service.addItem(f"{s.name} · {s.duration_minutes} min · {fee}", s.id)
        self.doctor = QComboBox()
        self.doctor.addItem("Any doctor", ANY)
        for spec_id, name in directory.specializations:
            if any(d.specialization_id == spec_id for d in directory.doctors):
                self.doctor.addItem(f"Any doctor · {name}", f"specialization:{spec_id}")
        for d in directory.doctors:
            self.doctor.addItem(f"{d.name} · {d.specialization}", f"doctor:{d.id}")
        self.first_day = QDateEdit(calendarPopup=True)
        self.first_day.setDisplayFormat("dd/MM/yyyy")
        start = (
            (starts_at.astimezone(self.zone).date()) if starts_at else local_now(self.zone).date()
        )
        self.first_day.setDate(QDate(start.year, start.month, start.day))
        self.form.add("patient", "&Patient *", self.picker, 0, 0, 3)
        self.form.add("service", "&Service *", self.service, 1, 0)
        self.form.add("doctor", "&Doctor", self.doctor, 1, 1)
        self.form.add("first_day", "&From", self.first_day, 1, 2)

        slots_label = QLabel("Free &slots")
        set_kind(slots_label, "section")
        layout.addWidget(slots_label)
        self.slots = SlotList()
        self.slots.setAccessibleName("Free slots")
        self.slots.setMinimumHeight(220)
        slots_label.setBuddy(self.slots)
        self.slots.chosen.connect(self.take)
        self.slots.itemDoubleClicked.connect(
            lambda item: self.take(item.data(Qt.ItemDataRole.UserRole))
        )
        layout.addWidget(self.slots, 1)
        self.slots_hint = QLabel()
        set_kind(self.slots_hint, "hint")
        layout.addWidget(self.slots_hint)

        self.note = QLineEdit()
        self.note.setPlaceholderText("Optional, e.g. 'prefers a morning'")
        note_label = QLabel("&Note")
        note_label.setBuddy(self.note)
        layout.addWidget(note_label)
        layout.addWidget(self.note)

        self.held_label = QLabel()
        set_kind(self.held_label, "success")
        self.held_label.setWordWrap(True)
        self.held_label.hide()
        layout.addWidget(self.held_label)
        self.same_day = QLabel()
        set_kind(self.same_day, "warning")
        self.same_day.setWordWrap(True)
        self.same_day.hide()
        layout.addWidget(self.same_day)
        self._bookings: list[AppointmentView] = []  # the patient's, from the first day on
        self._bookings_seq = 0

        layout.addWidget(self._waitlist_row())
        self.override = QLineEdit()
        self.override.setPlaceholderText(
            "The patient is booked then: say why to book anyway (e.g. two services, one visit)"
        )
        self.override.setAccessibleName("Reason to book anyway")
        self.override.returnPressed.connect(self.submit)
        self.override.hide()
        layout.addWidget(self.override)

        self.waitlist_button = self.add_action("Add to &waitlist…", self.show_waitlist)
        self.waitlist_button.setToolTip(
            "No slot suits? List the patient for an earlier one; a freed slot shows its matches."
        )
        self.save.setToolTip("Book the held or highlighted slot (Enter)")
        self.submitted.connect(self._booked)
        self.finish_layout()

        self._preselect(doctor_id)
        self.picker.chosen.connect(self._patient_chosen)
        self.service.currentIndexChanged.connect(self.refresh_slots)
        self.doctor.currentIndexChanged.connect(self.refresh_slots)
        self.first_day.dateChanged.connect(self._day_changed)
        self.slots.currentRowChanged.connect(self._warn_same_day)
        if patient is not None:
            self.picker.set_patient(patient)
        self.refresh_slots()
        if patient is None:
            self.picker.setFocus()
        else:
            self.slots.setFocus()

    def _waitlist_row(self) -> QWidget:
        """Hidden until "Add to waitlist…": the last day the patient could come, and confirm.

        The patient, service, doctor ("any" and a specialization both mean any doctor) and the
        first day are the ones chosen above.
        """
        self.waitlist_row = QWidget()
        row = QHBoxLayout(self.waitlist_row)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Waitlist until")
        self.waitlist_until = QDateEdit(calendarPopup=True)
        self.waitlist_until.setDisplayFormat("dd/MM/yyyy")
        self.waitlist_until.setAccessibleName("Waitlist until")
        label.setBuddy(self.waitlist_until)
        self.waitlist_confirm = QPushButton("Put on waitlist")
        self.waitlist_confirm.setAutoDefault(False)
        self.waitlist_confirm.clicked.connect(self.add_to_waitlist)
        row.addWidget(label)
        row.addWidget(self.waitlist_until)
        row.addWidget(self.waitlist_confirm)
        row.addStretch(1)
        self.waitlist_row.hide()
        return self.waitlist_row

    def show_waitlist(self) -> None:
        first = self.first_day.date()
        if self.waitlist_until.date() < first:
            self.waitlist_until.setDate(first.addDays(14))
        self.waitlist_row.show()
        self.waitlist_until.setFocus()

    def add_to_waitlist(self) -> None:
        patient = self.picker.patient
        if patient is None:
            self.form.show_errors({"patient": "Choose the patient first."})
            return
        kind, _, key = str(self.doctor.currentData()).partition(":")
        doctor_id = key if kind == "doctor" else None
        first, last = self.first_day.date().toPython(), self.waitlist_until.date().toPython()
        name = patient.full_name

        def added(_entry_id: str) -> None:
            self.waitlist_row.hide()
            self.say("")
            self.held_label.setText(
                f"{name} is on the waitlist from {first:%d/%m/%Y} to {last:%d/%m/%Y}; "
                "a cancellation in that time will offer the slot."
            )
            self.held_label.show()

        self.ctx.tasks.submit(
            self.ctx.session.appointments.add_to_waitlist,
            self.ctx.actor,
            patient.id,
            self.service.currentData(),
            first,
            last,
            doctor_id,
            self.note.text(),
            on_result=added,
            on_error=lambda e: self.say(describe(e)),
            owner=self,
        )

    def _preselect(self, doctor_id: str | None) -> None:
        doctor = self.directory.doctor(doctor_id) if doctor_id else None
        if doctor is not None:
            self.doctor.setCurrentIndex(self.doctor.findData(f"doctor:{doctor.id}"))
            service = self.directory.shortest(doctor)
        else:  # the service most doctors offer, usually the plain consultation
            counts = {s.id: 0 for s in self.directory.services}
            for d in self.directory.doctors:
                for sid in d.service_ids:
                    counts[sid] = counts.get(sid, 0) + 1
            service = max(self.directory.services, key=lambda s: counts[s.id], default=None)
        if service is not None:
            self.service.setCurrentIndex(self.service.findData(service.id))

    # ---- choosing ----

    def _patient_chosen(self, _patient: PatientRecord) -> None:
        self.form.set_error("patient", None)
        self._load_bookings()
        if self.slots.count():
            self.slots.setFocus()

    def _day_changed(self) -> None:
        self.after = None
        self._load_bookings()
        self.refresh_slots()

    def _load_bookings(self) -> None:
        """The chosen patient's bookings, so that another one on a slot's day is said first."""
        self._bookings_seq += 1
        seq, patient = self._bookings_seq, self.picker.patient
        self._bookings = []
        self._warn_same_day()
        if patient is None:
            return
        first = self.first_day.date().toPython()

        def loaded(views: list[AppointmentView]) -> None:
            if seq == self._bookings_seq:
                self._bookings = views
                self._warn_same_day()

        self.ctx.tasks.submit(
            self.ctx.session.appointments.patient_bookings,
            self.ctx.actor,
            patient.id,
            first,
            first + timedelta(days=BOOKINGS_AHEAD),
            on_result=loaded,
            on_error=lambda e: self.say(describe(e)),
            owner=self,
        )

    def _warn_same_day(self) -> None:
        slot, patient = self.chosen_slot(), self.picker.patient
        others = []
        if slot is not None and patient is not None:
            day = slot.starts_at.astimezone(self.zone).date()
            others = [a for a in self._bookings if a.starts_at.astimezone(self.zone).date() == day]
        if others:
            self.same_day.setText(same_day_warning(patient.full_name, others, self.zone))
        self.same_day.setVisible(bool(others))
        self.save.setText("Book anyway" if others else "Book")

    def _doctors(self) -> list:
        kind, _, key = str(self.doctor.currentData()).partition(":")
        if kind == "doctor":
            return [d for d in self.directory.doctors if d.id == key]
        if kind == "specialization":
            return [d for d in self.directory.doctors if d.specialization_id == key]
        return list(self.directory.doctors)

    def refresh_slots(self) -> None:
        """Ask for the earliest free slots for the chosen service and doctor(s)."""
        self._release()
        self._seq += 1
        seq = self._seq
        if self._slots_task is not None:
            self._slots_task.cancel()
        self.slots.clear()
        self.slots_hint.setText("Looking for free slots…")
        service_id = self.service.currentData()
        if not service_id:
            self.slots_hint.setText("The clinic has no services yet; an administrator adds them.")
            return
        d = self.first_day.date()
        self._slots_task = self.ctx.tasks.submit(
            offered_slots,
            self.ctx.session,
            self.ctx.actor,
            service_id,
            self._doctors(),
            date(d.year(), d.month(), d.day()),
            self.after,
            on_result=lambda slots: self._show_slots(seq, slots),
            on_error=lambda e: self.slots_hint.setText(describe(e)),
            owner=self,
        )

    def _show_slots(self, seq: int, slots: list[Slot]) -> None:
        if seq != self._seq:
            return
        self._slots_task = None
        self.slots.clear()
        show_doctor = len(self._doctors()) > 1
        for slot in slots:
            text = slot_text(slot.starts_at, self.zone)
            item = QListWidgetItem(f"{text}   ·   {slot.doctor_name}" if show_doctor else text)
            item.setData(Qt.ItemDataRole.UserRole, slot)
            self.slots.addItem(item)
        if slots:
            self.slots.setCurrentRow(0)
            self.slots_hint.setText("Enter holds the highlighted slot; Enter again books it.")
        else:
            self.slots_hint.setText(
                "No free slot in the two weeks from that day. Try another doctor or a later day."
            )

    def take(self, slot: Slot | None) -> None:
        """Hold the slot while the patient confirms; then Enter books it."""
        if slot is None or self._holding is not None:
            return
        if self.hold is not None and self.hold.starts_at == slot.starts_at:
            self.save.setFocus()
            return
        self._release()
        self._holding = slot
        self.say("")
        self.ctx.tasks.submit(
            self.ctx.session.appointments.hold,
            self.ctx.actor,
            slot.doctor_id,
            self.service.currentData(),
            slot.starts_at,
            on_result=lambda hold: self._held(slot, hold),
            on_error=self._hold_refused,
            owner=self,
        )

    def _held(self, slot: Slot, hold: Hold) -> None:
        self._holding = None
        self.hold = hold
        self._warn_same_day()
        self.held_label.setText(
            f"{slot_text(slot.starts_at, self.zone)} with {slot.doctor_name} is held for you "
            f"until {clock_text(hold.expires_at, self.zone)}. Press Enter to book it."
        )
        self.held_label.show()
        self.save.setFocus()

    def _hold_refused(self, error: BaseException) -> None:
        self._holding = None
        self.say(describe(error))
        self.refresh_slots()

    def _release(self) -> None:
        hold, self.hold = self.hold, None
        self.held_label.hide()
        if hold is not None:
            self.ctx.tasks.submit(
                self.ctx.session.appointments.release,
                self.ctx.actor,
                hold.id,
                on_error=lambda _e: None,  # it expires on its own anyway
            )

    # ---- booking ----

    def chosen_slot(self) -> Slot | None:
        if self.hold is not None:
            return Slot(self.hold.doctor_id, "", self.hold.starts_at)
        return self.slots.slot(self.slots.currentRow())

    def call(self) -> Callable[[], AppointmentView]:
        patient, slot = self.picker.patient, self.chosen_slot()
        if patient is None:
            raise ValidationError({"patient": "Choose the patient first."})
        if slot is None:
            raise Conflict("Choose a free slot first.")
        return partial(
            self.ctx.session.appointments.book,
            self.ctx.actor,
            patient.id,
            slot.doctor_id,
            self.service.currentData(),
            slot.starts_at,
            hold_id=self.hold.id if self.hold else None,
            note=self.note.text(),
            overlap_reason=self.override.text() if self.override.isVisible() else "",
        )

    def _booked(self, _view: AppointmentView) -> None:
        self.hold = None  # the booking took the held time

    def refused(self, error: BaseException) -> None:
        super().refused(error)
        if isinstance(error, PatientBusy) and self.ctx.actor.can(P.APPOINTMENTS_OVERRIDE):
            self.override.show()  # the held slot stays; a reason and Enter book it anyway
            self.override.setFocus()
        elif isinstance(error, SlotUnavailable):
            self.refresh_slots()  # taken meanwhile: the list as it is now

    def done(self, result: int) -> None:
        self._release()
        super().done(result)

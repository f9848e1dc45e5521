"""Bookings hit by a change of hours or days off, for reception to rebook or tell the patient.

Each row offers the doctor's own next free slot and the next free slot of another doctor of the
same specialization (AppointmentService.needing_attention); "Patient told" keeps the booking as
it is and takes it off the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.appointments import Affected, SlotOffer
from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.schedule_data import slot_text, zone_of
from ui.theme import set_kind
from ui.widgets.table import RowsModel, read_only_rows


class AttentionModel(RowsModel[Affected]):
    HEADERS = ("When", "Patient", "Doctor", "Service", "Why")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.zone = zone_of(time_zone)

    def cells(self, a: Affected) -> tuple[str, ...]:
        v = a.appointment
        return (
            slot_text(v.starts_at, self.zone),
            v.patient_name,
            v.doctor_name,
            v.service_name,
            a.reason,
        )


class AttentionDialog(QDialog):
    """The list, and per selected booking: move to either offer, or record the patient was told."""

    changed = Signal(str)  # a sentence, after each move or "told"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Needs attention")
        self.setMinimumSize(820, 420)
        self.model = AttentionModel(ctx.details.time_zone)
        self.table = QTableView()
        self.table.setModel(self.model)
        read_only_rows(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)

        title = QLabel("Needs attention")
        set_kind(title, "title")
        lead = QLabel(
            "Bookings that no longer fit the doctors' hours or days off. Move each one, or "
            "record that the patient was told."
        )
        lead.setWordWrap(True)
        set_kind(lead, "muted")
        self.empty = QLabel("Nothing needs attention: every booking fits.")
        set_kind(self.empty, "hint")
        self.empty.hide()
        self.same_button = QPushButton()
        set_kind(self.same_button, "primary")
        self.other_button = QPushButton()
        self.told_button = QPushButton("Patient &told")
        self.told_button.setToolTip("The booking stays as it is and leaves this list.")
        self.same_button.clicked.connect(lambda: self.move_to(self._offer("same_doctor")))
        self.other_button.clicked.connect(lambda: self.move_to(self._offer("other_doctor")))
        self.told_button.clicked.connect(self.mark_told)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        bar = QHBoxLayout()
        for button in (self.same_button, self.other_button, self.told_button):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(close)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(lead)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        def loaded(rows: list[Affected]) -> None:
            self.model.set_rows(rows)
            self.empty.setVisible(not rows)
            if rows:
                self.table.selectRow(0)
                self.table.setFocus()
            self._update_buttons()

        self.ctx.tasks.submit(
            self.ctx.session.appointments.needing_attention,
            self.ctx.actor,
            on_result=loaded,
            on_error=self._failed,
            owner=self,
        )

    def selected(self) -> Affected | None:
        return self.model.row(self.table.currentIndex().row())

    def _offer(self, which: str) -> SlotOffer | None:
        item = self.selected()
        return getattr(item, which) if item is not None else None

    def offer_text(self, offer: SlotOffer | None) -> str:
        return (
            f"{slot_text(offer.starts_at, self.model.zone)} with {offer.doctor_name}"
            if offer
            else ""
        )

    def _update_buttons(self, *_args) -> None:
        item = self.selected()
        for button, which, none in (
            (self.same_button, "same_doctor", "No free slot with the same doctor"),
            (self.other_button, "other_doctor", "No other doctor free"),
        ):
            offer = self._offer(which)
            button.setText(f"Move to {self.offer_text(offer)}" if offer else none)
            button.setEnabled(offer is not None)
        self.told_button.setEnabled(item is not None)
        if item is None:
            self.same_button.setText("Move to the doctor's next free slot")
            self.other_button.setText("Move to another doctor")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.show()

    def _failed(self, error: BaseException) -> None:
        self._say(describe(error), error=True)
        self.refresh()  # an offer may have been taken meanwhile: show fresh ones

    def _done(self, sentence: str) -> None:
        self._say(sentence)
        self.changed.emit(sentence)
        self.refresh()

    def move_to(self, offer: SlotOffer | None) -> None:
        item = self.selected()
        if item is None or offer is None:
            return
        sentence = f"{item.appointment.patient_name} moved to {self.offer_text(offer)}."
        self.ctx.tasks.submit(
            self.ctx.session.appointments.reschedule,
            self.ctx.actor,
            item.appointment.id,
            offer.starts_at,
            offer.doctor_id,
            on_result=lambda _view: self._done(sentence),
            on_error=self._failed,
            owner=self,
        )

    def mark_told(self) -> None:
        item = self.selected()
        if item is None:
            return
        sentence = f"{item.appointment.patient_name}: told; the booking stays as it is."
        self.ctx.tasks.submit(
            self.ctx.session.appointments.mark_told,
            self.ctx.actor,
            item.appointment.id,
            on_result=lambda _none: self._done(sentence),
            on_error=self._failed,
            owner=self,
        )

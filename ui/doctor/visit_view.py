"""The visit: the patient and their allergies on top, the note, then follow-up and prescriptions.

The note has four fields (Tab moves between them); it is saved with Ctrl+S, whenever the
cursor leaves a changed field and after ten seconds without typing. "Finish visit and sign"
(Ctrl+Shift+Enter) asks first, then signs and locks it; after that the fields are read-only and
corrections are addenda. A visit that is signed, or that belongs to another doctor, opens
read-only. The header (allergies, active conditions, last vitals) follows every change to the
patient, wherever it was made (``ui.changes``); the note being typed is never reloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from html import escape

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import ClinicDeskError, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import P
from clinicdesk.services.booking import AppointmentView
from clinicdesk.services.chart import Chart
from clinicdesk.services.prescription_views import ACTIVE, PrescriptionView
from clinicdesk.services.visits import NOTE_FIELDS, VisitNote, VisitView
from ui.changes import PATIENT_HEADER, FollowPatient
from ui.context import AppContext
from ui.doctor.allergy_banner import AllergyBanner
from ui.doctor.chart_sections_view import entry_table
from ui.doctor.chart_view import patient_line
from ui.doctor.pages import TODAY
from ui.doctor.prescription_dialog import PrescriptionDialog
from ui.doctor.print_prescription import print_prescription, save_prescription_pdf
from ui.errors import describe
from ui.frontdesk.schedule_data import clock_text, slot_text, zone_of
from ui.tasks import Task
from ui.theme import icon, set_kind
from ui.widgets.columns import Columns
from ui.widgets.dates import format_moment
from ui.widgets.empty_state import EmptyState
from ui.widgets.form_dialog import FormDialog
from ui.widgets.forms import FieldForm
from ui.widgets.keys import view_shortcuts
from ui.widgets.reason_dialog import ask_reason
from ui.widgets.table import RowsModel, SharedColumns

# Alt+letter: none of the menu bar's letters (C, P, S, G)
NOTE_LABELS = {
    "complaint": "C&omplaint",
    "findings": "F&indings",
    "diagnosis": "&Diagnosis",
    "plan": "P&lan",
}
SIGN_KEYS = ("Ctrl+Shift+Return", "Ctrl+Shift+Enter")
AUTOSAVE_MS = 10_000


@dataclass(frozen=True)
class VisitBundle:
    visit: VisitView
    chart: Chart
    prescriptions: list[PrescriptionView]
    my_doctor_id: str | None


def load_visit(session, actor, visit_id: str) -> VisitBundle:
    """On a worker: the visit, the patient's chart (for the banner) and its prescriptions."""
    visit = session.visits.get(actor, visit_id)
    chart = session.chart.open(actor, visit.patient_id)
    prescriptions = session.prescriptions.for_visit(actor, visit_id)
    try:
        mine = session.visits.my_doctor_id(actor)
    except ClinicDeskError:
        mine = None
    return VisitBundle(visit, chart, prescriptions, mine)


def clinical_summary(chart: Chart, zone) -> str:
    """'Active: Asthma, Hypertension · Last vitals 18/11/2026: BP 123/76, pulse 79, 63 kg'."""
    active = [
        c.values["name"] for c in chart.sections["conditions"] if c.values["status"] == "active"
    ]
    parts = [f"Active: {', '.join(active)}" if active else "No active conditions recorded"]
    vitals = chart.sections["vitals"]  # newest first
    if vitals:
        v = vitals[0].values
        readings = [
            f"BP {v['systolic']}/{v['diastolic']}" if v.get("systolic") else "",
            f"pulse {v['pulse']}" if v.get("pulse") else "",
            f"{v['temperature']:g} °C" if v.get("temperature") else "",
            f"{v['weight']:g} kg" if v.get("weight") else "",
        ]
        day = v["taken_at"].astimezone(zone).strftime("%d/%m/%Y")
        parts.append(f"Last vitals {day}: " + ", ".join(r for r in readings if r))
    return " · ".join(parts)


class VisitPrescriptionsModel(RowsModel[PrescriptionView]):
    HEADERS = ("Reference", "Drugs", "Valid until", "Status")

    def cells(self, p: PrescriptionView) -> tuple[str, ...]:
        drugs = ", ".join(f"{i.drug} {i.strength}".strip() for i in p.items)
        return (p.reference_grouped, drugs, f"{p.valid_until:%d/%m/%Y}", p.status_label)

    def extra(self, p: PrescriptionView, column: int, role: int) -> object:
        """The whole text as a tool tip, for a cell cut short in a narrow column."""
        if role != Qt.ItemDataRole.ToolTipRole:
            return None
        if column == 1:  # one drug a line
            return "\n".join(f"{i.drug} {i.strength}".strip() for i in p.items)
        return self.cells(p)[column]


SAVE_STATES = ("Unsaved changes", "Saving…", "Saved at 00:00", "Not saved")


class NoteEdit(QPlainTextEdit):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.setTabChangesFocus(True)
        self.setAccessibleName(name)
        self.setMinimumHeight(70)


class AddendumDialog(FormDialog):
    """An addendum under a signed note; Ctrl+Enter adds it (Enter makes a new line)."""

    def __init__(self, ctx: AppContext, visit: VisitView, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Add an addendum", "Add", parent, columns=1, min_width=520)
        self.visit = visit
        hint = QLabel(
            "The signed note stays as it is; the addendum is shown beneath it with your name "
            "and the time."
        )
        hint.setWordWrap(True)
        set_kind(hint, "hint")
        self.layout_.insertWidget(1, hint)
        self.text = NoteEdit("Addendum")
        self.form.add("addendum", "&Addendum", self.text, 0)
        self.text.textChanged.connect(lambda: self.form.set_error("addendum", None))
        self.finish_layout()
        shortcut = QShortcut(QKeySequence("Ctrl+Return"), self)
        shortcut.activated.connect(self.submit)
        self.text.setFocus()

    def call(self) -> Callable[[], VisitView]:
        visits = self.ctx.session.visits
        return partial(visits.add_addendum, self.ctx.actor, self.visit.id, self.text.toPlainText())


class VisitScreen(QWidget):
    chart_loaded = Signal(object)  # Chart, so the chart view shows the same patient

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.zone = zone_of(ctx.details.time_zone)
        self.visit: VisitView | None = None
        self.chart: Chart | None = None
        self.my_doctor_id: str | None = None
        self.dirty = False
        self._saving = False
        self._save_again = False
        self._finish_after_save = False
        self.confirm: QMessageBox | None = None
        self.addendum_dialog: AddendumDialog | None = None
        self.prescription_dialog: QDialog | None = None
        self._patient_task: Task | None = None

        self.autosave = QTimer(self)  # a pause in typing saves too, so little is ever lost
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self._empty_page())
        self._stack.addWidget(self._visit_page())
        view_shortcuts(
            self,
            (
                ("Ctrl+S", self.save),
                *((k, self.finish) for k in SIGN_KEYS),
                ("Ctrl+R", self.new_prescription),
                ("Ctrl+P", self.print_prescription),
            ),
        )
        FollowPatient(
            self,
            ctx,
            lambda: self.visit.patient_id if self.visit else None,
            self.refresh_patient,
            PATIENT_HEADER,
        )

    # ---- layout ----

    def _empty_page(self) -> QWidget:
        page = EmptyState(
            "doctor",
            f"No visit is open. Call the next patient from {TODAY.title} ({TODAY.key}, then "
            "Ctrl+Enter), or press "
            "Enter on a checked-in patient there.",
        )
        self.empty_text = page.text
        return page

    def _visit_page(self) -> QWidget:
        self.name = QLabel()
        set_kind(self.name, "title")
        self.summary = QLabel()
        set_kind(self.summary, "subtitle")
        self.visit_line = QLabel()
        set_kind(self.visit_line, "muted")
        names = QVBoxLayout()
        names.setSpacing(2)
        names.addWidget(self.name)
        names.addWidget(self.summary)
        names.addWidget(self.visit_line)
        self.banner = AllergyBanner()
        self.clinical = QLabel()
        self.clinical.setWordWrap(True)
        set_kind(self.clinical, "muted")

        self.form = FieldForm(self, columns=1)
        self.fields: dict[str, NoteEdit] = {}
        for row, name in enumerate(NOTE_FIELDS):
            edit = NoteEdit(NOTE_LABELS[name].replace("&", ""))
            edit.textChanged.connect(lambda n=name: self._edited(n))
            edit.installEventFilter(self)
            self.form.add(name, NOTE_LABELS[name], edit, row)
            self.fields[name] = edit
        self.save_button = QPushButton("Save  (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.finish_button = QPushButton(icon("lock", "#ffffff"), "Finish visit and sign…")
        set_kind(self.finish_button, "primary")
        self.finish_button.setToolTip("Sign and lock the note, end the visit (Ctrl+Shift+Enter)")
        self.finish_button.clicked.connect(self.finish)
        self.save_state = QLabel()
        set_kind(self.save_state, "muted")
        # room for its longest text from the start: "Saved at 10:32" never widens the visit
        self.save_state.setMinimumWidth(
            max(map(self.save_state.fontMetrics().horizontalAdvance, SAVE_STATES))
        )
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.save_button)
        row.addWidget(self.finish_button)
        # "Saved at 10:32" beside Save, or over it where the note is narrow (a 1024 px screen)
        self.note_bar = Columns(self.save_state, buttons, stretch=(1, 0), spacing=row.spacing())
        self.signed = QLabel(objectName="SignedNote")
        self.signed.setWordWrap(True)
        self.signed.hide()
        self.message = QLabel()
        set_kind(self.message, "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        self.addenda_heading = QLabel("ADDENDA")
        set_kind(self.addenda_heading, "section")
        self.addenda = QLabel()
        self.addenda.setWordWrap(True)
        self.addenda.setTextFormat(Qt.TextFormat.RichText)
        self.addenda.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.addendum_button = QPushButton(icon("plus"), "Add adde&ndum…")
        self.addendum_button.setToolTip("Add a correction or a later finding to the signed note")
        self.addendum_button.clicked.connect(self.add_addendum)
        addenda_bar = QHBoxLayout()
        addenda_bar.addWidget(self.addenda_heading, 1)
        addenda_bar.addWidget(self.addendum_button)

        notes = QWidget()
        note = QVBoxLayout(notes)
        note.setContentsMargins(0, 0, 0, 0)
        note.setSpacing(8)
        note.addWidget(self.form, 1)
        note.addWidget(self.message)
        note.addWidget(self.note_bar)
        note.addWidget(self.signed)
        note.addLayout(addenda_bar)
        note.addWidget(self.addenda)

        aside = QWidget()
        aside.setMinimumWidth(380)  # a prescription's drugs beside its reference, date and status
        side = QVBoxLayout(aside)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(8)
        side.addWidget(self._follow_up_box())
        side.addWidget(self._prescriptions_box(), 1)

        # follow-up and prescriptions beside the note; under it only where both cannot fit
        body = Columns(notes, aside, stretch=(5, 4), spacing=20)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(names)
        layout.addWidget(self.banner)
        layout.addWidget(self.clinical)
        layout.addWidget(body, 1)
        return page

    def _follow_up_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("FOLLOW-UP")
        set_kind(heading, "section")
        self.interval = QSpinBox()
        self.interval.setRange(1, 365)
        self.interval.setValue(14)
        self.interval.setSuffix(" days")
        self.interval.setAccessibleName("Follow-up after")
        label = QLabel("&After")
        label.setBuddy(self.interval)
        self.follow_up_button = QPushButton("&Book follow-up")
        self.follow_up_button.setToolTip("Book the first free slot with this doctor after that")
        self.follow_up_button.clicked.connect(self.book_follow_up)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.interval)
        row.addWidget(self.follow_up_button)
        row.addStretch(1)
        self.follow_up = QLabel()
        self.follow_up.setWordWrap(True)
        self.follow_up.hide()
        layout.addWidget(heading)
        layout.addLayout(row)
        layout.addWidget(self.follow_up)
        return box

    def _prescriptions_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("PRESCRIPTIONS FOR THIS VISIT")
        set_kind(heading, "section")
        self.prescriptions_model = VisitPrescriptionsModel()
        self.prescriptions = entry_table(self.prescriptions_model, "Prescriptions", stretch=1)
        self.prescriptions.open_requested.connect(self.print_prescription)
        # in a narrow column the reference gives way to the drugs
        SharedColumns(self.prescriptions, main=1, give_way=(0,), floor=0.45)
        self.prescriptions_empty = QLabel("No prescription written in this visit.")
        set_kind(self.prescriptions_empty, "muted")
        self.new_rx_button = QPushButton(icon("plus"), "New prescription…  (Ctrl+R)")
        self.new_rx_button.clicked.connect(self.new_prescription)
        self.print_button = QPushButton("Print…  (Ctrl+P)")
        self.print_button.clicked.connect(self.print_prescription)
        self.pdf_button = QPushButton("Save as PDF…")
        self.pdf_button.clicked.connect(self.save_pdf)
        self.cancel_rx_button = QPushButton("Cancel prescription…")
        set_kind(self.cancel_rx_button, "danger")
        self.cancel_rx_button.clicked.connect(self.cancel_prescription)
        # New and Cancel side by side, or one over the other in a narrow column
        write = Columns(
            self.new_rx_button,
            self.cancel_rx_button,
            stretch=(0, 1),
            spacing=layout.spacing(),
            align=Qt.AlignmentFlag.AlignLeft,
        )
        output = QWidget()
        row = QHBoxLayout(output)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.print_button)
        row.addWidget(self.pdf_button)
        # printing on the same row, or on one of its own where four buttons would not fit
        buttons = Columns(write, output, spacing=layout.spacing())
        layout.addWidget(heading)
        layout.addWidget(self.prescriptions_empty)
        layout.addWidget(self.prescriptions, 1)
        layout.addWidget(buttons)
        return box

    # ---- loading ----

    def open_visit(self, visit_id: str) -> None:
        """Load the visit with its patient's chart and prescriptions (one worker call)."""
        if self.visit is not None and self.visit.id != visit_id and self.dirty:
            self.save()
        self.ctx.tasks.submit(
            load_visit,
            self.ctx.session,
            self.ctx.actor,
            visit_id,
            on_result=self._loaded,
            on_error=self._load_failed,
            owner=self,
        )

    def _load_failed(self, error: BaseException) -> None:
        if self.visit is None:
            self.empty_text.setText(describe(error))
        else:
            self.show_message(describe(error))

    def _loaded(self, bundle: VisitBundle) -> None:
        self.my_doctor_id = bundle.my_doctor_id
        self._show_patient(bundle.chart)
        self.follow_up.hide()
        self.message.hide()
        self.form.clear_errors()
        self._show(bundle.visit)
        self._show_prescriptions(bundle.prescriptions)
        self._stack.setCurrentIndex(1)
        self.chart_loaded.emit(bundle.chart)
        if self.editable:
            self.fields["complaint"].setFocus()

    def _show_patient(self, chart: Chart) -> None:
        """The header: who the patient is, their allergies, active conditions, last vitals."""
        self.chart = chart
        self.name.setText(chart.patient.full_name)
        self.summary.setText(patient_line(chart.patient, self.ctx.clinic_today()))
        self.banner.set_allergies(chart.allergies)
        self.clinical.setText(clinical_summary(chart, self.zone))

    def refresh_patient(self) -> None:
        """Reload the header only: the note being typed is left as it is."""
        if self.visit is None:
            return
        if self._patient_task is not None:
            self._patient_task.cancel()
        self._patient_task = self.ctx.tasks.submit(
            self.ctx.session.chart.open,
            self.ctx.actor,
            self.visit.patient_id,
            on_result=self._patient_refreshed,
            on_error=self._show_error,
            owner=self,
        )

    def _patient_refreshed(self, chart: Chart) -> None:
        self._patient_task = None
        if self.visit is not None and chart.patient.id == self.visit.patient_id:
            self._show_patient(chart)

    @property
    def editable(self) -> bool:
        v = self.visit
        return v is not None and not v.locked and v.doctor_id == self.my_doctor_id

    def _show(self, visit: VisitView) -> None:
        """Show a visit as stored; the typed text is replaced."""
        self.visit = visit
        for name, edit in self.fields.items():
            edit.blockSignals(True)
            edit.setPlainText(getattr(visit.note, name))
            edit.blockSignals(False)
        self.dirty = False
        self._show_state()

    def _show_state(self) -> None:
        visit = self.visit
        if visit is None:
            return
        kind = "Walk-in" if visit.is_walk_in else "Appointment"
        started = format_moment(visit.started_at, self.ctx.details.time_zone)
        self.visit_line.setText(
            f"{kind} · started {started} · {visit.doctor_name} · "
            + ("Signed" if visit.locked else "Open")
        )
        editable = self.editable
        for edit in self.fields.values():
            edit.setReadOnly(not editable)
        self.note_bar.setVisible(editable)  # a signed note leaves its room to the addenda
        self.save_button.setVisible(editable)
        self.finish_button.setVisible(editable)
        self.finish_button.setEnabled(editable)
        if visit.locked:
            when = format_moment(visit.signed_at, self.ctx.details.time_zone)
            self.signed.setText(
                f"Signed by {visit.signed_by} at {when}. The note is locked; corrections are "
                "added as addenda."
            )
            self.save_state.setText("")
        elif not editable:
            self.signed.setText(f"This visit is open with {visit.doctor_name}; read-only here.")
            self.save_state.setText("")
        else:
            self.save_state.setText("Unsaved changes" if self.dirty else "")
        self.signed.setVisible(visit.locked or not editable)
        self.addendum_button.setVisible(visit.locked)
        self.addenda_heading.setVisible(visit.locked or bool(visit.addenda))
        self.addenda.setVisible(bool(visit.addenda))
        self.addenda.setText(
            "<br>".join(
                f"<b>{escape(a.author)}</b>, {format_moment(a.at, self.ctx.details.time_zone)}:"
                f" {escape(a.text)}"
                for a in visit.addenda
            )
        )
        self.new_rx_button.setEnabled(visit.doctor_id == self.my_doctor_id)  # who saw them
        self.follow_up_button.setEnabled(self.ctx.actor.can(P.APPOINTMENTS_MANAGE))

    def _show_prescriptions(self, prescriptions: list[PrescriptionView]) -> None:
        self.prescriptions_model.set_rows(prescriptions)
        self.prescriptions_empty.setVisible(not prescriptions)
        self.print_button.setEnabled(bool(prescriptions))
        self.pdf_button.setEnabled(bool(prescriptions))
        self.cancel_rx_button.setEnabled(
            self.ctx.actor.can(P.PRESCRIBE) and any(p.status == ACTIVE for p in prescriptions)
        )
        if prescriptions:
            self.prescriptions.selectRow(len(prescriptions) - 1)

    def focus_view(self) -> None:
        if self.visit is None:
            return
        if self.editable:
            self.fields["complaint"].setFocus()
        else:
            self.prescriptions.setFocus()

    # ---- the note ----

    def note(self) -> VisitNote:
        return VisitNote(**{name: edit.toPlainText() for name, edit in self.fields.items()})

    def _edited(self, name: str) -> None:
        self.form.set_error(name, None)
        if self.editable:
            self.dirty = True
            self.save_state.setText("Unsaved changes")
            self.autosave.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and self.dirty and self.editable:
            self.save()  # the cursor left a changed field
        return super().eventFilter(watched, event)

    def save(self) -> None:
        if not self.editable:
            return
        if self._saving:
            self._save_again = True
            return
        self.autosave.stop()
        if not self.dirty:
            self._after_save()
            return
        self._saving = True
        note = self.note()
        self.save_state.setText("Saving…")
        self.ctx.tasks.submit(
            self.ctx.session.visits.save_note,
            self.ctx.actor,
            self.visit.id,
            note,
            self.visit.version,
            on_result=lambda visit: self._saved(visit, note),
            on_error=self._save_failed,
            owner=self,
        )

    def _saved(self, visit: VisitView, sent: VisitNote) -> None:
        self._saving = False
        if self.visit is None or visit.id != self.visit.id:
            return  # saved on the way to another visit, which is shown now
        self.visit = visit
        self.dirty = self.note() != sent  # typing went on while it was saved
        self.message.hide()
        self._show_state()
        if not self.dirty:
            self.save_state.setText(f"Saved at {clock_text(utcnow(), self.zone)}")
        self._after_save()

    def _after_save(self) -> None:
        if self._save_again:
            self._save_again = False
            self.save()
        elif self._finish_after_save:
            self._finish_after_save = False
            self._sign()

    def _save_failed(self, error: BaseException) -> None:
        self._saving = False
        self._save_again = self._finish_after_save = False
        self.save_state.setText("Not saved")
        self._show_error(error)

    def _show_error(self, error: BaseException) -> None:
        rest = self.form.show_errors(error.fields) if isinstance(error, ValidationError) else {}
        if not isinstance(error, ValidationError) or rest:
            self.show_message(describe(error))

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    # ---- signing ----

    def finish(self) -> None:
        if not self.editable or self.confirm is not None:
            return
        name = self.chart.patient.full_name if self.chart else self.visit.patient_name
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Finish visit and sign",
            f"Finish {name}'s visit and sign the note?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(
            "The note is locked once signed: later corrections are added as addenda. "
            "The appointment or queue entry is marked as seen."
        )
        sign = box.addButton("Sign and finish", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(sign)
        box.finished.connect(lambda _r: self._confirmed(box.clickedButton() is sign))
        self.confirm = box
        box.open()

    def _confirmed(self, yes: bool) -> None:
        self.confirm.deleteLater()
        self.confirm = None
        self.window().activateWindow()  # the keyboard comes back to the visit
        if not yes:
            return
        if self._saving:
            self._finish_after_save = True
        else:
            self._sign()

    def _sign(self) -> None:
        self.finish_button.setEnabled(False)
        self.ctx.tasks.submit(
            self.ctx.session.visits.finish,
            self.ctx.actor,
            self.visit.id,
            self.note(),
            on_result=self._signed,
            on_error=self._sign_failed,
            owner=self,
        )

    def _signed(self, visit: VisitView) -> None:
        self.message.hide()
        self._show(visit)
        self.ctx.notify(f"Visit signed and finished for {visit.patient_name}.")
        self.prescriptions.setFocus()

    def _sign_failed(self, error: BaseException) -> None:
        self.finish_button.setEnabled(self.editable)
        self._show_error(error)

    def add_addendum(self) -> None:
        if self.visit is None or not self.visit.locked:
            return
        self.addendum_dialog = AddendumDialog(self.ctx, self.visit, self)
        self.addendum_dialog.submitted.connect(self._show)
        self.addendum_dialog.finished.connect(self.addendum_dialog.deleteLater)
        self.addendum_dialog.finished.connect(lambda _r: self.window().activateWindow())
        self.addendum_dialog.open()

    # ---- follow-up ----

    def book_follow_up(self) -> None:
        if self.visit is None:
            return
        self.follow_up_button.setEnabled(False)
        self.ctx.tasks.submit(
            self.ctx.session.visits.book_follow_up,
            self.ctx.actor,
            self.visit.id,
            self.interval.value(),
            on_result=self._booked,
            on_error=self._booking_failed,
            owner=self,
        )

    def _booked(self, appt: AppointmentView) -> None:
        self.follow_up_button.setEnabled(True)
        when = slot_text(appt.starts_at, self.zone)
        text = f"Follow-up booked: {when} with {appt.doctor_name} ({appt.service_name})."
        set_kind(self.follow_up, "success")
        self.follow_up.setText(text)
        self.follow_up.show()
        self.ctx.notify(text)

    def _booking_failed(self, error: BaseException) -> None:
        self.follow_up_button.setEnabled(True)
        set_kind(self.follow_up, "banner")
        self.follow_up.setText(describe(error))
        self.follow_up.show()

    # ---- prescriptions (written and printed by the prescription screens) ----

    def current_prescription(self) -> PrescriptionView | None:
        """The highlighted prescription; None (and a word why) when this visit has none."""
        found = self.prescriptions_model.row(self.prescriptions.currentIndex().row())
        if found is None and self.visit is not None:
            self.ctx.notify("No prescription has been written in this visit yet.")
        return found

    def new_prescription(self) -> None:
        if self.visit is None:
            return
        if not self.new_rx_button.isEnabled():
            self.ctx.notify(f"Only {self.visit.doctor_name} writes prescriptions in this visit.")
            return
        dlg = PrescriptionDialog(self.ctx, self.visit, self)
        dlg.submitted.connect(lambda _view: self.reload_prescriptions())
        dlg.finished.connect(lambda _r: self.window().activateWindow())
        self.prescription_dialog = dlg
        dlg.open()

    def reload_prescriptions(self) -> None:
        if self.visit is None:
            return
        self.ctx.tasks.submit(
            self.ctx.session.prescriptions.for_visit,
            self.ctx.actor,
            self.visit.id,
            on_result=self._show_prescriptions,
            on_error=lambda e: self.show_message(describe(e)),
            owner=self,
        )

    def cancel_prescription(self) -> None:
        """A cancelled prescription is refused at the pharmacy, with the reason given here."""
        prescription = self.current_prescription()
        if prescription is None:
            return
        prescriptions, actor = self.ctx.session.prescriptions, self.ctx.actor

        def cancelled(view: PrescriptionView) -> None:
            self.ctx.notify(f"Prescription {view.reference_grouped} is cancelled.")
            self.reload_prescriptions()

        ask_reason(
            self.ctx,
            self,
            "Cancel prescription",
            f"Why is prescription {prescription.reference_grouped} cancelled?",
            "Cancel prescription",
            lambda reason: partial(prescriptions.cancel, actor, prescription.id, reason),
            cancelled,
            hint="The pharmacy will refuse it and show this reason.",
        )

    def print_prescription(self) -> None:
        prescription = self.current_prescription()
        if prescription is None:
            return
        print_prescription(self.ctx, self, prescription.id)

    def save_pdf(self) -> None:
        prescription = self.current_prescription()
        if prescription is None:
            return
        save_prescription_pdf(self.ctx, self, prescription.id)

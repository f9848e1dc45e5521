"""The schedule screen (admins): services, doctors, a doctor's weekly hours, days off, and the
clinic's booking rules and cancellation policy.

What is edited in place (the selected doctor's hours, the booking rules, the policy) is saved
together by one Save, in one unit of work; moving to another doctor with unsaved hours asks
first. What is added (a service, a doctor, a holiday, leave, an absence) is added at once from
its own dialog. A change that hits booked appointments flags them; the screen says how many,
and reception finds them under "Needs attention" at the front desk.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.money import money_text, parse_amount
from clinicdesk.permissions import Role
from clinicdesk.scheduling.policy import CancellationPolicy, RefundRule
from clinicdesk.services.schedule_setup import DoctorInfo, ScheduleChanges, ServiceInfo
from clinicdesk.text import plural
from ui.admin.hours_editor import HoursEditor
from ui.admin.schedule_dialogs import (
    AbsenceDialog,
    AddServiceDialog,
    DoctorProfileDialog,
    HolidayDialog,
    LeaveDialog,
)
from ui.context import AppContext
from ui.errors import describe
from ui.theme import icon, set_kind
from ui.widgets.count_box import CountBox
from ui.widgets.form_dialog import FormDialog
from ui.widgets.forms import FieldForm, section
from ui.widgets.table import RowsModel, read_only_rows


class ServiceTableModel(RowsModel[ServiceInfo]):
    HEADERS = ("Service", "Duration", "Buffer", "Fee")

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def cells(self, s: ServiceInfo) -> tuple[str, ...]:
        return (
            s.name,
            f"{s.duration_minutes} min",
            f"{s.buffer_minutes} min",
            money_text(s.fee_minor, self.currency),
        )


class DoctorTableModel(RowsModel[DoctorInfo]):
    HEADERS = ("Doctor", "Specialization", "Licence", "Room", "Services")

    def __init__(self) -> None:
        super().__init__()
        self.service_names: dict[str, str] = {}

    def cells(self, d: DoctorInfo) -> tuple[str, ...]:
        names = sorted(self.service_names.get(i, "?") for i in d.service_ids)
        return (d.name, d.specialization, d.licence_number, d.room, ", ".join(names))


def affected_text(count: int) -> str:
    if count == 0:
        return "no booked appointments are affected"
    return (
        f"{plural(count, 'booked appointment')} no longer fit; they are listed "
        'under "Needs attention" at the front desk'
    )


def _table(model: RowsModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    read_only_rows(table)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


class ScheduleScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._loading = False  # values being shown from the database, not typed
        self._hours_of: str | None = None  # the doctor whose hours the editor holds
        self.unsaved: set[str] = set()  # "hours", "rules", "policy"
        self.services_model = ServiceTableModel(ctx.details.currency)
        self.doctors_model = DoctorTableModel()
        self.services_table = _table(self.services_model)
        self.doctors_table = _table(self.doctors_model)
        self.doctors_table.selectionModel().currentRowChanged.connect(self._doctor_chosen)
        self.add_service_button = QPushButton(icon("plus", "#ffffff"), "Add service…")
        set_kind(self.add_service_button, "primary")
        self.add_service_button.clicked.connect(self.add_service)
        self.make_doctor_button = QPushButton("Make doctor profile…")
        self.make_doctor_button.clicked.connect(self.make_doctor)

        self.holiday_button = QPushButton("Clinic holiday…")
        self.holiday_button.setToolTip("A day the clinic is closed")
        self.holiday_button.clicked.connect(self.add_holiday)
        self.leave_button = QPushButton("Leave…")
        self.leave_button.setToolTip("Days the selected doctor is away")
        self.leave_button.clicked.connect(self.add_leave)
        self.absence_button = QPushButton("Unavailable from now…")
        self.absence_button.setToolTip("The selected doctor is called away, from now for hours")
        set_kind(self.absence_button, "danger")
        self.absence_button.clicked.connect(self.add_absence)

        left = QVBoxLayout()  # buttons one above the other: the column is narrow at 1024 px
        left.addWidget(section("SERVICES"))
        left.addWidget(self.services_table, 1)
        for button in (self.add_service_button, self.holiday_button):
            left.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        left.addWidget(section("DOCTORS"))
        left.addWidget(self.doctors_table, 1)
        for button in (self.make_doctor_button, self.leave_button, self.absence_button):
            left.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)

        self.hours_title = section("WEEKLY HOURS")
        self.hours = HoursEditor()
        self.hours.edited.connect(lambda: self._edited("hours"))
        right = QVBoxLayout()
        right.addWidget(self.hours_title)
        right.addWidget(self.hours)
        right.addWidget(section("BOOKING RULES AND CANCELLATIONS"))
        right.addWidget(self._rules_form())
        right.addStretch(1)

        # at the top, so it stays in sight whatever the length of the doctor's week
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self.save_button = QPushButton("Save changes")
        set_kind(self.save_button, "primary")
        self.save_button.clicked.connect(lambda: self.save())
        self.discard_button = QPushButton("Discard changes")
        self.discard_button.clicked.connect(self.discard)
        bar = QHBoxLayout()
        bar.addWidget(self.message, 1)
        bar.addStretch(0)  # keeps the buttons to the right while there is no message
        bar.addWidget(self.discard_button, 0, Qt.AlignmentFlag.AlignTop)
        bar.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignTop)

        columns = QGridLayout()
        columns.setHorizontalSpacing(20)
        columns.addLayout(left, 0, 0)
        columns.addLayout(right, 0, 1)
        columns.setColumnStretch(0, 2)
        columns.setColumnStretch(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addLayout(bar)
        layout.addLayout(columns, 1)
        self._show_unsaved()
        self._doctor_changed()
        self.refresh()

    def _rules_form(self) -> FieldForm:
        """Approval and the no-show grace, then two refund rules as clinics state them (a full
        refund with enough notice, a share later; CancellationPolicy evaluates them) and the
        fee for a no-show."""
        self.rules_form = FieldForm(columns=3)
        self.needs_approval = QCheckBox("New bookings wait for an admin's approval")
        self.no_show_after = CountBox("minute", 5, 240, 15)
        self.full_refund_hours = CountBox("hour ahead", 0, 168, 24, many="hours ahead")
        self.late_refund = CountBox("%", 0, 100, 0, many="%")
        self.no_show_fee = QLineEdit()
        self.no_show_fee.setPlaceholderText("0.00")
        form = self.rules_form
        form.add("needs_approval", "Approval", self.needs_approval, 0, 0, 2)
        form.add("no_show_after", "No-show after", self.no_show_after, 0, 2)
        form.add("full_refund", "Full refund from", self.full_refund_hours, 1, 0)
        form.add("late_refund", "Later, refund", self.late_refund, 1, 1)
        form.add("no_show_fee", "No-show fee", self.no_show_fee, 1, 2)
        form.edited.connect(self._rule_edited)
        return form

    def _rule_edited(self, name: str) -> None:
        part = "rules" if name in ("needs_approval", "no_show_after") else "policy"
        self._edited(part)

    # ---- unsaved changes ----

    def _edited(self, part: str) -> None:
        if self._loading:
            return
        self.unsaved.add(part)
        self.message.hide()
        self._show_unsaved()

    def _show_unsaved(self) -> None:
        self.save_button.setEnabled(bool(self.unsaved))
        self.discard_button.setEnabled(bool(self.unsaved))

    def discard(self) -> None:
        self.unsaved.clear()
        self._show_unsaved()
        self.message.hide()
        self.rules_form.clear_errors()
        self.refresh(self._selected_id())

    # ---- loading ----

    def refresh(self, select_doctor: str | None = None) -> None:
        """Services, doctors and the clinic's rules; edits not yet saved are kept."""
        schedule, actor = self.ctx.session.schedule, self.ctx.actor

        def load():
            return (
                schedule.services(actor),
                schedule.doctors(actor),
                schedule.booking_rules(actor),
                schedule.cancellation_policy(actor),
            )

        def loaded(data) -> None:
            services, doctors, (approval, no_show), policy = data
            self._loading = True
            if "rules" not in self.unsaved:
                self.needs_approval.setChecked(approval)
                self.no_show_after.setValue(no_show)
            if "policy" not in self.unsaved:
                self._show_policy(policy)
            self._loading = False
            self.services_model.set_rows(services)
            self.doctors_model.service_names = {s.id: s.name for s in services}
            selection = self.doctors_table.selectionModel()
            selection.blockSignals(True)  # the reset is no choice of the admin's
            self.doctors_model.set_rows(doctors)
            selection.blockSignals(False)
            ids = [d.id for d in doctors]
            wanted = select_doctor or self._hours_of
            if doctors:
                self._select_quietly(ids.index(wanted) if wanted in ids else 0)
            self._doctor_changed()

        self.ctx.tasks.submit(load, on_result=loaded, on_error=self._failed, owner=self)

    def _select_quietly(self, row: int) -> None:
        """Select a doctor's row without asking about unsaved hours (the caller decides)."""
        selection = self.doctors_table.selectionModel()
        selection.blockSignals(True)
        self.doctors_table.selectRow(row)
        selection.setCurrentIndex(
            self.doctors_model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate
        )
        selection.blockSignals(False)

    def selected_doctor(self) -> DoctorInfo | None:
        return self.doctors_model.row(self.doctors_table.currentIndex().row())

    def _selected_id(self) -> str | None:
        doctor = self.selected_doctor()
        return doctor.id if doctor else None

    def _doctor_chosen(self, current: QModelIndex, previous: QModelIndex) -> None:
        """The admin picked another doctor: unsaved hours of the one before are saved,
        discarded, or kept by staying on that doctor, as the admin answers."""
        chosen = self.doctors_model.row(current.row())
        if "hours" not in self.unsaved or chosen is None or chosen.id == self._hours_of:
            self._doctor_changed()
            return
        self._select_quietly(previous.row())
        held = self.doctors_model.row(previous.row())
        answer = QMessageBox.question(
            self,
            "Unsaved hours",
            f"The weekly hours of {held.name if held else 'this doctor'} have changes that are "
            "not saved. Save them before showing another doctor?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            self.save(then=lambda: self._show_doctor(current.row()))
        elif answer == QMessageBox.StandardButton.Discard:
            self.unsaved.discard("hours")
            self._show_unsaved()
            self._show_doctor(current.row())

    def _show_doctor(self, row: int) -> None:
        self._select_quietly(row)
        self._doctor_changed()

    def _doctor_changed(self) -> None:
        doctor = self.selected_doctor()
        self.hours_title.setText(
            f"WEEKLY HOURS OF {doctor.name.upper()}" if doctor else "WEEKLY HOURS"
        )
        for widget in (self.hours, self.leave_button, self.absence_button):
            widget.setEnabled(doctor is not None)
        if doctor is not None and doctor.id == self._hours_of and "hours" in self.unsaved:
            return  # the same doctor again (after a refresh): keep what is being typed
        self._hours_of = doctor.id if doctor else None
        self.unsaved.discard("hours")
        self._show_unsaved()
        self.hours.show_error(None)
        self.hours.set_windows([], self._services_of(doctor))
        if doctor is not None:
            self.ctx.tasks.submit(
                self.ctx.session.schedule.hours,
                self.ctx.actor,
                doctor.id,
                on_result=self._hours_loaded(doctor.id),
                on_error=self._failed,
                owner=self,
            )

    def _services_of(self, doctor: DoctorInfo | None) -> list[tuple[str, str]]:
        names = self.doctors_model.service_names
        offered = doctor.service_ids if doctor else frozenset()
        return sorted(((i, names.get(i, "?")) for i in offered), key=lambda pair: pair[1])

    def _hours_loaded(self, doctor_id: str):
        def show(windows) -> None:
            current = self.selected_doctor()
            if current is not None and current.id == doctor_id and "hours" not in self.unsaved:
                self.hours.set_windows(windows, self._services_of(current))

        return show

    def _show_policy(self, policy: CancellationPolicy) -> None:
        rules = sorted(policy.rules, key=lambda r: -r.hours_before)
        full = next((r for r in rules if r.refund_percent == 100), None)
        late = next((r for r in rules if r.hours_before == 0), None)
        self.full_refund_hours.setValue(full.hours_before if full else 24)
        self.late_refund.setValue(late.refund_percent if late else 0)
        fee = policy.no_show_fee_minor
        self.no_show_fee.setText(f"{fee // 100}.{fee % 100:02d}" if fee else "")

    # ---- saving ----

    def _changes(self) -> ScheduleChanges:
        """What is unsaved, read from the widgets; ValueError or ValidationError if unreadable."""
        doctor = self.selected_doctor()
        hours = None
        if "hours" in self.unsaved and doctor is not None:
            hours = tuple(self.hours.windows())
        rules = None
        if "rules" in self.unsaved:
            rules = (self.needs_approval.isChecked(), self.no_show_after.value())
        policy = None
        if "policy" in self.unsaved:
            fee = parse_amount(self.no_show_fee.text().strip() or "0")
            if fee is None:
                raise ValidationError({"no_show_fee": "must be an amount such as 20.00"})
            full, late = self.full_refund_hours.value(), self.late_refund.value()
            refunds = [RefundRule(full, 100)] + ([RefundRule(0, late)] if full else [])
            policy = CancellationPolicy(tuple(refunds), fee)
        return ScheduleChanges(doctor.id if doctor else None, hours, rules, policy)

    def save(self, then: Callable[[], None] | None = None) -> None:
        """Everything unsaved on the screen, in one unit of work."""
        self.hours.show_error(None)
        self.rules_form.clear_errors()
        self.message.hide()
        try:
            changes = self._changes()
        except ValueError as exc:
            self.hours.show_error(str(exc))
            return
        except ValidationError as error:
            self.rules_form.show_errors(error.fields)
            return
        doctor = self.selected_doctor()
        self.save_button.setEnabled(False)

        def saved(count: int) -> None:
            self.unsaved.clear()
            self._show_unsaved()
            self._say(_saved_text(changes, doctor, count))
            if then is not None:
                then()

        def refused(error: BaseException) -> None:
            self._show_unsaved()
            if isinstance(error, ValidationError):
                hours = {k: v for k, v in error.fields.items() if k.startswith("hours")}
                if hours:
                    self.hours.show_problems(hours)
                others = {k: v for k, v in error.fields.items() if k not in hours}
                if leftover := self.rules_form.show_errors(others, focus=not hours):
                    self._say(" ".join(leftover.values()), error=True)
            else:
                self._failed(error)

        self.ctx.tasks.submit(
            self.ctx.session.schedule.save,
            self.ctx.actor,
            changes,
            on_result=saved,
            on_error=refused,
            owner=self,
        )

    # ---- messages ----

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.show()

    def _failed(self, error: BaseException) -> None:
        self._say(describe(error), error=True)

    # ---- what is added at once ----

    def _open(self, dialog: FormDialog, done: Callable[[object], None]) -> None:
        dialog.submitted.connect(done)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def add_service(self) -> None:
        def done(info: ServiceInfo) -> None:
            self._say(f"{info.name}: service added.")
            self.refresh()

        self._open(AddServiceDialog(self.ctx, self), done)

    def make_doctor(self) -> None:
        """Offers the doctor accounts that have no profile yet."""
        users, schedule, actor = self.ctx.session.users, self.ctx.session.schedule, self.ctx.actor

        def load():
            have = {d.user_id for d in schedule.doctors(actor)}
            accounts = [
                u
                for u in users.list(actor)
                if Role.DOCTOR in u.roles and u.id not in have and u.status != "removed"
            ]
            return accounts, schedule.specializations(actor), schedule.services(actor)

        self.ctx.tasks.submit(load, on_result=self._open_profile, on_error=self._failed, owner=self)

    def _open_profile(self, data) -> None:
        accounts, specializations, services = data
        if not accounts:
            self._say(
                "Every account with the doctor role already has a profile. A new doctor's "
                "profile is made with their account, under Users → Create user.",
                error=True,
            )
            return

        def done(info: DoctorInfo) -> None:
            self._say(f"{info.name}: doctor profile made. Set their weekly hours next.")
            self.refresh(info.id)

        self.profile_dialog = DoctorProfileDialog(
            self.ctx, accounts, specializations, services, self
        )
        self._open(self.profile_dialog, done)

    def add_holiday(self) -> None:
        dialog = HolidayDialog(self.ctx, self)

        def done(count: int) -> None:
            self._say(
                f"Clinic holiday on {dialog.day.value():%d/%m/%Y} added; {affected_text(count)}."
            )

        self._open(dialog, done)

    def add_leave(self) -> None:
        doctor = self.selected_doctor()
        if doctor is None:
            return
        dialog = LeaveDialog(self.ctx, doctor, self)

        def done(count: int) -> None:
            first, last = dialog.first.value(), dialog.last.value()
            self._say(
                f"Leave of {doctor.name} from {first:%d/%m/%Y} to {last:%d/%m/%Y} added; "
                f"{affected_text(count)}."
            )

        self._open(dialog, done)

    def add_absence(self) -> None:
        """From now for N hours: bookings in that time are flagged for the front desk."""
        doctor = self.selected_doctor()
        if doctor is None:
            return
        dialog = AbsenceDialog(self.ctx, doctor, self)

        def done(count: int) -> None:
            self._say(
                f"{doctor.name} is unavailable for the next "
                f"{plural(dialog.hours.value(), 'hour')}; {affected_text(count)}."
            )

        self._open(dialog, done)


def _saved_text(changes: ScheduleChanges, doctor: DoctorInfo | None, count: int) -> str:
    parts = []
    if changes.hours is not None and doctor is not None:
        parts.append(f"the hours of {doctor.name} ({affected_text(count)})")
    if changes.booking_rules is not None:
        approval, minutes = changes.booking_rules
        parts.append(
            ("new bookings wait for approval" if approval else "new bookings are confirmed")
            + f" and a patient {plural(minutes, 'minute')} late is a no-show"
        )
    if changes.policy is not None:
        rules = sorted(changes.policy.rules, key=lambda r: -r.hours_before)
        later = f", {rules[-1].refund_percent}% later" if len(rules) > 1 else ""
        fee = changes.policy.no_show_fee_minor
        parts.append(
            f"a full refund {plural(rules[0].hours_before, 'hour')} or more ahead{later}, "
            f"a no-show pays {fee // 100}.{fee % 100:02d}"
        )
    text = "; ".join(parts)
    return f"Saved: {text}." if text else "Nothing to save."

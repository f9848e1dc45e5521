"""The schedule screen (admins): services, doctors, a doctor's weekly hours and days off.

A change of hours, a holiday or leave that hits booked appointments flags them; the screen says
how many, and reception finds them under "Needs attention" at the front desk.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.money import money_text, parse_amount
from clinicdesk.permissions import Role
from clinicdesk.scheduling.policy import CancellationPolicy, RefundRule
from clinicdesk.services.schedule_setup import DoctorInfo, ServiceInfo
from ui.admin.hours_editor import HoursEditor
from ui.admin.schedule_dialogs import AddServiceDialog, DoctorProfileDialog
from ui.context import AppContext
from ui.errors import describe
from ui.theme import icon, set_kind
from ui.widgets.date_field import DateField
from ui.widgets.forms import FieldForm
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
        f"{count} booked appointment{'s' if count != 1 else ''} no longer fit; they are listed "
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


def _section(text: str) -> QLabel:
    label = QLabel(text)
    set_kind(label, "section")
    return label


class ScheduleScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.specializations: list[tuple[str, str]] = []
        self.services_model = ServiceTableModel(ctx.details.currency)
        self.doctors_model = DoctorTableModel()
        self.services_table = _table(self.services_model)
        self.doctors_table = _table(self.doctors_model)
        self.doctors_table.selectionModel().currentRowChanged.connect(self._doctor_changed)
        self.add_service_button = QPushButton(icon("plus", "#ffffff"), "Add service…")
        set_kind(self.add_service_button, "primary")
        self.add_service_button.clicked.connect(self.add_service)
        self.make_doctor_button = QPushButton("Make doctor profile…")
        self.make_doctor_button.clicked.connect(self.make_doctor)

        left = QVBoxLayout()
        left.addWidget(_section("SERVICES"))
        left.addWidget(self.services_table, 1)
        left.addWidget(self.add_service_button, 0, Qt.AlignmentFlag.AlignLeft)
        left.addWidget(_section("DOCTORS"))
        left.addWidget(self.doctors_table, 2)
        left.addWidget(self.make_doctor_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.hours_title = _section("WEEKLY HOURS")
        self.hours = HoursEditor()
        self.save_hours_button = QPushButton("Save hours")
        set_kind(self.save_hours_button, "primary")
        self.save_hours_button.clicked.connect(self.save_hours)
        hours_hint = QLabel("These are the doctor's hours now; saving replaces the whole week.")
        set_kind(hours_hint, "hint")
        hours_hint.setWordWrap(True)

        self.holiday_form = FieldForm(columns=3)
        self.holiday_day = DateField()
        self.holiday_name = QLineEdit(placeholderText="e.g. Christmas Day")
        self.holiday_button = QPushButton("Add clinic holiday")
        self.holiday_button.clicked.connect(self.add_holiday)
        self.holiday_form.add("day", "Holiday date *", self.holiday_day, 0, 0)
        self.holiday_form.add("name", "Name *", self.holiday_name, 0, 1)
        self.holiday_form.grid.addWidget(self.holiday_button, 0, 2, Qt.AlignmentFlag.AlignBottom)

        self.leave_form = FieldForm(columns=4)
        self.leave_first = DateField()
        self.leave_last = DateField()
        self.leave_reason = QLineEdit(placeholderText="e.g. Annual leave")
        self.leave_button = QPushButton("Add leave")
        self.leave_button.clicked.connect(self.add_leave)
        self.leave_form.add("first_day", "Leave from *", self.leave_first, 0, 0)
        self.leave_form.add("last_day", "to *", self.leave_last, 0, 1)
        self.leave_form.add("reason", "Reason", self.leave_reason, 0, 2)
        self.leave_form.grid.addWidget(self.leave_button, 0, 3, Qt.AlignmentFlag.AlignBottom)

        right = QVBoxLayout()
        right.addWidget(self.hours_title)
        right.addWidget(self.hours)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_hours_button)
        save_row.addWidget(hours_hint, 1)
        right.addLayout(save_row)
        right.addWidget(_section("DAYS OFF"))
        right.addWidget(self.holiday_form)
        right.addWidget(self.leave_form)
        right.addWidget(_section("EMERGENCY ABSENCE"))
        right.addWidget(self._absence_form())
        right.addWidget(_section("BOOKING RULES"))
        right.addWidget(self._rules_form())
        right.addWidget(_section("CANCELLATION POLICY"))
        right.addWidget(self._policy_form())
        right.addStretch(1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        columns = QGridLayout()
        columns.addLayout(left, 0, 0)
        # the right column is long (hours, days off, rules): it scrolls on a small screen
        right_panel = QWidget()
        right_panel.setLayout(right)
        scroller = QScrollArea()
        scroller.setWidget(right_panel)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setMinimumWidth(
            right_panel.minimumSizeHint().width() + scroller.verticalScrollBar().sizeHint().width()
        )
        scroller.setStyleSheet(
            "QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        columns.addWidget(scroller, 0, 1)
        columns.setColumnStretch(0, 3)
        columns.setColumnStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(self.message)
        layout.addLayout(columns, 1)
        self._doctor_changed()
        self.refresh()

    def _absence_form(self) -> FieldForm:
        """The selected doctor is unavailable from now for a number of hours."""
        self.absence_form = FieldForm(columns=3)
        self.absence_hours = QSpinBox()
        self.absence_hours.setRange(1, 72)
        self.absence_hours.setValue(4)
        self.absence_hours.setSuffix(" h")
        self.absence_reason = QLineEdit(placeholderText="e.g. Called to an emergency")
        self.absence_button = QPushButton("Unavailable from now")
        set_kind(self.absence_button, "danger")
        self.absence_button.clicked.connect(self.add_absence)
        self.absence_form.add("ends_at", "For *", self.absence_hours, 0, 0)
        self.absence_form.add("reason", "Reason", self.absence_reason, 0, 1)
        self.absence_form.grid.addWidget(self.absence_button, 0, 2, Qt.AlignmentFlag.AlignBottom)
        return self.absence_form

    def _rules_form(self) -> FieldForm:
        """Approval and the no-show grace; loaded with the clinic's current rules."""
        self.rules_form = FieldForm(columns=3)
        self.needs_approval = QCheckBox("New bookings wait for an admin's approval")
        self.no_show_after = QSpinBox()
        self.no_show_after.setRange(5, 240)
        self.no_show_after.setValue(15)
        self.no_show_after.setSuffix(" min")
        self.rules_button = QPushButton("Save booking rules")
        self.rules_button.clicked.connect(self.save_rules)
        self.rules_form.add("needs_approval", "Approval", self.needs_approval, 0, 0)
        self.rules_form.add("no_show_after", "No-show after", self.no_show_after, 0, 1)
        self.rules_form.grid.addWidget(self.rules_button, 0, 2, Qt.AlignmentFlag.AlignBottom)
        return self.rules_form

    def _policy_form(self) -> FieldForm:
        """Two rules, as clinics state them: a full refund with enough notice, a share later,
        and a fee for a no-show (CancellationPolicy evaluates them to an amount)."""
        self.policy_form = FieldForm(columns=4)
        self.full_refund_hours = QSpinBox()
        self.full_refund_hours.setRange(0, 168)
        self.full_refund_hours.setSuffix(" h ahead")
        self.late_refund = QSpinBox()
        self.late_refund.setRange(0, 100)
        self.late_refund.setSuffix(" %")
        self.no_show_fee = QLineEdit()
        self.no_show_fee.setPlaceholderText("0.00")
        self.policy_button = QPushButton("Save policy")
        self.policy_button.clicked.connect(self.save_policy)
        self.policy_form.add("full_refund", "Full refund from", self.full_refund_hours, 0, 0)
        self.policy_form.add("late_refund", "Later, refund", self.late_refund, 0, 1)
        self.policy_form.add("no_show_fee", "No-show fee", self.no_show_fee, 0, 2)
        self.policy_form.grid.addWidget(self.policy_button, 0, 3, Qt.AlignmentFlag.AlignBottom)
        return self.policy_form

    def _show_policy(self, policy: CancellationPolicy) -> None:
        rules = sorted(policy.rules, key=lambda r: -r.hours_before)
        full = next((r for r in rules if r.refund_percent == 100), None)
        late = next((r for r in rules if r.hours_before == 0), None)
        self.full_refund_hours.setValue(full.hours_before if full else 24)
        self.late_refund.setValue(late.refund_percent if late else 0)
        fee = policy.no_show_fee_minor
        self.no_show_fee.setText(f"{fee // 100}.{fee % 100:02d}" if fee else "")

    def save_policy(self) -> None:
        fee = parse_amount(self.no_show_fee.text().strip() or "0")
        if fee is None:
            self.policy_form.show_errors({"no_show_fee": "must be an amount such as 20.00"})
            return
        self.policy_form.clear_errors()
        hours, late = self.full_refund_hours.value(), self.late_refund.value()
        rules = [RefundRule(hours, 100)] + ([RefundRule(0, late)] if hours else [])
        policy = CancellationPolicy(tuple(rules), fee)

        def done(_none) -> None:
            self._say(
                f"Cancellation policy saved: a full refund {hours} hours or more ahead, "
                f"{late}% later; a no-show pays {self.no_show_fee.text() or '0'}."
            )

        self._days_off(
            self.policy_form, self.ctx.session.schedule.set_cancellation_policy, policy, done=done
        )

    # ---- loading ----

    def refresh(self, select_doctor: str | None = None) -> None:
        schedule, actor = self.ctx.session.schedule, self.ctx.actor

        def load():
            return (
                schedule.services(actor),
                schedule.doctors(actor),
                schedule.specializations(actor),
                schedule.booking_rules(actor),
                schedule.cancellation_policy(actor),
            )

        def loaded(data) -> None:
            services, doctors, self.specializations, (approval, no_show), policy = data
            self._show_policy(policy)
            self.needs_approval.setChecked(approval)
            self.no_show_after.setValue(no_show)
            self.services_model.set_rows(services)
            self.doctors_model.service_names = {s.id: s.name for s in services}
            self.doctors_model.set_rows(doctors)
            ids = [d.id for d in doctors]
            if doctors:
                self.doctors_table.selectRow(
                    ids.index(select_doctor) if select_doctor in ids else 0
                )
            self._doctor_changed()

        self.ctx.tasks.submit(load, on_result=loaded, on_error=self._failed, owner=self)

    def selected_doctor(self) -> DoctorInfo | None:
        return self.doctors_model.row(self.doctors_table.currentIndex().row())

    def _doctor_changed(self, *_args) -> None:
        doctor = self.selected_doctor()
        self.hours_title.setText(
            f"WEEKLY HOURS OF {doctor.name.upper()}" if doctor else "WEEKLY HOURS"
        )
        for widget in (self.hours, self.save_hours_button, self.leave_button):
            widget.setEnabled(doctor is not None)
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
            if current is not None and current.id == doctor_id:  # not a stale answer
                self.hours.set_windows(windows, self._services_of(current))

        return show

    # ---- messages ----

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.show()

    def _failed(self, error: BaseException) -> None:
        self._say(describe(error), error=True)

    # ---- services and doctors ----

    def add_service(self) -> None:
        dialog = AddServiceDialog(self.ctx, self)

        def done() -> None:
            if dialog.result_info is not None:
                self._say(f"{dialog.result_info.name}: service added.")
                self.refresh()

        dialog.accepted.connect(done)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

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
                "Every account with the doctor role already has a profile. Create the "
                "account under Users first, with the Doctor role.",
                error=True,
            )
            return
        dialog = DoctorProfileDialog(self.ctx, accounts, specializations, services, self)
        self.profile_dialog = dialog

        def done() -> None:
            info = dialog.result_info
            if info is not None:
                self._say(f"{info.name}: doctor profile made. Set their weekly hours next.")
                self.refresh(info.id)

        dialog.accepted.connect(done)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    # ---- hours and days off ----

    def save_hours(self) -> None:
        doctor = self.selected_doctor()
        if doctor is None:
            return
        self.hours.show_error(None)
        try:
            windows = self.hours.windows()
        except ValueError as exc:
            self.hours.show_error(str(exc))
            return

        def saved(count: int) -> None:
            self.save_hours_button.setEnabled(True)
            self._say(f"Hours of {doctor.name} saved; {affected_text(count)}.")

        def refused(error: BaseException) -> None:
            self.save_hours_button.setEnabled(True)
            if isinstance(error, ValidationError):
                self.hours.show_problems(error.fields)
            else:
                self._failed(error)

        self.save_hours_button.setEnabled(False)
        self.ctx.tasks.submit(
            self.ctx.session.schedule.set_hours,
            self.ctx.actor,
            doctor.id,
            windows,
            on_result=saved,
            on_error=refused,
            owner=self,
        )

    def _days_off(self, form: FieldForm, fn, *args, done) -> None:
        def refused(error: BaseException) -> None:
            if isinstance(error, ValidationError):
                leftover = form.show_errors(error.fields)
                if leftover:
                    self._say(" ".join(leftover.values()), error=True)
            else:
                self._failed(error)

        self.ctx.tasks.submit(
            fn, self.ctx.actor, *args, on_result=done, on_error=refused, owner=self
        )

    def _dates(self, form: FieldForm, fields: dict[str, DateField]) -> list[date] | None:
        problems = {
            name: f.problem() or "must be a date (dd/mm/yyyy)"
            for name, f in fields.items()
            if not f.value()
        }
        if problems:
            form.show_errors(problems)
            return None
        return [f.value() for f in fields.values()]

    def add_holiday(self) -> None:
        days = self._dates(self.holiday_form, {"day": self.holiday_day})
        if days is None:
            return
        name = self.holiday_name.text()

        def done(count: int) -> None:
            self._say(f"Clinic holiday on {days[0]:%d/%m/%Y} added; {affected_text(count)}.")
            self.holiday_day.clear()
            self.holiday_name.clear()

        self._days_off(
            self.holiday_form, self.ctx.session.schedule.add_holiday, days[0], name, done=done
        )

    def add_leave(self) -> None:
        doctor = self.selected_doctor()
        fields = {"first_day": self.leave_first, "last_day": self.leave_last}
        days = self._dates(self.leave_form, fields)
        if doctor is None or days is None:
            return

        def done(count: int) -> None:
            self._say(
                f"Leave of {doctor.name} from {days[0]:%d/%m/%Y} to {days[1]:%d/%m/%Y} added; "
                f"{affected_text(count)}."
            )
            for edit in (self.leave_first, self.leave_last, self.leave_reason):
                edit.clear()

        self._days_off(
            self.leave_form,
            self.ctx.session.schedule.add_leave,
            doctor.id,
            days[0],
            days[1],
            self.leave_reason.text(),
            done=done,
        )

    def add_absence(self) -> None:
        """From now for N hours: bookings in that time are flagged for the front desk."""
        doctor = self.selected_doctor()
        if doctor is None:
            self._say("Choose the doctor first.", error=True)
            return
        hours = self.absence_hours.value()
        starts_at = datetime.now(UTC)
        ends_at = starts_at + timedelta(hours=hours)

        def done(count: int) -> None:
            self._say(
                f"{doctor.name} is unavailable for the next {hours} hour"
                f"{'s' if hours != 1 else ''}; {affected_text(count)}."
            )
            self.absence_reason.clear()

        self._days_off(
            self.absence_form,
            self.ctx.session.schedule.add_absence,
            doctor.id,
            starts_at,
            ends_at,
            self.absence_reason.text(),
            done=done,
        )

    def save_rules(self) -> None:
        approval, minutes = self.needs_approval.isChecked(), self.no_show_after.value()

        def done(_none) -> None:
            self._say(
                ("New bookings now wait for approval" if approval else "New bookings are confirmed")
                + f"; a patient {minutes} minutes late is a no-show."
            )

        self._days_off(
            self.rules_form,
            self.ctx.session.schedule.set_booking_rules,
            approval,
            minutes,
            done=done,
        )

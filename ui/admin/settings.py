"""Clinic settings: name, address, phone, time zone, currency, idle lock."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.services.clinic import ClinicDetails
from ui.context import AppContext
from ui.errors import describe
from ui.setup_wizard import currency_combo, time_zone_combo
from ui.theme import set_kind
from ui.widgets.count_box import CountBox
from ui.widgets.forms import FieldForm


class SettingsScreen(QWidget):
    saved = Signal(object)  # ClinicDetails

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        d = ctx.details
        self.form = FieldForm(columns=2)
        self.name = QLineEdit(d.name)
        self.address = QLineEdit(d.address)
        self.phone = QLineEdit(d.phone)
        self.time_zone = time_zone_combo(d.time_zone)
        self.currency = currency_combo(d.currency)
        self.idle = CountBox("minute", 1, 240, d.idle_lock_minutes)
        self.form.add("name", "Clinic &name *", self.name, 0, 0, 2)
        self.form.add("address", "&Address", self.address, 1, 0, 2)
        self.form.add("phone", "&Phone", self.phone, 2, 0)
        self.form.add("time_zone", "&Time zone *", self.time_zone, 3, 0)
        self.form.add("currency", "&Currency *", self.currency, 3, 1)
        self.form.add(
            "idle_lock_minutes",
            "&Lock after",
            self.idle,
            4,
            0,
            hint="ClinicDesk locks itself after this long without use.",
        )
        self.save_button = QPushButton("Save settings")
        set_kind(self.save_button, "primary")
        self.save_button.clicked.connect(self.submit)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_kind(self.message, "success")
        self.message.hide()
        self.form.edited.connect(self.message.hide)  # "Settings saved." no longer describes it
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addStretch(1)

    def details(self) -> ClinicDetails:
        return ClinicDetails(
            self.name.text(),
            self.address.text(),
            self.phone.text(),
            self.time_zone.currentText(),
            self.currency.currentText(),
            self.idle.value(),
        )

    def submit(self) -> None:
        self.message.hide()
        self.form.clear_errors()
        self.save_button.setEnabled(False)
        self.ctx.tasks.submit(
            self.ctx.session.clinic.update,
            self.ctx.actor,
            self.details(),
            on_result=self._saved,
            on_error=self._failed,
            owner=self,
        )

    def _saved(self, details: ClinicDetails) -> None:
        self.save_button.setEnabled(True)
        self._say("Settings saved.", ok=True)
        self.saved.emit(details)

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(error, ValidationError) and not self.form.show_errors(error.fields):
            return
        self._say(describe(error), ok=False)

    def _say(self, text: str, ok: bool) -> None:
        self.message.setText(text)
        set_kind(self.message, "success" if ok else "banner")
        self.message.show()

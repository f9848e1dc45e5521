"""First-run set-up: the clinic, its first administrator, and the recovery key to confirm."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

from PySide6.QtCore import Qt, QTimeZone, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from clinicdesk.errors import ValidationError
from clinicdesk.permissions import Role
from clinicdesk.services.access import AdminAccount, SetupResult, create_clinic
from clinicdesk.services.clinic import COMMON_CURRENCIES, ClinicDetails, validate_details
from clinicdesk.services.users import validate_account
from ui.errors import describe
from ui.tasks import TaskRunner
from ui.theme import PRIMARY, icon, pixmap, set_kind
from ui.widgets.forms import FieldForm
from ui.widgets.secret_clipboard import copy_secret

CLINIC_PAGE, ADMIN_PAGE, RECOVERY_PAGE = range(3)


def system_time_zone() -> str:
    zone = QTimeZone.systemTimeZoneId().data().decode()
    return zone if zone in zoneinfo.available_timezones() else "UTC"


def time_zone_combo(current: str) -> QComboBox:
    """An editable combo of every IANA zone; typing any part of a name ('berl') finds it."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(sorted(zoneinfo.available_timezones()))
    combo.setMaxVisibleItems(15)
    completer = QCompleter(combo.model(), combo)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCompleter(completer)
    combo.setCurrentText(current)
    return combo


def currency_combo(current: str) -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(COMMON_CURRENCIES)
    combo.setCurrentText(current)
    return combo


def page_header(step: int, title: str, subtitle: str) -> QWidget:
    """Step, title and a sentence of explanation, in the app's own type scale."""
    header = QWidget()
    row = QHBoxLayout(header)
    row.setContentsMargins(0, 0, 0, 8)
    text = QVBoxLayout()
    text.setSpacing(4)
    for content, kind in ((f"STEP {step} OF 3", "step"), (title, "title"), (subtitle, "muted")):
        label = QLabel(content)
        label.setWordWrap(True)
        set_kind(label, kind)
        text.addWidget(label)
    row.addLayout(text, 1)
    logo = QLabel()
    logo.setPixmap(pixmap("logo", 44, PRIMARY))
    row.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
    return header


def banner() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    set_kind(label, "banner")
    label.hide()
    return label


def currency_for_locale() -> str:
    from PySide6.QtCore import QLocale

    code = QLocale.system().currencySymbol(QLocale.CurrencySymbolFormat.CurrencyIsoCode)
    return code if len(code) == 3 else "EUR"


class ClinicPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.form = FieldForm(columns=2)
        self.name = QLineEdit(placeholderText="e.g. Sunrise Family Clinic")
        self.address = QLineEdit(placeholderText="Street, town, postcode")
        self.phone = QLineEdit(placeholderText="e.g. +44 20 7946 0000")
        self.time_zone = time_zone_combo(system_time_zone())
        self.currency = currency_combo(currency_for_locale())
        self.form.add("name", "Clinic &name *", self.name, 0, 0, 2)
        self.form.add("address", "&Address", self.address, 1, 0, 2)
        self.form.add("phone", "&Phone", self.phone, 2, 0)
        self.form.add("time_zone", "&Time zone *", self.time_zone, 3, 0, hint="Type to search")
        self.form.add("currency", "&Currency *", self.currency, 3, 1, hint="ISO code, e.g. EUR")
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header(
                1,
                "Set up your clinic",
                "These details appear on the sign-in screen, letters and receipts. "
                "An administrator can change them later.",
            )
        )
        layout.addWidget(self.form)
        layout.addStretch(1)

    def details(self) -> ClinicDetails:
        return ClinicDetails(
            name=self.name.text(),
            address=self.address.text(),
            phone=self.phone.text(),
            time_zone=self.time_zone.currentText(),
            currency=self.currency.currentText(),
        )

    def validatePage(self) -> bool:
        try:
            validate_details(self.details())
        except ValidationError as exc:
            self.form.show_errors(exc.fields)
            return False
        self.form.clear_errors()
        return True


class AdminPage(QWizardPage):
    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create clinic")
        self.form = FieldForm(columns=2)
        self.username = QLineEdit(placeholderText="e.g. ada.admin")
        self.display_name = QLineEdit(placeholderText="e.g. Ada Lovelace")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.form.add("username", "&User name *", self.username, 0, 0)
        self.form.add("display_name", "&Full name *", self.display_name, 0, 1)
        self.form.add("password", "&Password *", self.password, 1, 0, hint="At least 10 characters")
        self.form.add("repeat", "&Repeat password *", self.repeat, 1, 1)
        self.message = banner()
        self.progress = QLabel("Creating the encrypted clinic database. This takes a few seconds…")
        set_kind(self.progress, "muted")
        self.progress.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header(
                2,
                "First administrator",
                "This account manages staff accounts and settings. Everyone else gets an "
                "account of their own later, from Admin.",
            )
        )
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addStretch(1)

    def account(self) -> AdminAccount:
        return AdminAccount(
            self.username.text().strip(), self.display_name.text().strip(), self.password.text()
        )

    def validatePage(self) -> bool:
        if self._wizard.result_ is not None:
            return True
        if self._wizard.creating:
            return False
        account = self.account()
        problems: dict[str, str] = {}
        try:
            validate_account(
                account.username, account.display_name, {Role.SUPER_ADMIN}, account.password
            )
        except ValidationError as exc:
            problems.update(exc.fields)
        if self.repeat.text() != self.password.text() and "password" not in problems:
            problems["repeat"] = "does not match the password"
        if problems:
            self.form.show_errors(problems)
            return False
        self.form.clear_errors()
        self._wizard.create(account)
        return False

    def set_creating(self, creating: bool) -> None:
        self.progress.setVisible(creating)
        for field in self.form.fields.values():
            field.widget.setEnabled(not creating)
        self.message.hide()

    def show_error(self, error: BaseException) -> None:
        leftover = error.fields if isinstance(error, ValidationError) else None
        if leftover is not None:
            leftover = self.form.show_errors(leftover)
        if leftover is None or leftover:
            self.message.setText(describe(error))
            self.message.show()


class RecoveryPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.key = ""
        self.key_label = QLabel(objectName="RecoveryKey")
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setWordWrap(True)
        self.key_label.setAccessibleName("Recovery key")
        self.copy = QPushButton(icon("copy"), "Copy")
        self.copy.setToolTip(
            "Copy the key to the clipboard; it is cleared from there after a minute"
        )
        self.copy.clicked.connect(self._copy)
        advice = QLabel(
            "<b>Print this page or write the key down now</b> and keep it somewhere safe, away "
            "from this computer (a locked drawer or safe). Anyone holding it can open the "
            "clinic's records."
        )
        advice.setWordWrap(True)
        self.form = FieldForm()
        self.confirm = QLineEdit(placeholderText="Type the key as shown; dashes are optional")
        self.confirm.setFont(QFont("Noto Sans Mono"))
        self.form.add("confirm", "&Type the key back to confirm you have it", self.confirm, 0)
        self.confirm.textChanged.connect(self._check)
        self.match = QLabel()
        set_kind(self.match, "hint")

        row = QHBoxLayout()
        row.addWidget(self.key_label, 1)
        row.addWidget(self.copy, 0, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header(
                3,
                "Your recovery key",
                "The only way back in if every administrator forgets their password. It is "
                "shown once, now, and never stored on this computer.",
            )
        )
        layout.addLayout(row)
        layout.addSpacing(6)
        layout.addWidget(advice)
        layout.addSpacing(12)
        layout.addWidget(self.form)
        layout.addWidget(self.match)
        layout.addStretch(1)

    def set_key(self, key: str) -> None:
        self.key = key
        self.key_label.setText(key)

    def initializePage(self) -> None:
        self.wizard().button(QWizard.WizardButton.CancelButton).hide()
        self.confirm.setFocus()

    def _copy(self) -> None:
        copy_secret(self.key)
        self.copy.setText("Copied for a minute")

    def matches(self) -> bool:
        typed = "".join(ch for ch in self.confirm.text().upper() if ch.isalnum())
        wanted = "".join(ch for ch in self.key.upper() if ch.isalnum())
        return bool(wanted) and typed == wanted

    def _check(self) -> None:
        ok = self.matches()
        typed = self.confirm.text().strip()
        self.match.setText("The key matches." if ok else ("Not the same key yet." if typed else ""))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.matches()


class SetupWizard(QWizard):
    """Creates the clinic in ``folder``; emits ``completed(username)`` once the key is confirmed."""

    completed = Signal(str, str)  # admin user name, clinic name

    def __init__(self, folder: Path, tasks: TaskRunner, kdf=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.folder = folder
        self.tasks = tasks
        self.kdf = kdf
        self.result_: SetupResult | None = None
        self.creating = False
        self.setWindowTitle("Set up ClinicDesk")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setMinimumSize(760, 600)
        self.clinic_page = ClinicPage()
        self.admin_page = AdminPage(self)
        self.recovery_page = RecoveryPage()
        self.setPage(CLINIC_PAGE, self.clinic_page)
        self.setPage(ADMIN_PAGE, self.admin_page)
        self.setPage(RECOVERY_PAGE, self.recovery_page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Finish and sign in")

    def create(self, account: AdminAccount) -> None:
        self.creating = True
        self.admin_page.set_creating(True)
        self.button(QWizard.WizardButton.CommitButton).setEnabled(False)
        self.button(QWizard.WizardButton.BackButton).setEnabled(False)
        self.tasks.submit(
            create_clinic,
            self.folder,
            self.clinic_page.details(),
            account,
            kdf=self.kdf,
            on_result=self._created,
            on_error=self._failed,
            owner=self,
        )

    def _created(self, result: SetupResult) -> None:
        self.creating = False
        self.result_ = result
        self.admin_page.set_creating(False)
        self.recovery_page.set_key(result.recovery_key)
        self.button(QWizard.WizardButton.CommitButton).setEnabled(True)
        self.next()

    def _failed(self, error: BaseException) -> None:
        self.creating = False
        self.admin_page.set_creating(False)
        self.button(QWizard.WizardButton.CommitButton).setEnabled(True)
        self.button(QWizard.WizardButton.BackButton).setEnabled(True)
        self.admin_page.show_error(error)

    def accept(self) -> None:
        if self.result_ is None or not self.recovery_page.matches():
            return
        super().accept()
        self.completed.emit(
            self.admin_page.username.text().strip(), self.clinic_page.name.text().strip()
        )

"""First-run set-up: a new clinic (its details, its first administrator, and the recovery key to
confirm), or joining a clinic that syncs, with the one-time code its administrator shows."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

from PySide6.QtCore import Qt, QTimeZone, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
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
from clinicdesk.sync.certificate import ServerCertificate, fetch_certificate, server_address
from clinicdesk.sync.join import JoinedClinic, join_clinic
from clinicdesk.sync.join_code import JoinCodeError, read_code
from clinicdesk.sync.protocol import same_fingerprint
from ui.errors import describe
from ui.tasks import TaskRunner
from ui.theme import PRIMARY, icon, pixmap, set_kind
from ui.widgets.forms import FieldForm
from ui.widgets.secret_clipboard import copy_secret

CLINIC_PAGE, ADMIN_PAGE, RECOVERY_PAGE, CHOICE_PAGE, JOIN_PAGE = range(5)


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


def page_header(step: int | str, title: str, subtitle: str) -> QWidget:
    """Step (a number of three, or words), title and a sentence of explanation, in the app's
    own type scale."""
    header = QWidget()
    row = QHBoxLayout(header)
    row.setContentsMargins(0, 0, 0, 8)
    text = QVBoxLayout()
    text.setSpacing(4)
    over = f"STEP {step} OF 3" if isinstance(step, int) else step
    for content, kind in ((over, "step"), (title, "title"), (subtitle, "muted")):
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


class ChoicePage(QWizardPage):
    """A new clinic, or a further workstation of a clinic that syncs."""

    def __init__(self) -> None:
        super().__init__()
        self.new = QRadioButton("Set up a ne&w clinic")
        self.new.setChecked(True)
        new_note = QLabel(
            "The first PC of a clinic: you give its details and its first administrator."
        )
        self.join = QRadioButton("&Join a clinic")
        join_note = QLabel(
            "Another PC of a clinic that already syncs with a server: its administrator shows "
            "a join code under Admin → Sync → Add a workstation."
        )
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header(
                "WELCOME", "Set up ClinicDesk", "Is this PC a new clinic, or one more desk of one?"
            )
        )
        for button, note in ((self.new, new_note), (self.join, join_note)):
            set_kind(note, "hint")
            note.setWordWrap(True)
            note.setContentsMargins(26, 0, 0, 10)
            layout.addWidget(button)
            layout.addWidget(note)
        layout.addStretch(1)

    def nextId(self) -> int:
        return JOIN_PAGE if self.join.isChecked() else CLINIC_PAGE


class JoinPage(QWizardPage):
    """The server's address and the code (typed, or scanned: the QR's text carries the address
    and the certificate's fingerprint as well), the certificate compared, then the join with
    its progress. Refusals are told on the page, and nothing is changed by them."""

    progressed = Signal(int, int)  # changes received, of the server's head (from the worker)

    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.server: ServerCertificate | None = None
        self.scanned_fp: str | None = None
        self._setting = False
        self.form = FieldForm(columns=1)
        self.code = QLineEdit(placeholderText="XXXX-XXXX-XXXX-XXXX-XXXX-XXXX, or scan the QR code")
        self.code.setFont(QFont("Noto Sans Mono"))
        self.address = QLineEdit(placeholderText="e.g. clinic-server:8443")
        self.form.add(
            "code",
            "Join &code *",
            self.code,
            0,
            hint="As shown on the administrator's desk; dashes and case do not matter.",
        )
        self.form.add("address", "Server &address *", self.address, 1)
        self.check_button = QPushButton("Chec&k server")
        self.check_button.setAutoDefault(False)
        self.check_button.clicked.connect(self.check)
        self.fingerprint = QLabel()
        self.fingerprint.setWordWrap(True)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_kind(self.fingerprint, "hint")
        self.same = QCheckBox("The fingerprint is the &same as on the administrator's desk")
        self.same.hide()
        self.message = banner()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)  # the line above it says how far, in words
        self.progress.hide()
        self.progress_text = QLabel()
        set_kind(self.progress_text, "muted")
        self.progress_text.hide()
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.fingerprint, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header(
                "JOIN A CLINIC",
                "Join a clinic",
                "This PC receives the clinic's records from its sync server, encrypted, and "
                "keeps its own copy. Staff then sign in here with their own passwords.",
            )
        )
        layout.addWidget(self.form)
        layout.addLayout(check_row)
        layout.addWidget(self.same)
        layout.addWidget(self.message)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        self.code.textChanged.connect(self._code_changed)
        self.address.textEdited.connect(self._forget_server)
        self.progressed.connect(self._show_progress)

    def initializePage(self) -> None:
        self.code.setFocus()

    def nextId(self) -> int:
        return -1

    def _code_changed(self, text: str) -> None:
        """A scanned code (the QR's text, typed in by the scanner) brings the server's address
        and its certificate's fingerprint: they are taken, and the field keeps the code alone.
        A code typed by hand carries no fingerprint."""
        if self._setting:
            return
        self.scanned_fp = None
        try:
            scanned = read_code(text)
        except JoinCodeError:
            return
        if scanned.server:
            self._setting = True
            self.code.setText(scanned.code)
            self._setting = False
            self.address.setText(scanned.server.removeprefix("https://"))
            self._forget_server()
            self.scanned_fp = scanned.fingerprint

    def _forget_server(self) -> None:
        self.server = None
        self.fingerprint.setText("")
        self.same.setChecked(False)
        self.same.hide()

    def scanned_fingerprint(self) -> str | None:
        return self.scanned_fp

    def _inputs(self) -> tuple[str, str] | None:
        """The code as typed and the server's https address, or None with the reasons shown."""
        problems: dict[str, str] = {}
        try:
            read_code(self.code.text())
        except JoinCodeError as error:
            problems["code"] = error.message
        try:
            url = server_address(self.address.text())
        except ValidationError as error:
            problems.update(error.fields)
            url = ""
        if problems:
            self.form.show_errors(problems)
            return None
        self.form.clear_errors()
        return self.code.text(), url

    def check(self, then_join: bool = False) -> None:
        """Fetch the server's certificate and show its fingerprint; a scanned code's own
        fingerprint is compared here, and then the join goes on at once."""
        self.message.hide()
        inputs = self._inputs()
        if inputs is None:
            return
        self.set_busy(True, "Checking the server…")

        def fetched(server: ServerCertificate) -> None:
            self.set_busy(False)
            self.server = server
            pairs = server.fingerprint.split(":")
            half = len(pairs) // 2
            lines = f"{':'.join(pairs[:half])}\n{':'.join(pairs[half:])}"
            scanned = self.scanned_fingerprint()
            if scanned is not None:
                if not same_fingerprint(scanned, server.fingerprint):
                    self.server = None
                    self.show_error(
                        "The server at this address presents a certificate other than the one "
                        "in the scanned code, so nothing was sent to it. Check the address, "
                        "or ask the server's operator."
                    )
                    return
                self.fingerprint.setText(
                    f"The server's certificate fingerprint\n{lines}\nmatches the scanned code."
                )
                if then_join:
                    self.start_join()
                return
            self.fingerprint.setText(
                f"The server's certificate fingerprint is\n{lines}\nCompare it with the one on "
                "the administrator's desk."
            )
            self.same.show()
            self.same.setFocus()

        def failed(error: BaseException) -> None:
            self.set_busy(False)
            self.show_error(describe(error))

        self._wizard.tasks.submit(
            fetch_certificate, inputs[1], on_result=fetched, on_error=failed, owner=self
        )

    def validatePage(self) -> bool:
        if self._wizard.joined is not None:
            return True
        if not self._wizard.joining:
            self.submit()
        return False

    def submit(self) -> None:
        self.message.hide()
        inputs = self._inputs()
        if inputs is None:
            return
        if self.server is None or self.server.url != inputs[1]:
            self.check(then_join=True)
            return
        if self.scanned_fingerprint() is None and not self.same.isChecked():
            self.show_error(
                "Compare the server's fingerprint with the one on the administrator's desk, and "
                "tick the box when they are the same."
            )
            self.same.setFocus()
            return
        self.start_join()

    def start_join(self) -> None:
        inputs = self._inputs()
        if inputs is None or self.server is None:
            return
        self.set_busy(True, "Joining the clinic on its server…")
        self._wizard.join(inputs[0], self.server, self.progressed.emit)

    def set_busy(self, busy: bool, text: str = "") -> None:
        self._wizard.joining = busy
        for widget in (self.code, self.address, self.check_button, self.same):
            widget.setEnabled(not busy)
        # Cancel too: with the fields disabled it would hold the focus, and Enter would press it
        # (closing the window still stops a join; the same code takes it up again)
        for button in (
            QWizard.WizardButton.FinishButton,
            QWizard.WizardButton.BackButton,
            QWizard.WizardButton.CancelButton,
        ):
            self._wizard.button(button).setEnabled(not busy)
        self.progress_text.setText(text)
        self.progress_text.setVisible(busy)
        self.progress.setRange(0, 0)  # busy until the first page of changes tells the count
        self.progress.setVisible(busy and text.startswith("Joining"))

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, total))
        self.progress_text.setText(
            f"Receiving the clinic's records: {done:,} of {total:,} changes…"
        )

    def show_error(self, text: str) -> None:
        """Told on the page; the code field takes the focus back, so Enter tries again."""
        self.message.setText(text)
        self.message.show()
        self.code.setFocus()


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

    def nextId(self) -> int:
        return -1  # the last page of a new clinic (the join's pages come after it by number)

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
        self.joined: JoinedClinic | None = None
        self.creating = False
        self.joining = False
        self.setWindowTitle("Set up ClinicDesk")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setMinimumSize(760, 600)
        self.choice_page = ChoicePage()
        self.clinic_page = ClinicPage()
        self.admin_page = AdminPage(self)
        self.recovery_page = RecoveryPage()
        self.join_page = JoinPage(self)
        self.setPage(CHOICE_PAGE, self.choice_page)
        self.setPage(CLINIC_PAGE, self.clinic_page)
        self.setPage(ADMIN_PAGE, self.admin_page)
        self.setPage(RECOVERY_PAGE, self.recovery_page)
        self.setPage(JOIN_PAGE, self.join_page)
        self.setStartId(CHOICE_PAGE)
        self.currentIdChanged.connect(self._name_finish)

    def _name_finish(self, page: int) -> None:
        joining = page == JOIN_PAGE
        self.setButtonText(
            QWizard.WizardButton.FinishButton, "Join clinic" if joining else "Finish and sign in"
        )

    def join(self, code: str, server: ServerCertificate, progress) -> None:
        self.tasks.submit(
            join_clinic,
            self.folder,
            server.url,
            code,
            server.pem,
            progress,
            on_result=self._joined,
            on_error=self._join_failed,
            owner=self,
        )

    def _joined(self, joined: JoinedClinic) -> None:
        self.joining = False
        self.joined = joined
        super().accept()
        self.completed.emit("", joined.clinic_name)

    def _join_failed(self, error: BaseException) -> None:
        self.join_page.set_busy(False)
        if isinstance(error, JoinCodeError):
            self.join_page.form.show_errors({"code": error.message})
        else:
            self.join_page.show_error(describe(error))

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
        if self.currentId() == JOIN_PAGE:
            self.join_page.validatePage()
            return
        if self.result_ is None or not self.recovery_page.matches():
            return
        super().accept()
        self.completed.emit(
            self.admin_page.username.text().strip(), self.clinic_page.name.text().strip()
        )

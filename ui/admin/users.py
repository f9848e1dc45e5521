"""The users screen: every account with its roles and status, and what an admin can do to it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.users import (
    PENDING,
    REMOVED,
    STATUS_LABELS,
    UserInfo,
    change_refusal,
    reset_refusal,
)
from ui.admin.key_change import (
    CHANGE_KEY_QUESTION,
    not_carried_text,
    run_key_change,
    show_outcome,
)
from ui.admin.user_dialogs import (
    CreateUserDialog,
    ReinstateDialog,
    ResetPasswordDialog,
    RolesDialog,
)
from ui.context import AppContext
from ui.errors import describe
from ui.theme import icon, set_kind
from ui.widgets.dates import format_moment
from ui.widgets.table import RowsModel, read_only_rows


class UserTableModel(RowsModel[UserInfo]):
    HEADERS = ("Name", "User name", "Roles", "Status", "Last sign-in")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, u: UserInfo) -> tuple[str, ...]:
        return (
            u.display_name,
            u.username,
            ", ".join(sorted(r.label for r in u.roles)),
            _status(u),
            format_moment(u.last_login_at, self.time_zone) or "never",
        )

    def extra(self, u: UserInfo, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ForegroundRole and u.status == REMOVED:
            return QColor("#8d9aa5")
        return None


def _status(u: UserInfo) -> str:
    if u.needs_new_password:
        return "Needs a new password (recovery key)"
    if u.status == PENDING and u.last_login_at is not None:  # a reset or reinstated account
        return "Must choose a new password"
    return STATUS_LABELS.get(u.status, u.status)


class UsersScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = UserTableModel(ctx.details.time_zone)
        self.table = QTableView()
        self.table.setModel(self.model)
        read_only_rows(self.table)
        self.table.verticalHeader().setDefaultSectionSize(32)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self.change_roles)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # Enter on a row opens its roles
            shortcut = QShortcut(QKeySequence(key), self.table, self.change_roles)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

        self.create_button = QPushButton(icon("plus", "#ffffff"), "Create user…")
        set_kind(self.create_button, "primary")
        self.roles_button = QPushButton("Change roles…")
        self.remove_button = QPushButton("Remove")
        set_kind(self.remove_button, "danger")
        self.remove_button.setToolTip("The account can no longer sign in or unlock.")
        self.reinstate_button = QPushButton("Reinstate…")
        self.reset_button = QPushButton("Reset password…")
        self.reset_button.setToolTip(
            "A temporary password for someone who forgot theirs; they choose a new one when "
            "they next sign in."
        )
        self.reset_button.clicked.connect(self.reset_password)
        self.key_button = QPushButton("Change the clinic's key…")
        self.key_button.setToolTip(
            "Encrypt the clinic's data with a new key; everyone keeps their password."
        )
        self.key_button.clicked.connect(self.change_key)
        self.create_button.clicked.connect(self.create_user)
        self.roles_button.clicked.connect(self.change_roles)
        self.remove_button.clicked.connect(self.remove)
        self.reinstate_button.clicked.connect(self.reinstate)
        bar = QHBoxLayout()
        for button in (
            self.create_button,
            self.roles_button,
            self.remove_button,
            self.reinstate_button,
            self.reset_button,
        ):
            bar.addWidget(button)
        bar.addStretch(1)
        below = QHBoxLayout()  # a rare action, apart from what is done to one account
        below.addStretch(1)
        below.addWidget(self.key_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_kind(self.message, "success")
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addLayout(below)
        self._update_buttons()
        self.refresh()

    def selected(self) -> UserInfo | None:
        return self.model.row(self.table.currentIndex().row())

    def _update_buttons(self, *_args) -> None:
        user = self.selected()
        # the roles dialog still opens on an account this admin may not change, to say why
        status = user.status if user is not None else None
        may_change = user is not None and change_refusal(self.ctx.actor, user) is None
        self.roles_button.setEnabled(status not in (None, REMOVED))
        self.remove_button.setEnabled(may_change and status != REMOVED)
        self.reinstate_button.setEnabled(may_change and status == REMOVED)
        may_reset = user is not None and reset_refusal(self.ctx.actor, user) is None
        self.reset_button.setEnabled(may_reset and status != REMOVED)

    def refresh(self, select_id: str | None = None) -> None:
        def loaded(rows: list[UserInfo]) -> None:
            self.model.set_rows(rows)
            ids = [u.id for u in rows]
            if rows:
                self.table.selectRow(ids.index(select_id) if select_id in ids else 0)
            self._update_buttons()

        self.ctx.tasks.submit(
            self.ctx.session.users.list,
            self.ctx.actor,
            on_result=loaded,
            on_error=self._failed,
            owner=self,
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.show()

    def _failed(self, error: BaseException) -> None:
        self._say(describe(error), error=True)

    def _after(self, dialog, verb: str) -> None:
        def done() -> None:
            info = dialog.result_info
            if info is not None:
                self._say(f"{info.display_name}: {verb}.")
                self.refresh(info.id)

        dialog.accepted.connect(done)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def create_user(self) -> None:
        """Loads what a doctor's profile is chosen from, then asks."""
        schedule, actor = self.ctx.session.schedule, self.ctx.actor

        def opened(data) -> None:
            self._after(
                CreateUserDialog(self.ctx, *data, self),
                "account created; it is pending until they sign in and choose their own password",
            )

        self.ctx.tasks.submit(
            lambda: (schedule.specializations(actor), schedule.services(actor)),
            on_result=opened,
            on_error=self._failed,
            owner=self,
        )

    def change_roles(self) -> None:
        user = self.selected()
        if user is not None and user.status != REMOVED:
            self._after(RolesDialog(self.ctx, user, self), "roles saved")

    def reinstate(self) -> None:
        user = self.selected()
        if user is not None and user.status == REMOVED:
            self._after(
                ReinstateDialog(self.ctx, user, self), "reinstated with a temporary password"
            )

    def reset_password(self) -> None:
        user = self.selected()
        if user is not None and user.status != REMOVED:
            self._after(
                ResetPasswordDialog(self.ctx, user, self),
                "password reset; give them the temporary password, they choose their own when "
                "they next sign in",
            )

    def _with_preview(self, then) -> None:
        """Ask the core which accounts a key change cannot carry over, then ``then(names)``."""
        self.ctx.tasks.submit(
            self.ctx.session.users.key_change_preview,
            self.ctx.actor,
            on_result=then,
            on_error=self._failed,
            owner=self,
        )

    def remove(self) -> None:
        user = self.selected()
        if user is None or user.status == REMOVED:
            return
        self._with_preview(lambda names: self._confirm_remove(user, names))

    def _confirm_remove(self, user: UserInfo, names: tuple[str, ...]) -> None:
        answer = QMessageBox.question(
            self,
            "Remove user",
            f"Remove {user.display_name} ({user.username})? They will no longer be able to "
            "sign in or unlock ClinicDesk. Their past work stays in the records.\n\n"
            "The clinic's key is changed too, so nothing they copied opens the clinic's data; "
            "backups made before still open with their old password." + not_carried_text(names),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(info) -> None:
            self._say(f"{info.display_name}: removed, and the clinic's key changed.")
            self.refresh(info.id)
            show_outcome(self, info.key_change)

        run_key_change(
            self,
            self.ctx,
            self.ctx.session.users.deactivate,
            self.ctx.actor,
            user.id,
            on_result=done,
            on_error=self._failed,
        )

    def change_key(self) -> None:
        self._with_preview(self._confirm_change_key)

    def _confirm_change_key(self, names: tuple[str, ...]) -> None:
        answer = QMessageBox.question(
            self,
            "Change the clinic's key",
            CHANGE_KEY_QUESTION + not_carried_text(names),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(change) -> None:
            self._say("The clinic's key was changed; everyone keeps their password.")
            self.refresh()
            show_outcome(self, change)

        run_key_change(
            self,
            self.ctx,
            self.ctx.session.users.change_clinic_key,
            self.ctx.actor,
            on_result=done,
            on_error=self._failed,
        )

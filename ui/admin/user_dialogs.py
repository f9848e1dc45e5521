"""Dialogs for managing accounts: create, change roles, reinstate."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from clinicdesk.errors import ClinicDeskError, Conflict, ValidationError
from clinicdesk.permissions import Role
from clinicdesk.services.users import UserInfo, change_refusal, grantable_roles
from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout
from ui.widgets.forms import FieldForm


def suggest_password() -> str:
    """A temporary password that is easy to read out: 3 groups of 4 letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


GREYED = "Greyed roles are granted or taken away only by a super admin."


class RoleChecks(QWidget):
    """One checkbox per role; a role the acting admin may not grant is shown greyed, so a role
    someone already holds is seen and kept."""

    def __init__(self, grantable: frozenset[Role]) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[Role, QCheckBox] = {}
        for i, role in enumerate(Role):
            box = QCheckBox(role.label)
            if role not in grantable:
                box.setEnabled(False)
                box.setToolTip("Only a super admin may grant or take away this role.")
            grid.addWidget(box, i // 2, i % 2)
            self.boxes[role] = box

    @property
    def hint(self) -> str | None:
        """Says why some boxes are greyed, when some are and others are not."""
        enabled = [box.isEnabled() for box in self.boxes.values()]
        return GREYED if any(enabled) and not all(enabled) else None

    def roles(self) -> set[Role]:
        return {role for role, box in self.boxes.items() if box.isChecked()}

    def set_roles(self, roles: frozenset[Role]) -> None:
        for role, box in self.boxes.items():
            box.setChecked(role in roles)


class _FormDialog(QDialog):
    """A form, a message line and Save/Cancel; the service call runs off the UI thread."""

    def __init__(self, ctx: AppContext, title: str, save_text: str, parent: QWidget | None):
        super().__init__(parent)
        self.ctx = ctx
        self.result_info: UserInfo | None = None
        self.setWindowTitle(title)
        self.setMinimumWidth(500)
        self.layout_, _heading = titled_layout(self, title, spacing=12)
        self.form = FieldForm(columns=2)
        self.layout_.addWidget(self.form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_kind(self.message, "banner")
        self.message.hide()
        self.layout_.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.save = buttons.addButton(save_text, QDialogButtonBox.ButtonRole.AcceptRole)
        set_kind(self.save, "primary")
        self.save.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.buttons)

    def call(self) -> Callable[[], Any]:
        """On the UI thread: read the form and return the service call to run on a worker
        (widgets are never touched off the UI thread). May raise ValidationError."""
        raise NotImplementedError

    def submit(self) -> None:
        if not self.save.isEnabled():
            return
        self.message.hide()
        self.form.clear_errors()
        try:
            work = self.call()
        except ClinicDeskError as error:
            self._failed(error)
            return
        self.save.setEnabled(False)
        self.ctx.tasks.submit(work, on_result=self._done, on_error=self._failed, owner=self)

    def _done(self, info: UserInfo) -> None:
        self.save.setEnabled(True)
        self.result_info = info
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.save.setEnabled(True)
        if isinstance(error, ValidationError):
            leftover = self.form.show_errors(error.fields)
            if not leftover:
                return
        elif isinstance(error, Conflict) and "username" in self.form.fields:
            self.form.set_error("username", error.message)
            return
        self.message.setText(describe(error))
        self.message.show()


class CreateUserDialog(_FormDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Create user", "Create user", parent)
        self.username = QLineEdit(placeholderText="e.g. maria.lopez")
        self.display_name = QLineEdit(placeholderText="e.g. Maria López")
        self.roles = RoleChecks(grantable_roles(ctx.actor))
        self.password = QLineEdit(suggest_password())
        new = QPushButton("New suggestion")
        new.setAutoDefault(False)
        new.clicked.connect(lambda: self.password.setText(suggest_password()))
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.password, 1)
        line.addWidget(new)
        self.form.add("username", "&User name *", self.username, 0, 0)
        self.form.add("display_name", "&Full name *", self.display_name, 0, 1)
        self.form.add("roles", "Roles *", self.roles, 1, 0, 2, hint=self.roles.hint)
        self.form.add(
            "password",
            "&Temporary password *",
            row,
            2,
            0,
            2,
            hint="Give it to the person; they must choose their own when they first sign in.",
        )
        self.finish_layout()

    def call(self) -> Callable[[], UserInfo]:
        return partial(
            self.ctx.session.users.create,
            self.ctx.actor,
            self.username.text(),
            self.display_name.text(),
            self.roles.roles(),
            self.password.text(),
        )


class RolesDialog(_FormDialog):
    def __init__(self, ctx: AppContext, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Roles of {user.display_name}", "Save roles", parent)
        self.user = user
        refusal = change_refusal(ctx.actor, user)
        self.roles = RoleChecks(frozenset() if refusal else grantable_roles(ctx.actor))
        self.roles.set_roles(user.roles)
        self.form.add("roles", "Roles *", self.roles, 0, 0, 2, hint=self.roles.hint)
        if refusal:
            self.message.setText(refusal)
            self.message.show()
            self.save.setEnabled(False)
        self.finish_layout()

    def call(self) -> Callable[[], UserInfo]:
        return partial(
            self.ctx.session.users.set_roles, self.ctx.actor, self.user.id, self.roles.roles()
        )


class ReinstateDialog(_FormDialog):
    def __init__(self, ctx: AppContext, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Reinstate {user.display_name}", "Reinstate", parent)
        self.user = user
        self.password = QLineEdit(suggest_password())
        self.form.add(
            "password",
            "&Temporary password *",
            self.password,
            0,
            0,
            2,
            hint="They choose their own password when they next sign in.",
        )
        self.finish_layout()

    def call(self) -> Callable[[], UserInfo]:
        return partial(
            self.ctx.session.users.reinstate, self.ctx.actor, self.user.id, self.password.text()
        )

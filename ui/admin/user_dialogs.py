"""Dialogs for managing accounts: create, change roles, reinstate."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from clinicdesk.permissions import Role
from clinicdesk.services.schedule_setup import ServiceInfo
from clinicdesk.services.users import (
    UserInfo,
    change_refusal,
    grantable_roles,
    reset_refusal,
)
from ui.admin.doctor_fields import DOCTOR_FIELDS, DoctorFields
from ui.context import AppContext
from ui.widgets.form_dialog import FormDialog


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


def _temporary_password() -> tuple[QLineEdit, QWidget]:
    """A suggested temporary password, with a button for another suggestion."""
    password = QLineEdit(suggest_password())
    password.setAccessibleName("Temporary password")
    new = QPushButton("New suggestion")
    new.setAutoDefault(False)
    new.clicked.connect(lambda: password.setText(suggest_password()))
    row = QWidget()
    line = QHBoxLayout(row)
    line.setContentsMargins(0, 0, 0, 0)
    line.addWidget(password, 1)
    line.addWidget(new)
    return password, row


class CreateUserDialog(FormDialog):
    """An account; ticking Doctor asks for the doctor's profile too, made with the account."""

    conflict_field = "username"

    def __init__(
        self,
        ctx: AppContext,
        specializations: list[tuple[str, str]],
        services: list[ServiceInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Create user", "Create user", parent)
        self.username = QLineEdit(placeholderText="e.g. maria.lopez")
        self.display_name = QLineEdit(placeholderText="e.g. Maria López")
        self.roles = RoleChecks(grantable_roles(ctx.actor))
        self.password, row = _temporary_password()
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
        self.doctor = DoctorFields(self.form, 3, specializations, services)
        self.roles.boxes[Role.DOCTOR].toggled.connect(self._show_doctor)
        self._show_doctor(False)
        self.finish_layout()

    def _show_doctor(self, shown: bool) -> None:
        self.form.set_shown(DOCTOR_FIELDS, shown)
        self.adjustSize()

    def call(self) -> Callable[[], UserInfo]:
        roles = self.roles.roles()
        return partial(
            self.ctx.session.users.create,
            self.ctx.actor,
            self.username.text(),
            self.display_name.text(),
            roles,
            self.password.text(),
            doctor=self.doctor.details() if Role.DOCTOR in roles else None,
        )


class RolesDialog(FormDialog):
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


class ReinstateDialog(FormDialog):
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


class ResetPasswordDialog(FormDialog):
    """A temporary password for someone who forgot theirs; they choose their own at their next
    sign-in, before they can do anything else."""

    def __init__(self, ctx: AppContext, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(
            ctx, f"Reset the password of {user.display_name}", "Reset password", parent
        )
        self.user = user
        self.password, row = _temporary_password()
        self.form.add(
            "password",
            "&Temporary password *",
            row,
            0,
            0,
            2,
            hint=(
                "Give it to them in person. Their old password stops working now, a desk where "
                "they are signed in signs out, and at their next sign-in they must choose a new "
                "password."
            ),
        )
        refusal = reset_refusal(ctx.actor, user)
        if refusal:
            self.say(refusal)
            self.save.setEnabled(False)
        self.finish_layout()

    def call(self) -> Callable[[], UserInfo]:
        return partial(
            self.ctx.session.users.reset_password,
            self.ctx.actor,
            self.user.id,
            self.password.text(),
        )

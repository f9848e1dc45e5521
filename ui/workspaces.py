"""The workspaces of the main window, in navigation order: the one place to register a new one.

A workspace appears for a user when ``allowed(actor)`` is true; its widget is built on first use
of the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from clinicdesk.permissions import Actor, P, Role
from ui.context import AppContext


@dataclass(frozen=True)
class Workspace:
    key: str
    title: str
    icon: str  # name of an SVG in resources/icons
    allowed: Callable[[Actor], bool]
    build: Callable[[AppContext], QWidget]


def _front_desk(ctx: AppContext) -> QWidget:
    from ui.frontdesk.workspace import FrontDeskWorkspace

    return FrontDeskWorkspace(ctx)


def _doctor(ctx: AppContext) -> QWidget:
    from ui.doctor.workspace import DoctorWorkspace

    return DoctorWorkspace(ctx)


def _pharmacy(ctx: AppContext) -> QWidget:
    from ui.pharmacy.workspace import PharmacyWorkspace

    return PharmacyWorkspace(ctx)


def _admin(ctx: AppContext) -> QWidget:
    from ui.admin.workspace import AdminWorkspace

    return AdminWorkspace(ctx)


WORKSPACES: tuple[Workspace, ...] = (
    Workspace("frontdesk", "Front desk", "frontdesk", lambda a: a.can(P.PATIENT_READ), _front_desk),
    Workspace("doctor", "Doctor", "doctor", lambda a: a.can(P.CLINICAL_READ), _doctor),
    Workspace(
        "pharmacy",
        "Pharmacy",
        "pharmacy",
        lambda a: a.can(P.DISPENSE) or a.can(P.INVENTORY_MANAGE),
        _pharmacy,
    ),
    Workspace(
        "admin",
        "Admin",
        "admin",
        lambda a: a.can(P.USERS_MANAGE) or a.can(P.AUDIT_READ),
        _admin,
    ),
)


def available(actor: Actor) -> list[Workspace]:
    return [w for w in WORKSPACES if w.allowed(actor)]


HOMES: tuple[tuple[Role, str], ...] = ((Role.DOCTOR, "doctor"), (Role.PHARMACIST, "pharmacy"))
"""Where a role starts after signing in; everyone else starts at the first workspace."""


def home(actor: Actor, shown: list[Workspace]) -> int:
    """The row of the workspace to open on signing in: a doctor's day, the pharmacy counter."""
    keys = [w.key for w in shown]
    for role, key in HOMES:
        if role in actor.roles and key in keys:
            return keys.index(key)
    return 0

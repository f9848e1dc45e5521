"""Roles, named permissions and the acting user every service call receives.

Permissions are checked in the services; the UI only hides what a role cannot use.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clinicdesk.errors import PermissionDenied


class Role(StrEnum):
    SUPER_ADMIN = "super-admin"
    ADMIN = "admin"
    APPOINTMENT_MANAGER = "appointment-manager"
    BILLING = "billing"
    DOCTOR = "doctor"
    RECEPTIONIST = "receptionist"
    PHARMACIST = "pharmacist"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.SUPER_ADMIN: "Super admin",
    Role.ADMIN: "Admin",
    Role.APPOINTMENT_MANAGER: "Admin: appointments",
    Role.BILLING: "Admin: billing",
    Role.DOCTOR: "Doctor",
    Role.RECEPTIONIST: "Receptionist",
    Role.PHARMACIST: "Pharmacist",
}


class P(StrEnum):
    """Permission names, ``area.action``."""

    PATIENT_READ = "patients.read"
    PATIENT_WRITE = "patients.write"
    CLINICAL_READ = "clinical.read"
    CLINICAL_WRITE = "clinical.write"
    USERS_MANAGE = "users.manage"
    CLINIC_CONFIGURE = "clinic.configure"
    AUDIT_READ = "audit.read"
    BACKUP = "data.backup"
    APPOINTMENTS_MANAGE = "appointments.manage"
    APPOINTMENTS_OVERRIDE = "appointments.override"
    SCHEDULE_CONFIGURE = "schedule.configure"
    BILLING_MANAGE = "billing.manage"
    PRESCRIBE = "prescriptions.write"
    DISPENSE = "prescriptions.dispense"
    INVENTORY_MANAGE = "inventory.manage"


PERMISSION_PHRASES = {
    P.PATIENT_READ: "look up patients",
    P.PATIENT_WRITE: "register or change patients",
    P.CLINICAL_READ: "read clinical records",
    P.CLINICAL_WRITE: "write in patients' charts and visit notes",
    P.USERS_MANAGE: "manage staff accounts",
    P.CLINIC_CONFIGURE: "change the clinic's settings",
    P.AUDIT_READ: "read the audit log",
    P.BACKUP: "back up the clinic's data",
    P.APPOINTMENTS_MANAGE: "book or change appointments",
    P.APPOINTMENTS_OVERRIDE: "double-book a patient",
    P.SCHEDULE_CONFIGURE: "set up doctors, services and hours",
    P.BILLING_MANAGE: "manage billing",
    P.PRESCRIBE: "write prescriptions",
    P.DISPENSE: "dispense prescriptions",
    P.INVENTORY_MANAGE: "receive or adjust the pharmacy's stock",
}

_FRONT_DESK = {P.PATIENT_READ, P.PATIENT_WRITE}
ROLE_PERMISSIONS: dict[Role, frozenset[P]] = {
    Role.SUPER_ADMIN: frozenset(P),
    Role.ADMIN: frozenset(
        {
            P.USERS_MANAGE,
            P.CLINIC_CONFIGURE,
            P.SCHEDULE_CONFIGURE,
            P.AUDIT_READ,
            P.BACKUP,
            P.APPOINTMENTS_MANAGE,
            P.APPOINTMENTS_OVERRIDE,
            P.INVENTORY_MANAGE,
            *_FRONT_DESK,
        }
    ),
    Role.APPOINTMENT_MANAGER: frozenset(
        {P.APPOINTMENTS_MANAGE, P.APPOINTMENTS_OVERRIDE, P.SCHEDULE_CONFIGURE, *_FRONT_DESK}
    ),
    Role.BILLING: frozenset({P.BILLING_MANAGE, P.PATIENT_READ}),
    # doctors call their next patient and book follow-ups themselves
    Role.DOCTOR: frozenset(
        {P.CLINICAL_READ, P.CLINICAL_WRITE, P.PRESCRIBE, P.APPOINTMENTS_MANAGE, *_FRONT_DESK}
    ),
    Role.RECEPTIONIST: frozenset({P.APPOINTMENTS_MANAGE, *_FRONT_DESK}),
    Role.PHARMACIST: frozenset({P.DISPENSE, P.INVENTORY_MANAGE, P.PATIENT_READ}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system (scheduled jobs)."""

    user_id: str | None
    username: str
    display_name: str
    roles: frozenset[Role]

    @property
    def permissions(self) -> frozenset[P]:
        return frozenset().union(*(ROLE_PERMISSIONS[r] for r in self.roles))

    def can(self, permission: P) -> bool:
        return permission in self.permissions

    def require(self, permission: P) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                self.display_name, permission.value, PERMISSION_PHRASES[permission]
            )

    def require_any(self, *permissions: P) -> None:
        """At least one of ``permissions``; the refusal names the first."""
        if not any(self.can(p) for p in permissions):
            self.require(permissions[0])

    @property
    def is_system(self) -> bool:
        return self.user_id is None


SYSTEM = Actor(
    user_id=None, username="system", display_name="ClinicDesk", roles=frozenset({Role.SUPER_ADMIN})
)

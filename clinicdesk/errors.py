"""Typed errors that the UI shows to staff as plain sentences.

Every error carries ``message``: a complete sentence that says what is wrong and, where it helps,
what to do. Nothing was changed when one of these is raised from a service call.
"""

from __future__ import annotations

from datetime import datetime


class ClinicDeskError(Exception):
    """Base of every error meant for a person to read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ClinicDeskError):
    """One or more fields are invalid; ``fields`` maps field name to the reason."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        lines = [f"{_label(name)}: {reason}" for name, reason in self.fields.items()]
        super().__init__("Please correct: " + "; ".join(lines) + ".")


class PermissionDenied(ClinicDeskError):
    def __init__(self, who: str, permission: str, action: str) -> None:
        self.permission = permission
        super().__init__(
            f"{who} is not allowed to {action}. Ask an administrator if this is part of your work."
        )


class NotFound(ClinicDeskError):
    pass


class Conflict(ClinicDeskError):
    """The change clashes with the current state (someone else changed it, or it already exists)."""


class WrongPassword(ClinicDeskError):
    def __init__(self, attempts_left: int | None = None, paused_seconds: int = 0) -> None:
        msg = "The user name or password is not correct."
        if paused_seconds:
            msg += (
                f" After too many wrong attempts, sign-in for this name is paused for "
                f"{_duration(paused_seconds)}."
            )
        elif attempts_left is not None and attempts_left <= 2:
            msg += (
                f" {attempts_left} more wrong attempt{'s' if attempts_left != 1 else ''} "
                "and sign-in will pause for a while."
            )
        super().__init__(msg)
        self.attempts_left = attempts_left
        self.paused_seconds = paused_seconds


class AccountLocked(ClinicDeskError):
    def __init__(self, until: datetime, seconds_left: int) -> None:
        self.until = until
        self.seconds_left = seconds_left
        super().__init__(
            f"Too many wrong passwords. Sign-in for this account is paused for "
            f"{_duration(seconds_left)}."
        )


class AccountInactive(ClinicDeskError):
    pass


class StoreError(ClinicDeskError):
    """The clinic's data folder or database cannot be used as it is."""


class DatabaseMismatch(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "The database file could not be opened with this clinic's keys: it belongs to another "
            "clinic or it is damaged. It has not been changed. Restore a backup or ask your "
            "administrator."
        )


class DatabaseDamaged(StoreError):
    def __init__(self, problems: int) -> None:
        self.problems = problems
        super().__init__(
            f"The clinic's database is damaged ({problems} part{'s' if problems != 1 else ''} "
            "failed the integrity check). It has not been changed and nothing was saved. Restore "
            "the latest backup (clinicdesk restore) or ask your administrator."
        )


class StorageFull(StoreError):
    def __init__(self) -> None:
        super().__init__(
            "The disk holding the clinic's data is full, so nothing was saved. Free some space "
            "and try again."
        )


class StorageReadOnly(StoreError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"The clinic's data folder {path} cannot be written to, so nothing was saved. "
            "Check that the drive is not read-only and that you may write there."
        )


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class NotAllowed(ClinicDeskError):
    """The user holds the permission, but this change is reserved to someone else (one's own
    roles, a super admin's account)."""


class LookupsPaused(ClinicDeskError):
    """Too many reference numbers that matched nothing: look-ups by this user wait a while."""

    def __init__(self, failures: int, seconds_left: int) -> None:
        self.seconds_left = seconds_left
        super().__init__(
            f"{failures} reference numbers typed in the last 10 minutes matched no prescription, "
            f"so look-ups by reference are paused for {_duration(seconds_left)}. Scan the "
            "prescription's code if it will read."
        )

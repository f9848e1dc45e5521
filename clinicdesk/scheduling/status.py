"""An appointment's statuses, the moves between them and when each move may be made.

The values are what the database stores. Every desk, the services and the screens ask here what
an appointment may become, so a rule is written once: the services refuse a move with
``refusal``'s sentence, and the screens offer only the moves ``moves`` returns.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class AppointmentStatus(StrEnum):
    PENDING = "pending"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    IN_CONSULTATION = "in_consultation"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def next(self) -> frozenset[AppointmentStatus]:
        """Where it may go from here, on the right day (see ``refusal``)."""
        return _NEXT.get(self, frozenset())

    @property
    def movable(self) -> bool:
        """Not started yet: it may be rescheduled, and a change of hours can affect it."""
        return self in MOVABLE

    @property
    def frees_time(self) -> bool:
        """It gives its time back: the slot is free for someone else."""
        return self in FREES_TIME

    @property
    def finished(self) -> bool:
        """Over, seen or missed: a follow-up is booked from here."""
        return self in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


S = AppointmentStatus
_LABELS = {
    S.PENDING: "Awaiting approval",
    S.AWAITING_PAYMENT: "Awaiting payment",
    S.CONFIRMED: "Confirmed",
    S.CHECKED_IN: "Checked in",
    S.IN_CONSULTATION: "In consultation",
    S.COMPLETED: "Completed",
    S.CANCELLED: "Cancelled",
    S.REJECTED: "Rejected",
    S.NO_SHOW: "No-show",
}
_NEXT = {
    S.PENDING: frozenset({S.CONFIRMED, S.REJECTED, S.CANCELLED}),
    S.AWAITING_PAYMENT: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.CHECKED_IN, S.CANCELLED, S.NO_SHOW}),
    S.CHECKED_IN: frozenset({S.IN_CONSULTATION, S.CANCELLED}),
    S.IN_CONSULTATION: frozenset({S.COMPLETED}),
}
MOVABLE = frozenset({S.PENDING, S.AWAITING_PAYMENT, S.CONFIRMED})
FREES_TIME = frozenset({S.CANCELLED, S.REJECTED})
ATTENDED = frozenset({S.CHECKED_IN, S.IN_CONSULTATION, S.COMPLETED})  # the patient came


def refusal(status: str, target: str, day: date, today: date) -> str | None:
    """Why an appointment on ``day`` that is ``status`` cannot become ``target`` on ``today``;
    None when it can."""
    status, target = S(status), S(target)
    if target not in status.next:
        return (
            f"An appointment that is {status.label.lower()} cannot become {target.label.lower()}."
        )
    if target == S.CHECKED_IN and day != today:
        when = "was" if day < today else "is"
        return (
            f"This appointment {when} on {day:%A %d/%m/%Y}; a patient is checked in on the day "
            "of their appointment."
        )
    if target == S.NO_SHOW and day > today:
        return f"This appointment is on {day:%A %d/%m/%Y}; it cannot be missed before its day."
    return None


def moves(status: str, day: date, today: date) -> tuple[AppointmentStatus, ...]:
    """What an appointment on ``day`` that is ``status`` may become on ``today``, in the
    enum's order."""
    return tuple(t for t in S if refusal(status, t, day, today) is None)

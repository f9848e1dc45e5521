"""What every workspace gets: the signed-in session, the task runner and the clinic's details."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

from ui.changes import PatientChanges
from ui.frontdesk.schedule_data import local_now, zone_of
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from clinicdesk.permissions import Actor
    from clinicdesk.services.access import ClinicSession
    from clinicdesk.services.clinic import ClinicDetails


@dataclass
class AppContext:
    session: ClinicSession
    tasks: TaskRunner
    details: ClinicDetails
    notify: Callable[[str], None] = field(default=lambda _message: None)
    """Shows a short confirmation in the main window's status bar."""

    @cached_property
    def changes(self) -> PatientChanges:
        """What the clinic's data commits changed, for screens that follow a patient."""
        return PatientChanges(self.session.store.changes)

    @property
    def actor(self) -> Actor:
        return self.session.actor

    def clinic_today(self) -> date:
        """The date at the clinic, whatever zone this computer is set to."""
        return local_now(zone_of(self.details.time_zone)).date()

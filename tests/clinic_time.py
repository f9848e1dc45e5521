"""The clinic's own date for tests.

The services date everything in the clinic's time zone, so a test that takes the machine's
``date.today()`` disagrees with them for an hour or more around midnight.
"""

from __future__ import annotations

from datetime import date

from clinicdesk.ids import utcnow
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.clinic import clinic_day


def clinic_today(session: ClinicSession) -> date:
    """Today's date where the clinic is."""
    with session.store.read() as s:
        return clinic_day(s, utcnow())

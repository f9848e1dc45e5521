"""A refused call reads nothing: the permission is checked before the database is touched.

Every statement the store's engine runs during the call is recorded; a refused user's call must
run none, so it can neither learn anything (not even whether a record exists) nor leave a trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from clinicdesk.errors import PermissionDenied
from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession
from tests.clinical.clinic_setup import walk_in_consultation


@contextmanager
def statements(session: ClinicSession) -> Iterator[list[str]]:
    """The SQL the session's store runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, sql, params, context, executemany) -> None:
        seen.append(sql)

    event.listen(session.store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(session.store.engine, "before_cursor_execute", record)


CALLS: dict[str, tuple[Role, Callable[[ClinicSession, Any], object]]] = {
    "a receptionist sets a patient's lifestyle": (
        Role.RECEPTIONIST,
        lambda s, c: s.chart.set_lifestyle(s.actor, c.patient_id, {"smoking": "never"}),
    ),
    "billing books a follow-up from a visit": (
        Role.BILLING,
        lambda s, c: s.visits.book_follow_up(s.actor, c.visit.id, 7),
    ),
    "a pharmacist books a follow-up from a visit": (
        Role.PHARMACIST,
        lambda s, c: s.visits.book_follow_up(s.actor, c.visit.id, 7),
    ),
}


@pytest.mark.parametrize("what", CALLS)
def test_refusal_comes_before_any_read(admin, staff, what):
    role, call = CALLS[what]
    consultation = walk_in_consultation(admin)
    try:
        session = staff(role)
        with statements(session) as seen, pytest.raises(PermissionDenied):
            call(session, consultation)
        assert seen == [], f"read before refusing: {seen}"
    finally:
        consultation.doctor.close()

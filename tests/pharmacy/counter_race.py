"""One pharmacy counter in its own process, for tests/pharmacy/test_two_counters.py.

Started with the "spawn" method, so it shares nothing with the test but the clinic's folder:
it signs in for itself and waits on the barrier before each dispense, as two pharmacists
pressing Dispense at the same moment would.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from clinicdesk.errors import ClinicDeskError
from clinicdesk.services.access import sign_in
from clinicdesk.services.pharmacy_views import DispenseInput


@dataclass(frozen=True)
class Outcome:
    counter: str
    round: int
    step: int
    quantity: int  # units given; 0 when refused
    refusal: str  # the refusal's kind, "" when given
    message: str


@dataclass(frozen=True)
class Round:
    """Both counters press Dispense together ``steps`` times, asking for ``quantity`` of the
    prescription's first item from the batch."""

    code: str
    batch_id: str
    quantity: int
    steps: int = 1


def run_counter(folder: Path, user: str, password: str, rounds: list[Round], barrier, results):
    """Play every round; every outcome goes on the results queue."""
    session = sign_in(folder, user, password)
    try:
        for number, r in enumerate(rounds):
            for step in range(r.steps):
                barrier.wait(timeout=60)
                results.put(_dispense(session, user, number, step, r))
    finally:
        session.close()
        results.put(("qt imported", user, any(m.startswith("PySide6") for m in sys.modules)))
        results.put(("done", user))


def _dispense(session, user: str, number: int, step: int, r: Round) -> Outcome:
    try:
        session.pharmacy.dispense(session.actor, r.code, [DispenseInput(1, r.batch_id, r.quantity)])
    except ClinicDeskError as refused:
        return Outcome(user, number, step, 0, type(refused).__name__, refused.message)
    return Outcome(user, number, step, r.quantity, "", "")

"""Two counters, two processes, one prescription: never more than prescribed, never below zero.

Each counter is a separate process that signs in to the same clinic folder, as two
workstations would; a barrier makes them press Dispense at the same moment.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections import Counter as Tally
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from clinicdesk.services.inventory import BatchInput
from clinicdesk.services.pharmacy_views import DispenseInput, HistoryFilter
from clinicdesk.store.models import DispenseBalance, StockBatch
from tests.clinic_time import clinic_today
from tests.clinical.clinic_setup import three_items
from tests.pharmacy.counter_race import Outcome, Round, run_counter
from tests.pharmacy.pharmacy_setup import (
    PHARMACIST_PASSWORD,
    Counter,
    add_pharmacist,
    counter_fixture,
    drug_id,
)

CONTESTED_ROUNDS = 3
NAMES = {"pharmacist": "Priya Shah", "pharmacist2": "Tomás Reyes"}
REFUSALS = {"AlreadyDispensed", "ValidationError", "Conflict"}


counter = counter_fixture()


def write(counter: Counter, line: int, **changes) -> str:
    doctor = counter.doctor
    item = replace(three_items()[line], **changes)
    return doctor.prescriptions.write(doctor.actor, counter.consultation.visit.id, [item]).code


def race(counter: Counter, rounds: list[Round]) -> list[Outcome]:
    """Both counters play every round in their own process; their outcomes, in no order."""
    admin = counter.admin
    add_pharmacist(admin, "pharmacist2", "Tomás Reyes").close()
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    counters = [
        spawn.Process(
            target=run_counter,
            args=(admin.folder, user, PHARMACIST_PASSWORD, rounds, barrier, results),
        )
        for user in ("pharmacist", "pharmacist2")
    ]
    for p in counters:
        p.start()
    outcomes, finished = [], 0
    while finished < len(counters):
        try:
            item = results.get(timeout=120)
        except queue.Empty:
            pytest.fail("a counter stopped answering")
        if isinstance(item, Outcome):
            outcomes.append(item)
        elif item[0] == "qt imported":
            assert item[2] is False, f"{item[1]}'s process imported Qt"
        else:
            finished += 1
    for p in counters:
        p.join(timeout=60)
        assert p.exitcode == 0
    return outcomes


def given_at(outcomes: list[Outcome], step: int) -> list[int]:
    return sorted(o.quantity for o in outcomes if o.step == step)


def given_in_history(counter: Counter, code: str) -> int:
    ph = counter.pharmacist
    number = ph.pharmacy.verdict(ph.actor, code).content.reference
    return sum(r.quantity for r in ph.pharmacy.history(ph.actor, HistoryFilter(text=number)))


@pytest.mark.slow
def test_two_counters_dispensing_at_once_never_give_more_than_prescribed(counter):
    ph, inv = counter.pharmacist, counter.pharmacist.inventory
    late = counter.batches["ibuprofen_late"]
    scarce = inv.receive(
        ph.actor,
        BatchInput(
            drug_id(ph, "Ibuprofen"),
            "IBU-SCARCE",
            clinic_today(ph) + timedelta(days=200),
            5,
            6,
            12,
            "400 mg",
            "tablet",
        ),
    )
    # two one-item prescriptions, then the three-item one (its other items remain)
    contested = [write(counter, 0), write(counter, 0), counter.rx.code]
    expected = ["AlreadyDispensed", "AlreadyDispensed", "ValidationError"]
    trickle = write(counter, 1, quantity=8)  # 8 omeprazole capsules, one at a time from both
    beyond_stock = write(counter, 0, refills=1)  # 30 allowed; the batch holds only 5
    rounds = [
        *(Round(code, late.id, 15) for code in contested),
        Round(trickle, counter.batches["omeprazole"].id, 1, steps=5),
        Round(beyond_stock, scarce.id, 1, steps=4),
    ]

    outcomes = race(counter, rounds)

    by_round: dict[int, list[Outcome]] = {}
    for o in outcomes:
        by_round.setdefault(o.round, []).append(o)
    seen = Tally(o.refusal for o in outcomes if o.refusal)
    print("refusals seen:", dict(seen))
    assert set(seen) <= REFUSALS, seen
    for number in range(CONTESTED_ROUNDS):
        played = by_round[number]
        assert sorted(o.quantity for o in played) == [0, 15], played
        lost = next(o for o in played if not o.quantity)
        assert lost.refusal == expected[number]
        if lost.refusal == "AlreadyDispensed":
            winner = next(o.counter for o in played if o.quantity)
            assert "dispensed in full" in lost.message
            assert NAMES[winner] in lost.message
        else:
            assert "Ibuprofen 400 mg tablet has already been dispensed in full" in lost.message

    # one capsule each at every step: both are served while two or more remain
    trickled = by_round[CONTESTED_ROUNDS]
    assert [given_at(trickled, step) for step in range(5)] == [[1, 1]] * 4 + [[0, 0]]
    assert {o.refusal for o in trickled if o.step == 4} == {"AlreadyDispensed"}
    # the batch runs out first: only one counter gets its fifth and last unit
    starved = by_round[CONTESTED_ROUNDS + 1]
    assert [given_at(starved, step) for step in range(4)] == [[1, 1], [1, 1], [0, 1], [0, 0]]
    for o in starved:
        if o.refusal:
            assert o.refusal == "ValidationError" and "batch IBU-SCARCE holds only 0" in o.message

    for code, allowed, given in [
        *((c, 15, 15) for c in contested),
        (trickle, 8, 8),
        (beyond_stock, 30, 5),
    ]:
        item, *others = ph.pharmacy.verdict(ph.actor, code).items
        assert (item.allowed, item.dispensed) == (allowed, given)
        assert all(other.dispensed == 0 for other in others)
        assert sum(f.quantity for f in item.fills) == given
        assert given_in_history(counter, code) == given

    on_hand = {b.batch_number: b.on_hand for b in inv.batches(ph.actor, include_empty=True)}
    assert on_hand["IBU-LATE"] == 100 - 15 * CONTESTED_ROUNDS
    assert on_hand["OME-1"] == 56 - 8
    assert on_hand["IBU-SCARCE"] == 0
    for batch in (late, counter.batches["omeprazole"], scarce):
        movements = inv.movements(ph.actor, batch.id)
        assert sum(m.change for m in movements) == on_hand[batch.batch_number]


def test_the_database_itself_refuses_more_than_prescribed_and_stock_below_zero(counter):
    ph = counter.pharmacist
    batch = counter.batches["ibuprofen_late"]
    ph.pharmacy.dispense(ph.actor, counter.rx.code, [DispenseInput(1, batch.id, 5)])
    balance = update(DispenseBalance).where(DispenseBalance.prescription_id == counter.rx.id)
    on_hand = update(StockBatch).where(StockBatch.id == batch.id)
    for change in (
        balance.values(dispensed=DispenseBalance.allowed + 1),
        balance.values(dispensed=-1),
        on_hand.values(on_hand=-1),
        on_hand.values(on_hand=StockBatch.on_hand - 96),
    ):
        with pytest.raises(IntegrityError, match="CHECK constraint failed"), ph.store.write() as s:
            s.execute(change)
    verdict = ph.pharmacy.verdict(ph.actor, counter.rx.code)
    assert [i.dispensed for i in verdict.items] == [5, 0, 0]
    assert (
        next(b.on_hand for b in ph.inventory.batches(ph.actor) if b.id == batch.id)
        == batch.on_hand - 5
    )

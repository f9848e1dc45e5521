"""The demo clinic's pharmacy, reproducible from the seed: stock on the shelf and what went out.

Everything goes through the services as the demo pharmacist (``pharmacy``):
``InventoryService.receive`` for deliveries over the past weeks (several batches of the drugs the
demo prescribes most, one or two of many others, UK prices in pence per unit), reorder levels
(a few drugs at or below theirs), a stock count and some breakages through ``adjust``; a couple
of batches expire within 90 days and two were received in date and have since expired, still on
the shelf (their expiry is moved into the past in the store, as time would have: receiving an
expired batch is refused). Then ``PharmacyService.scan`` and ``dispense`` for most of the past
prescriptions, each at the time the patient came to the counter: some in full, some in part (a
second item declined, a supply owed and collected a day or two later, the first of several
repeats), some never collected. The newest, and today's, wait at the counter for a demo user.

Replaying the past at the counter: each dispense runs with the service's clock at its moment,
after every prescription of the ten days has been signed. The clock guard (prescriptions
``_check_clock``) refuses a desk clock set more than ten minutes behind the latest signing at
that desk, which is exactly what a replay is; so the replay runs as a desk of its own that never
signs (``REPLAY_DESK``). Scans, dispenses, movements and balances are then dated as they would
have been, and this computer's latest signing time stays what it was.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor
from clinicdesk.rx.errors import CodeRefused
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.clinic import clinic_zone
from clinicdesk.services.formulary import FormularyService
from clinicdesk.services.inventory import (
    BatchInput,
    BatchView,
    InventoryService,
    same_text,
)
from clinicdesk.services.pharmacy import PharmacyService
from clinicdesk.services.pharmacy_views import (
    PICTURE,
    SCANNER,
    DispenseInput,
    ItemBalance,
    Verdict,
)
from clinicdesk.services.prescription_views import CANCELLED
from clinicdesk.store.database import Store
from clinicdesk.store.models import Prescription, StockBatch

PHARMACIST = "pharmacy"
REPLAY_DESK = "demo-replay"  # the past replayed at the counter: a desk that never signs
SUPPLIERS = (
    "Alliance Healthcare",
    "AAH Pharmaceuticals",
    "Phoenix Healthcare Distribution",
    "Sigma Pharmaceuticals",
)
OPENS, CLOSES = time(8, 45), time(18, 15)  # the counter's hours, clinic time


@dataclass(frozen=True)
class Line:
    """A product the pharmacy keeps: cost and price in pence per unit dispensed."""

    drug: str
    strength: str
    form: str
    cost: int
    price: int
    batch_size: int  # units a delivery brings
    batches: int
    reorder: int  # the drug's reorder level (0: set on its other product line)


# fmt: off
SHELF = (
    # what the demo's doctors prescribe most
    Line("Naproxen", "500 mg", "tablet", 9, 19, 560, 3, 150),
    Line("Omeprazole", "20 mg", "capsule", 3, 8, 700, 3, 200),
    Line("Flucloxacillin", "500 mg", "capsule", 9, 21, 560, 3, 150),
    Line("Amlodipine", "10 mg", "tablet", 3, 7, 840, 3, 150),
    Line("Sertraline", "50 mg", "tablet", 3, 9, 180, 2, 150),
    Line("Oral rehydration salts", "1 sachet", "sachet", 18, 39, 60, 2, 40),
    Line("Nitrofurantoin", "100 mg", "capsule", 33, 64, 90, 2, 30),
    Line("Salbutamol", "100 micrograms per dose", "inhaler", 150, 365, 10, 2, 15),
    Line("Hydrocortisone cream", "1%", "cream", 125, 295, 8, 2, 5),
    Line("Beclometasone", "100 micrograms per dose", "inhaler", 742, 1150, 6, 2, 4),
    Line("Amoxicillin", "250 mg/5 ml", "oral suspension", 145, 325, 10, 2, 120),
    Line("Levothyroxine", "50 micrograms", "tablet", 4, 10, 280, 2, 100),
    Line("Levothyroxine", "25 micrograms", "tablet", 5, 12, 168, 1, 0),
    Line("Clarithromycin", "500 mg", "tablet", 11, 25, 140, 2, 28),
    Line("Metformin", "500 mg", "tablet", 3, 7, 672, 2, 224),
    Line("Paracetamol", "500 mg", "tablet", 1, 3, 1000, 2, 200),
    Line("Cefalexin", "500 mg", "capsule", 12, 27, 84, 1, 42),
    # a broad spread of the formulary
    Line("Ibuprofen", "400 mg", "tablet", 3, 8, 480, 2, 96),
    Line("Amoxicillin", "500 mg", "capsule", 5, 12, 315, 2, 0),
    Line("Atorvastatin", "20 mg", "tablet", 3, 7, 560, 2, 112),
    Line("Ramipril", "5 mg", "capsule", 3, 8, 280, 1, 56),
    Line("Bisoprolol", "2.5 mg", "tablet", 3, 8, 280, 1, 56),
    Line("Lansoprazole", "30 mg", "capsule", 4, 10, 280, 1, 56),
    Line("Cetirizine", "10 mg", "tablet", 2, 6, 300, 2, 60),
    Line("Prednisolone", "5 mg", "tablet", 4, 10, 56, 1, 112),
    Line("Citalopram", "20 mg", "tablet", 3, 8, 280, 1, 56),
    Line("Doxycycline", "100 mg", "capsule", 14, 30, 80, 1, 16),
    Line("Trimethoprim", "200 mg", "tablet", 9, 20, 84, 1, 14),
    Line("Co-codamol", "30 mg/500 mg", "tablet", 4, 10, 300, 1, 100),
    Line("Montelukast", "10 mg", "tablet", 5, 12, 168, 1, 28),
    Line("Folic acid", "5 mg", "tablet", 2, 5, 196, 1, 28),
    Line("Colecalciferol", "800 units", "capsule", 6, 14, 270, 1, 60),
    Line("Chloramphenicol eye drops", "0.5%", "eye drops", 290, 550, 3, 1, 5),
    Line("Lactulose", "3.3 g/5 ml", "oral solution", 310, 625, 6, 1, 2),
    Line("Gabapentin", "300 mg", "capsule", 4, 10, 300, 1, 100),
    Line("Apixaban", "5 mg", "tablet", 95, 130, 112, 1, 56),
    Line("Insulin glargine", "100 units/ml", "injection pen", 700, 1050, 10, 1, 5),
    Line("Fluconazole", "150 mg", "capsule", 80, 199, 12, 1, 3),
    Line("Loperamide", "2 mg", "capsule", 3, 8, 90, 1, 30),
    Line("Sumatriptan", "50 mg", "tablet", 17, 38, 42, 1, 12),
)
# fmt: on
NEAR_EXPIRY = ("Clarithromycin", "Paracetamol")  # their first batch runs out within 90 days
EXPIRED = ("Ibuprofen", "Cetirizine")  # received in date, expired since, still on the shelf
BREAKAGES = (
    ("Amoxicillin", "Bottle dropped at the counter", -1),
    ("Salbutamol", "Canister damaged in the delivery", -1),
    ("Lactulose", "Bottle cracked, leaked in the tote", -1),
)
COUNT_CORRECTIONS = (
    ("Omeprazole", "Stock count: 2 capsules short", -2),
    ("Paracetamol", "Stock count: an extra strip of 16 found", 16),
    ("Naproxen", "Stock count: one strip of 14 missing", -14),
)


def add_pharmacy(session: ClinicSession, seed: int, now: datetime | None = None) -> None:
    """Stock, reorder levels, adjustments and the dispensing history of the demo's past."""
    now = now or utcnow()
    staff = {u.username: u.actor for u in session.users.list(session.actor)}
    pharmacist = staff.get(PHARMACIST)
    if pharmacist is None:
        return
    rng = random.Random(seed * 43 + 5)
    with session.store.read() as s:
        zone = clinic_zone(s)
    today = now.astimezone(zone).date()
    shelf = _stock_shelf(session.store, pharmacist, rng, now, today)
    _dispense_past(session.store, pharmacist, rng, now)
    _stocktake(session.store, pharmacist, shelf, now)


# ---------------------------------------------------------------- the shelf


def batch_number(rng: random.Random) -> str:
    """Numbers as manufacturers print them: 'K2417B', '24B0913', 'LX7315'."""
    style = rng.randrange(3)
    if style == 0:
        return f"{rng.choice('ABCDEHKLMNPRSTW')}{rng.randint(2300, 2599)}{rng.choice('ABCDEF')}"
    if style == 1:
        return f"{rng.randint(23, 25)}{rng.choice('ABCDEFGHJK')}{rng.randint(0, 9999):04d}"
    return "".join(rng.choices(string.ascii_uppercase, k=2)) + f"{rng.randint(1000, 9999)}"


def _stock_shelf(
    store: Store, pharmacist: Actor, rng: random.Random, now: datetime, today: date
) -> dict[str, list[BatchView]]:
    """Deliveries of the past two months, the oldest batch of each product expiring first."""
    drugs = {d.name: d.id for d in FormularyService(store).all(pharmacist)}
    shelf: dict[str, list[BatchView]] = {}
    for line in SHELF:
        if line.drug not in drugs:
            continue
        days_left = sorted(rng.randint(150, 1050) for _ in range(line.batches))
        if line.drug in NEAR_EXPIRY and line.batches > 1:
            days_left[0] = rng.randint(35, 80)
        for n, days in enumerate(days_left):
            expired = line.drug in EXPIRED and n == 0
            arrived = now - timedelta(days=rng.randint(45, 70) if n == 0 else rng.randint(12, 40))
            arrived = arrived.replace(hour=8, minute=rng.randint(5, 40))
            view = InventoryService(store, clock=lambda at=arrived: at).receive(
                pharmacist,
                BatchInput(
                    drugs[line.drug],
                    batch_number(rng),
                    today + timedelta(days=30 if expired else days),
                    line.batch_size // (3 if expired else 1),
                    line.cost,
                    line.price,
                    line.strength,
                    line.form,
                    SUPPLIERS[rng.randrange(len(SUPPLIERS))],
                ),
            )
            shelf.setdefault(line.drug, []).append(view)
        if line.reorder:
            InventoryService(store).set_reorder_level(pharmacist, drugs[line.drug], line.reorder)
    with store.write(pharmacist) as s:
        for drug in EXPIRED:  # time passed: expired a few days ago, not yet taken off the shelf
            first = shelf[drug][0]
            s.get(StockBatch, first.id).expiry = today - timedelta(days=rng.randint(3, 12))
    return shelf


def _stocktake(
    store: Store, pharmacist: Actor, shelf: dict[str, list[BatchView]], now: datetime
) -> None:
    """Yesterday evening's count and the breakages of the week, each with its reason."""
    done: set[str] = set()
    changes = BREAKAGES + COUNT_CORRECTIONS
    for n, (drug, reason, change) in enumerate(changes):
        if drug not in shelf:
            continue
        batch = next(b for b in reversed(shelf[drug]) if b.id not in done)
        at = (now - timedelta(days=len(changes) - n)).replace(hour=17, minute=50)
        InventoryService(store, clock=lambda at=at: at).adjust(pharmacist, batch.id, change, reason)
        done.add(batch.id)


# ---------------------------------------------------------------- the counter's past


@dataclass(frozen=True)
class Visit:
    """A patient at the counter: ``part`` gives some now, ``rest`` what was owed."""

    at: datetime
    code: str
    kind: str  # "full", "part" or "rest"


def _dispense_past(store: Store, pharmacist: Actor, rng: random.Random, now: datetime) -> None:
    with store.read() as s:
        zone = clinic_zone(s)
        rows = s.execute(
            select(Prescription.code, Prescription.issued_at, Prescription.valid_until)
            .where(Prescription.status != CANCELLED)
            .order_by(Prescription.issued_at, Prescription.reference)
        ).all()
    today = now.astimezone(zone).date()
    visits = []
    for code, issued, valid_until in rows:
        if valid_until < today or rng.random() < 0.12:  # expired, or never collected
            continue
        at = _at_the_counter(rng, issued.astimezone(zone))
        if at > now - timedelta(minutes=30) or at.date() > valid_until:
            continue  # still waiting to be collected
        roll = rng.random()
        visits.append(Visit(at, code, "part" if roll < 0.3 else "full"))
        later = _at_the_counter(rng, at + timedelta(days=rng.randint(1, 3)))
        if roll < 0.18 and later < now - timedelta(minutes=30) and later.date() <= valid_until:
            visits.append(Visit(later, code, "rest"))
    for visit in sorted(visits, key=lambda v: v.at):
        _serve(store, pharmacist, rng, visit)


def _at_the_counter(rng: random.Random, after: datetime) -> datetime:
    """A plausible time the patient reaches the counter (clinic time), within its hours."""
    at = after + timedelta(minutes=rng.choice((10, 15, 20, 30, 45, 60, 90, 180)))
    at += timedelta(minutes=rng.randint(0, 9))
    if at.time() > CLOSES or at.weekday() == 6:
        at += timedelta(days=2 if at.weekday() == 5 else 1)
    if at.time() > CLOSES or at.time() < OPENS:
        at = at.replace(hour=9, minute=0) + timedelta(minutes=rng.randint(0, 180))
    return at


def _serve(store: Store, pharmacist: Actor, rng: random.Random, visit: Visit) -> None:
    scanned_at = visit.at.astimezone(UTC)
    counter = PharmacyService(store, clock=lambda: scanned_at, desk=REPLAY_DESK)
    method = PICTURE if rng.random() < 0.1 else SCANNER
    try:
        verdict = counter.scan(pharmacist, visit.code, method)
    except CodeRefused:
        return  # dispensed in full already; the refusal is on record like any other scan
    lines = _what_to_give(rng, verdict, visit.kind)
    if lines:
        given_at = scanned_at + timedelta(minutes=rng.randint(2, 6))
        replayed = PharmacyService(store, clock=lambda: given_at, desk=REPLAY_DESK)
        replayed.dispense(pharmacist, visit.code, lines)


def _what_to_give(rng: random.Random, verdict: Verdict, kind: str) -> list[DispenseInput]:
    """One supply of each item (repeats are collected later), less when the visit is partial."""
    items = [i for i in verdict.items if i.remaining > 0]
    skip = items[-1].line if kind == "part" and len(items) > 1 and rng.random() < 0.5 else None
    halve = items[0].line if kind == "part" and skip is None else None
    lines = []
    for item in items:
        supply = item.item.quantity
        owed = supply - item.dispensed % supply if kind == "rest" else supply
        if item.line == skip or (kind == "rest" and item.dispensed % supply == 0):
            continue
        want = min(item.remaining, max(1, owed // 2) if item.line == halve else owed)
        batch = _batch_for(item)
        if batch is not None:
            lines.append(DispenseInput(item.line, batch.id, min(want, batch.on_hand)))
    return lines


def _batch_for(item: ItemBalance) -> BatchView | None:
    """The first-expiring batch of exactly what was prescribed (no substitution in the demo)."""
    rx = item.item
    return next(
        (
            b
            for b in item.batches
            if same_text(b.strength, rx.strength) and same_text(b.form, rx.form)
        ),
        None,
    )

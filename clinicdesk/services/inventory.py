"""The pharmacy's stock: batches of formulary drugs, received, adjusted and dispensed.

A batch's quantity on hand never goes below zero (a CHECK in the database); every change is a
movement with who, when and why. Batches are offered first-expiry-first-out and an expired
batch is never offered or accepted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinicdesk.errors import NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.services import validation as check
from clinicdesk.services.clinic import clinic_day
from clinicdesk.services.tables import csv_text
from clinicdesk.services.validation import whole
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.models import Drug, StockBatch, StockMovement

NEAR_EXPIRY_DAYS = 90
RECEIVED, DISPENSED, ADJUSTED = "received", "dispensed", "adjusted"
MOVEMENT_LABELS = {RECEIVED: "Received", DISPENSED: "Dispensed", ADJUSTED: "Adjusted"}
MAX_UNITS = 1_000_000
MAX_PRICE = 100_000_000  # minor units per unit
MAX_PRINTED = 60  # characters of a batch number, strength or form (printed on labels)


@dataclass(frozen=True)
class BatchInput:
    drug_id: str
    batch_number: str
    expiry: date
    quantity: int
    unit_cost: int  # minor units per unit
    unit_price: int
    strength: str = ""
    form: str = ""
    supplier: str = ""


@dataclass(frozen=True)
class BatchView:
    id: str
    drug_id: str
    drug_name: str
    batch_number: str
    strength: str
    form: str
    expiry: date
    received: int
    on_hand: int
    unit_cost: int
    unit_price: int
    supplier: str
    expired: bool
    near_expiry: bool  # within NEAR_EXPIRY_DAYS and not yet expired

    @property
    def description(self) -> str:
        """'Amoxicillin 500 mg capsule'."""
        return " ".join(p for p in (self.drug_name, self.strength, self.form) if p)


@dataclass(frozen=True)
class ProductStock:
    """One strength and form of a drug on the shelf: units in date and units expired."""

    strength: str
    form: str
    in_date: int
    expired: int


@dataclass(frozen=True)
class StockLine:
    """One drug's stock across its batches; ``products`` splits it by strength and form, since
    500 mg capsules and a 250 mg/5 ml suspension do not add up."""

    drug_id: str
    drug_name: str
    on_hand: int  # usable: in-date batches only
    expired_units: int
    batches: int
    nearest_expiry: date | None
    value_at_cost: int  # of the in-date units
    value_at_price: int
    reorder_level: int
    products: tuple[ProductStock, ...] = ()

    @property
    def low(self) -> bool:
        return self.reorder_level > 0 and self.on_hand <= self.reorder_level


@dataclass(frozen=True)
class Alerts:
    low_stock: tuple[StockLine, ...]
    near_expiry: tuple[BatchView, ...]
    expired: tuple[BatchView, ...]  # still holding units: to be taken off the shelf

    @property
    def count(self) -> int:
        return len(self.low_stock) + len(self.near_expiry) + len(self.expired)


@dataclass(frozen=True)
class MovementView:
    at: datetime
    kind: str
    change: int
    reason: str
    by: str

    @property
    def kind_label(self) -> str:
        return MOVEMENT_LABELS[self.kind]


def csv_amount(minor: int) -> str:
    """450 -> '4.50': an amount as a spreadsheet reads it (prices are kept in minor units)."""
    return f"{minor / 100:.2f}"


def batch_view(row: StockBatch, drug_name: str, today: date) -> BatchView:
    return BatchView(
        row.id,
        row.drug_id,
        drug_name,
        row.batch_number,
        row.strength,
        row.form,
        row.expiry,
        row.received,
        row.on_hand,
        row.unit_cost,
        row.unit_price,
        row.supplier,
        row.expiry < today,
        today <= row.expiry <= today + timedelta(days=NEAR_EXPIRY_DAYS),
    )


def same_text(a: str, b: str) -> bool:
    """'500mg' is '500 mg' and '2,5 mg' is '2.5 mg': case and spacing do not count, but every
    digit and decimal point does ('2.5 mg' is not '25 mg')."""
    return _compact(a) == _compact(b)


def _compact(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().replace(",", ".").split())


def fits(batch: StockBatch | BatchView, strength: str, form: str) -> bool:
    """The batch is the prescribed strength and form.

    A different strength or form changes what one dose is ('1 tablet' of 200 mg for 400 mg), so
    it is never given in place of the prescribed one, even where substitution is allowed; nor is
    a batch whose strength or form was not recorded, where the prescription names one.
    """
    return (not strength or same_text(batch.strength, strength)) and (
        not form or same_text(batch.form, form)
    )


def batches_for(
    s: Session, drug_ids: Collection[str], strength: str, form: str, today: date
) -> list[BatchView]:
    """In-date batches of these drugs with units left, in the prescribed strength and form,
    first-expiry-first-out."""
    if not drug_ids:
        return []
    rows = s.execute(
        select(StockBatch, Drug.name)
        .join(Drug, Drug.id == StockBatch.drug_id)
        .where(
            StockBatch.drug_id.in_(drug_ids),
            StockBatch.deleted_at.is_(None),
            StockBatch.on_hand > 0,
            StockBatch.expiry >= today,
        )
        .order_by(StockBatch.expiry, StockBatch.created_at)
    ).all()
    return [batch_view(b, name, today) for b, name in rows if fits(b, strength, form)]


def record_movement(
    s: Session,
    actor: Actor,
    batch: StockBatch,
    kind: str,
    change: int,
    reason: str = "",
    dispense_id: str | None = None,
    at: datetime | None = None,
) -> None:
    batch.on_hand += change
    s.add(
        StockMovement(
            batch_id=batch.id,
            kind=kind,
            change=change,
            reason=reason,
            dispense_id=dispense_id,
            at=at or utcnow(),
            by_user_id=actor.user_id,
            by_name=actor.display_name,
        )
    )


class InventoryService:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def receive(self, actor: Actor, batch: BatchInput) -> BatchView:
        """A delivery: a new batch, or more units of a batch already on the shelf."""
        actor.require(P.INVENTORY_MANAGE)
        number = batch.batch_number.strip()
        problems = {
            "batch_number": (
                check.required(number, MAX_PRINTED)
                and f"is required (it is printed on the pack), at most {MAX_PRINTED} characters"
            ),
            "strength": check.at_most(batch.strength, MAX_PRINTED),
            "form": check.at_most(batch.form, MAX_PRINTED),
            "quantity": None
            if whole(batch.quantity, 1, MAX_UNITS)
            else f"must be a whole number of units, 1 to {MAX_UNITS:,}",
            "unit_cost": None if whole(batch.unit_cost, 0, MAX_PRICE) else "is not a valid price",
            "unit_price": None if whole(batch.unit_price, 0, MAX_PRICE) else "is not a valid price",
        }
        with self.store.write(actor) as s:
            today = clinic_day(s, self.clock())
            if batch.expiry < today:
                problems["expiry"] = "is in the past: an expired batch cannot be received"
            problems = {k: v for k, v in problems.items() if v}
            if problems:
                raise ValidationError(problems)
            drug = _drug(s, batch.drug_id)
            row = s.scalar(
                select(StockBatch).where(
                    StockBatch.drug_id == drug.id,
                    StockBatch.batch_number == number,
                    StockBatch.strength == batch.strength.strip(),
                    StockBatch.form == batch.form.strip(),
                )
            )
            if row is None:
                row = StockBatch(
                    drug_id=drug.id,
                    batch_number=number,
                    strength=batch.strength.strip(),
                    form=batch.form.strip(),
                    expiry=batch.expiry,
                    received=0,
                    on_hand=0,
                    unit_cost=batch.unit_cost,
                    unit_price=batch.unit_price,
                    supplier=batch.supplier.strip(),
                )
                s.add(row)
                s.flush()
            elif row.expiry != batch.expiry:
                raise ValidationError(
                    {
                        "expiry": f"batch {number} is on the shelf with expiry "
                        f"{row.expiry:%d %b %Y}; check the pack (the same batch has one expiry)"
                    }
                )
            elif row.on_hand + batch.quantity > MAX_UNITS:
                raise ValidationError(
                    {
                        "quantity": f"would leave batch {number} holding more than "
                        f"{MAX_UNITS:,} units (it holds {row.on_hand:,})"
                    }
                )
            else:
                row.unit_cost, row.unit_price = batch.unit_cost, batch.unit_price
            row.received += batch.quantity
            record_movement(
                s, actor, row, RECEIVED, batch.quantity, batch.supplier.strip(), at=self.clock()
            )
            audit.append(
                s, actor, "stock.receive", "stock_batches", row.id, quantity=batch.quantity
            )
            s.flush()
            return batch_view(row, drug.name, today)

    def adjust(self, actor: Actor, batch_id: str, change: int, reason: str) -> BatchView:
        """A count correction, breakage or removal, always with a reason."""
        actor.require(P.INVENTORY_MANAGE)
        problems = {}
        if not whole(change, -MAX_UNITS, MAX_UNITS) or change == 0:
            problems["change"] = "must add or remove a whole number of units, at least 1"
        if not reason.strip():
            problems["reason"] = "say why the stock changes (count, breakage, expired, returned)"
        if problems:
            raise ValidationError(problems)
        with self.store.write(actor) as s:
            row = _batch(s, batch_id)
            if row.on_hand + change < 0:
                raise ValidationError(
                    {
                        "change": f"would leave less than nothing: batch {row.batch_number} "
                        f"holds {row.on_hand}"
                    }
                )
            if row.on_hand + change > MAX_UNITS:
                raise ValidationError({"change": f"would hold more than {MAX_UNITS:,} units"})
            record_movement(s, actor, row, ADJUSTED, change, reason.strip(), at=self.clock())
            audit.append(
                s, actor, "stock.adjust", "stock_batches", row.id, change=change, reason=reason
            )
            s.flush()
            return batch_view(row, _drug(s, row.drug_id).name, clinic_day(s, self.clock()))

    def set_reorder_level(self, actor: Actor, drug_id: str, level: int) -> None:
        actor.require(P.INVENTORY_MANAGE)
        if not whole(level, 0, MAX_UNITS):
            raise ValidationError({"reorder_level": f"must be 0 to {MAX_UNITS:,} units"})
        with self.store.write(actor) as s:
            drug = _drug(s, drug_id)
            drug.reorder_level = level
            audit.append(s, actor, "stock.reorder_level", "drugs", drug.id, level=level)

    def batches(
        self, actor: Actor, drug_id: str | None = None, include_empty: bool = False
    ) -> list[BatchView]:
        """Batches by drug name then expiry."""
        actor.require_any(P.INVENTORY_MANAGE, P.DISPENSE)
        with self.store.read() as s:
            today = clinic_day(s, self.clock())
            query = (
                select(StockBatch, Drug.name)
                .join(Drug, Drug.id == StockBatch.drug_id)
                .where(StockBatch.deleted_at.is_(None))
                .order_by(Drug.name_key, StockBatch.expiry)
            )
            if drug_id is not None:
                query = query.where(StockBatch.drug_id == drug_id)
            if not include_empty:
                query = query.where(StockBatch.on_hand > 0)
            return [batch_view(b, name, today) for b, name in s.execute(query)]

    def movements(self, actor: Actor, batch_id: str) -> list[MovementView]:
        actor.require_any(P.INVENTORY_MANAGE, P.DISPENSE)
        with self.store.read() as s:
            rows = s.scalars(
                select(StockMovement)
                .where(StockMovement.batch_id == batch_id)
                .order_by(StockMovement.at.desc())
            )
            return [MovementView(m.at, m.kind, m.change, m.reason, m.by_name) for m in rows]

    def stock(self, actor: Actor) -> list[StockLine]:
        """Every active formulary drug with its stock, by name (drugs never stocked show 0)."""
        actor.require_any(P.INVENTORY_MANAGE, P.DISPENSE)
        with self.store.read() as s:
            today = clinic_day(s, self.clock())
            in_date = StockBatch.expiry >= today
            totals = {
                drug_id: rest
                for drug_id, *rest in s.execute(
                    select(
                        StockBatch.drug_id,
                        func.coalesce(func.sum(StockBatch.on_hand).filter(in_date), 0),
                        func.coalesce(func.sum(StockBatch.on_hand).filter(~in_date), 0),
                        func.count(),
                        func.min(StockBatch.expiry).filter(in_date),
                        func.sum(StockBatch.on_hand * StockBatch.unit_cost).filter(in_date),
                        func.sum(StockBatch.on_hand * StockBatch.unit_price).filter(in_date),
                    )
                    .where(StockBatch.deleted_at.is_(None), StockBatch.on_hand > 0)
                    .group_by(StockBatch.drug_id)
                )
            }
            products: dict[str, list[ProductStock]] = {}
            for drug_id, strength, form, usable, expired in s.execute(
                select(
                    StockBatch.drug_id,
                    StockBatch.strength,
                    StockBatch.form,
                    func.coalesce(func.sum(StockBatch.on_hand).filter(in_date), 0),
                    func.coalesce(func.sum(StockBatch.on_hand).filter(~in_date), 0),
                )
                .where(StockBatch.deleted_at.is_(None), StockBatch.on_hand > 0)
                .group_by(StockBatch.drug_id, StockBatch.strength, StockBatch.form)
                .order_by(StockBatch.drug_id, StockBatch.form, StockBatch.strength)
            ):
                products.setdefault(drug_id, []).append(
                    ProductStock(strength, form, usable, expired)
                )
            drugs = s.scalars(select(Drug).where(Drug.deleted_at.is_(None)).order_by(Drug.name_key))
            lines = []
            for d in drugs:
                usable, expired, count, nearest, cost, price = totals.get(
                    d.id, (0, 0, 0, None, 0, 0)
                )
                if not d.active and not count:
                    continue
                lines.append(
                    StockLine(
                        d.id,
                        d.name,
                        usable,
                        expired,
                        count,
                        nearest,
                        cost or 0,
                        price or 0,
                        d.reorder_level,
                        tuple(products.get(d.id, ())),
                    )
                )
            return lines

    def alerts(self, actor: Actor) -> Alerts:
        """Low stock (at or below the reorder level), batches near expiry, expired on the shelf."""
        lines = self.stock(actor)
        batches = self.batches(actor)
        return Alerts(
            tuple(line for line in lines if line.low),
            tuple(b for b in batches if b.near_expiry),
            tuple(b for b in batches if b.expired),
        )

    def stock_csv(self, actor: Actor) -> str:
        """Every batch on the shelf, for a spreadsheet."""
        rows = self.batches(actor)
        return csv_text(
            (
                "Drug",
                "Strength",
                "Form",
                "Batch",
                "Expiry",
                "On hand",
                "Unit cost",
                "Unit price",
                "Supplier",
                "Status",
            ),
            [
                (
                    b.drug_name,
                    b.strength,
                    b.form,
                    b.batch_number,
                    b.expiry.isoformat(),
                    b.on_hand,
                    csv_amount(b.unit_cost),
                    csv_amount(b.unit_price),
                    b.supplier,
                    "expired" if b.expired else "near expiry" if b.near_expiry else "",
                )
                for b in rows
            ],
        )


def _drug(s: Session, drug_id: str) -> Drug:
    drug = s.get(Drug, drug_id)
    if drug is None or drug.deleted_at is not None:
        raise NotFound("That drug is not in the formulary.")
    return drug


def _batch(s: Session, batch_id: str) -> StockBatch:
    row = s.get(StockBatch, batch_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That batch is not in stock.")
    return row

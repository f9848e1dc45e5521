"""The pharmacy counter: scan or type a prescription, see the verdict, dispense, never twice.

Nothing is shown before the code is verified (clinicdesk.services.prescriptions.check_code).
What remains of each item is kept in a ledger keyed by the issuer (the signing clinic, known
from the key that signed) and the prescription's id (DispenseBalance), so prescriptions from
other clinics are guarded as well as this clinic's, and never mixed with them. The
database refuses a balance beyond what was prescribed and a batch below zero, and every dispense
runs in one BEGIN IMMEDIATE transaction: two counters dispensing the same item at once are served
one after the other, and the second sees what the first gave out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.printing import pharmacy_pdf
from clinicdesk.rx import codec, reference
from clinicdesk.rx.directions import directions
from clinicdesk.rx.errors import CodeRefused
from clinicdesk.rx.payload import RxItem
from clinicdesk.services import reference_lookup
from clinicdesk.services.clinic import clinic_day, clinic_profile, clinic_zone
from clinicdesk.services.formulary import dispensed_drug, split_list
from clinicdesk.services.inventory import (
    DISPENSED as MOVED_OUT,
)
from clinicdesk.services.inventory import (
    MAX_UNITS,
    batches_for,
    csv_amount,
    fits,
    record_movement,
)
from clinicdesk.services.pharmacy_views import (
    REFUSED,
    REJECTED,
    TYPED,
    VERIFIED,
    AllergyNote,
    AlreadyDispensed,
    DispensedLine,
    DispenseInput,
    DispenseView,
    Fill,
    HistoryFilter,
    HistoryRow,
    ItemBalance,
    PharmacyEventView,
    Verdict,
    prescribed_text,
)
from clinicdesk.services.prescription_views import DISPENSED, PARTLY
from clinicdesk.services.prescriptions import (
    check_code,
    checked_reference,
    local_prescription,
    remember_content,
)
from clinicdesk.services.tables import csv_text
from clinicdesk.services.validation import whole
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.desk import this_desk
from clinicdesk.store.models import (
    Allergy,
    Dispense,
    DispenseBalance,
    DispenseLine,
    Drug,
    PharmacyEvent,
    Prescription,
    StockBatch,
)
from clinicdesk.text import fold

HISTORY_SHOWN = 50
MAX_HISTORY_ROWS = 5000


def label_directions(item: RxItem) -> str:
    """What the label and the counter say: how to take it, then the prescriber's own words
    ('Take with or after food.')."""
    return " ".join(p for p in (directions(item), item.instructions.strip()) if p)


def allowed_of(item: RxItem) -> int:
    """Each fill is the prescribed quantity; refills add as many fills."""
    return item.quantity * (item.refills + 1)


class PharmacyService:
    def __init__(
        self, store: Store, clock: Callable[[], datetime] = utcnow, desk: str | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self._desk = desk

    @property
    def desk(self) -> str:
        """This computer, whose clock the clock guard checks (clinicdesk.store.desk)."""
        return self._desk or this_desk()

    # ---- scanning ----

    def scan(self, actor: Actor, text: str, method: str) -> Verdict:
        """Verify a scanned or pictured code; every scan is recorded, refused ones with why."""
        actor.require(P.DISPENSE)
        try:
            with self.store.write(actor) as s:
                now = self.clock()
                verified, _row = check_code(s, text, now, self.desk, record=True)
                remember_content(s, verified)
                verdict = _verdict(s, verified, now)
                if verdict.fully_dispensed:
                    raise _already_dispensed(s, verdict)
                event = _record(s, actor, verified, VERIFIED, method, now)
                audit.append(
                    s,
                    actor,
                    "prescription.scan",
                    "prescriptions",
                    verdict.content.prescription_id,
                    issuer=verdict.issuer,
                    kid=verdict.kid,
                    method=method,
                )
                return replace(verdict, scans=verdict.scans + 1, history=(event, *verdict.history))
        except CodeRefused as refusal:
            with self.store.write(actor) as s:
                _record(s, actor, refusal, REFUSED, method, self.clock(), refusal)
            raise

    def verdict(self, actor: Actor, code: str) -> Verdict:
        """The verdict again after a dispense, verified afresh but not counted as a scan."""
        actor.require(P.DISPENSE)
        with self.store.write(actor) as s:  # reading a prescription is audited
            now = self.clock()
            verified, _row = check_code(s, code, now, self.desk)
            verdict = _verdict(s, verified, now)
            audit.append(
                s,
                actor,
                "prescription.verdict",
                "prescriptions",
                verdict.content.prescription_id,
                issuer=verdict.issuer,
            )
            return verdict

    def look_up(self, actor: Actor, typed: str) -> Verdict:
        """The reference number typed by hand: check digits first, then the same verification
        as a scan of this clinic's stored code. A number that matches nothing is recorded, and
        many of them make look-ups wait (clinicdesk.services.reference_lookup)."""
        actor.require(P.DISPENSE)
        number = checked_reference(typed)
        with self.store.write(actor) as s:
            row = reference_lookup.find_by_reference(s, actor, number, self.clock())
            code = row.code if row is not None else None
        if code is None:
            raise NotFound(
                "No prescription of this clinic has that reference number. A prescription from "
                "another clinic must be scanned."
            )
        return self.scan(actor, code, TYPED)

    def reject(self, actor: Actor, code: str, reason: str) -> None:
        """Decline to dispense (a doubt about the patient, a dose, an interaction), with why."""
        actor.require(P.DISPENSE)
        if not reason.strip():
            raise ValidationError({"reason": "say why the prescription is not dispensed"})
        with self.store.write(actor) as s:
            verified, _row = check_code(s, code, self.clock(), self.desk)
            pid = verified.content.prescription_id
            _record(s, actor, verified, REJECTED, "", self.clock(), detail=reason.strip())
            audit.append(
                s,
                actor,
                "prescription.reject",
                "prescriptions",
                pid,
                issuer=verified.issuer,
                reason=reason.strip(),
            )

    # ---- dispensing ----

    def dispense(self, actor: Actor, code: str, lines: list[DispenseInput]) -> DispenseView:
        """Give out part or all of some items, all recorded together or nothing at all."""
        actor.require(P.DISPENSE)
        problems = _input_problems(lines)
        if problems:
            raise ValidationError(problems)
        with self.store.write(actor) as s:
            now = self.clock()
            today = clinic_day(s, now)
            verified, row = check_code(s, code, now, self.desk)
            remember_content(s, verified)
            content = verified.content
            balances = _balances(s, verified, create=True)
            if all(b.dispensed >= b.allowed for b in balances.values()):
                raise _already_dispensed(s, _verdict(s, verified, now))
            chosen: list[tuple[DispenseInput, RxItem, StockBatch, Drug, bool]] = []
            taken: dict[str, int] = defaultdict(int)  # two items may draw on one batch
            for d in lines:
                field = f"item {d.line}"
                if not 1 <= d.line <= len(content.items):
                    problems[field] = "is not on this prescription"
                    continue
                item = content.items[d.line - 1]
                problem = _quantity_problem(item, balances[d.line], d.quantity)
                batch = s.get(StockBatch, d.batch_id)
                if problem is None:
                    wanted = d.quantity + taken[d.batch_id]
                    problem, drug, substituted = _batch_problem(s, item, batch, wanted, today)
                if problem is not None:
                    problems[field] = problem
                    continue
                taken[d.batch_id] += d.quantity
                chosen.append((d, item, batch, drug, substituted))
            if problems:
                raise ValidationError(problems)
            patient_id = row.patient_id if row is not None else None
            dispense = Dispense(
                issuer=verified.issuer,
                prescription_id=content.prescription_id,
                reference=content.reference,
                patient_id=patient_id,
                patient_name=content.patient_name,
                patient_born=content.patient_born,
                issuing_clinic=verified.key.clinic_name,
                doctor_name=content.doctor_name,
                at=now,
                by_user_id=actor.user_id,
                by_name=actor.display_name,
                total=sum(batch.unit_price * d.quantity for d, _, batch, _, _ in chosen),
                currency=clinic_profile(s).currency,
            )
            s.add(dispense)
            s.flush()
            for d, item, batch, drug, substituted in chosen:
                balances[d.line].dispensed += d.quantity
                record_movement(s, actor, batch, MOVED_OUT, -d.quantity, "", dispense.id, now)
                s.add(
                    DispenseLine(
                        dispense_id=dispense.id,
                        line=d.line,
                        prescribed=prescribed_text(item),
                        drug_id=drug.id,
                        given=" ".join(p for p in (drug.name, batch.strength, batch.form) if p),
                        substituted=substituted,
                        batch_id=batch.id,
                        batch_number=batch.batch_number,
                        expiry=batch.expiry,
                        quantity=d.quantity,
                        unit=item.unit,
                        unit_price=batch.unit_price,
                        price=batch.unit_price * d.quantity,
                        directions=label_directions(item),
                    )
                )
            try:
                s.flush()
            except IntegrityError:  # the database's own guard: never beyond the prescription
                raise Conflict(
                    "Another counter has just dispensed from this prescription or batch; nothing "
                    "was recorded here. Scan the prescription again to see what remains."
                ) from None
            if row is not None:
                done = all(b.dispensed >= b.allowed for b in balances.values())
                row.status = DISPENSED if done else PARTLY
            audit.append(
                s,
                actor,
                "prescription.dispense",
                "prescriptions",
                content.prescription_id,
                issuer=verified.issuer,
                dispense=dispense.id,
                lines=len(chosen),
            )
            return _dispense_view(s, dispense)

    def get_dispense(self, actor: Actor, dispense_id: str) -> DispenseView:
        actor.require(P.DISPENSE)
        with self.store.write(actor) as s:  # reading what a patient was given is audited
            view = _dispense_view(s, _dispense(s, dispense_id))
            audit.append(s, actor, "dispense.read", "dispenses", dispense_id)
            return view

    def labels_pdf(self, actor: Actor, dispense_id: str) -> bytes:
        """One label per item given: patient, drug, directions, batch and expiry."""
        return pharmacy_pdf.labels(self._printed(actor, dispense_id, "labels"))

    def receipt_pdf(self, actor: Actor, dispense_id: str) -> bytes:
        return pharmacy_pdf.receipt(self._printed(actor, dispense_id, "receipt"))

    def print_warnings(self, actor: Actor, dispense_id: str) -> list[str]:
        """What will print transliterated on the labels and receipt, for the print dialog;
        not audited, as the printing it comes with is."""
        actor.require(P.DISPENSE)
        with self.store.read() as s:
            return pharmacy_pdf.print_warnings(_dispense_view(s, _dispense(s, dispense_id)))

    def _printed(self, actor: Actor, dispense_id: str, what: str) -> DispenseView:
        actor.require(P.DISPENSE)
        with self.store.write(actor) as s:
            view = _dispense_view(s, _dispense(s, dispense_id))
            audit.append(s, actor, "dispense.print", "dispenses", dispense_id, what=what)
            return view

    # ---- history ----

    def history(
        self, actor: Actor, where: HistoryFilter | None = None, limit: int = MAX_HISTORY_ROWS
    ) -> list[HistoryRow]:
        """Dispensed lines, newest first, filtered by date, text and pharmacist. Every
        patient's medicines: the dispensing permission, not the stock one, and audited."""
        rows = self._history(actor, where, limit)
        with self.store.write(actor) as s:
            audit.append(s, actor, "dispense.history", "dispenses", None, rows=len(rows))
        return rows

    def _history(
        self, actor: Actor, where: HistoryFilter | None, limit: int = MAX_HISTORY_ROWS
    ) -> list[HistoryRow]:
        actor.require(P.DISPENSE)
        where = where or HistoryFilter()
        with self.store.read() as s:
            zone = clinic_zone(s)
            query = (
                select(Dispense, DispenseLine)
                .join(DispenseLine, DispenseLine.dispense_id == Dispense.id)
                .order_by(Dispense.at.desc(), DispenseLine.line)
            )
            if where.since is not None:
                query = query.where(Dispense.at >= datetime.combine(where.since, time(), zone))
            if where.until is not None:
                end = datetime.combine(where.until + timedelta(days=1), time(), zone)
                query = query.where(Dispense.at < end)
            rows = s.execute(query).all()
        text, pharmacist = fold(where.text.strip()), fold(where.pharmacist.strip())
        result = []
        for d, line in rows:
            haystack = fold(
                " ".join(
                    (d.patient_name, d.reference, line.prescribed, line.given, line.batch_number)
                )
            )
            if text and text.replace(" ", "") not in haystack.replace(" ", ""):
                continue
            if pharmacist and pharmacist not in fold(d.by_name):
                continue
            result.append(
                HistoryRow(
                    d.id,
                    d.at,
                    d.reference,
                    d.patient_name,
                    line.prescribed,
                    line.given,
                    line.substituted,
                    line.batch_number,
                    line.expiry,
                    line.quantity,
                    line.unit,
                    line.price,
                    d.currency,
                    d.by_name,
                )
            )
            if len(result) >= limit:
                break
        return result

    def history_csv(self, actor: Actor, where: HistoryFilter | None = None) -> str:
        rows = self._history(actor, where)
        with self.store.write(actor) as s:
            zone = clinic_zone(s)
            audit.append(s, actor, "dispense.export", "dispenses", None, rows=len(rows))
        return csv_text(
            (
                "Dispensed at",
                "Reference",
                "Patient",
                "Prescribed",
                "Given",
                "Substituted",
                "Batch",
                "Expiry",
                "Quantity",
                "Unit",
                "Price",
                "Currency",
                "Pharmacist",
            ),
            [
                (
                    r.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    reference.grouped(r.reference),
                    r.patient_name,
                    r.prescribed,
                    r.given,
                    "yes" if r.substituted else "no",
                    r.batch_number,
                    r.expiry.isoformat(),
                    r.quantity,
                    r.unit,
                    csv_amount(r.price),
                    r.currency,
                    r.by,
                )
                for r in rows
            ],
        )


# ---- checks ----


def _input_problems(lines: list[DispenseInput]) -> dict[str, str]:
    if not lines:
        return {"items": "choose at least one item and how much of it to give"}
    problems: dict[str, str] = {}
    seen: set[int] = set()
    for d in lines:
        field = f"item {d.line}"
        if type(d.line) is not int or not isinstance(d.batch_id, str):
            problems["items"] = "name each item by its number on the prescription and a batch"
        elif d.line in seen:
            problems[field] = "is listed twice; give one quantity per item"
        elif not whole(d.quantity, 1, MAX_UNITS):
            problems[field] = "the quantity must be a whole number, at least 1"
        seen.add(d.line)
    return problems


def _quantity_problem(item: RxItem, balance: DispenseBalance, quantity: int) -> str | None:
    remaining = balance.allowed - balance.dispensed
    if remaining <= 0:
        return f"{prescribed_text(item)} has already been dispensed in full"
    if quantity > remaining:
        given = f" ({balance.dispensed} already dispensed)" if balance.dispensed else ""
        return (
            f"only {remaining} {item.unit} of {prescribed_text(item)} remain to dispense{given}; "
            f"{quantity} is more than that"
        )
    return None


def _batch_problem(
    s: Session, item: RxItem, batch: StockBatch | None, quantity: int, today
) -> tuple[str | None, Drug | None, bool]:
    """(problem, the drug given, whether it is a substitution)."""
    if batch is None or batch.deleted_at is not None:
        return "choose a batch from stock", None, False
    drug = s.get(Drug, batch.drug_id)
    if batch.expiry < today:
        return (
            f"batch {batch.batch_number} expired on {batch.expiry:%d %b %Y} and must not be "
            "dispensed; choose another batch",
            drug,
            False,
        )
    if batch.on_hand < quantity:
        return (
            f"batch {batch.batch_number} holds only {batch.on_hand}; choose another batch or "
            "give less",
            drug,
            False,
        )
    prescribed = dispensed_drug(s, item.drug)
    if prescribed is not None:
        substituted = prescribed.id != drug.id
        equivalent = not substituted or _ingredients(prescribed) == _ingredients(drug)
    else:  # free text the formulary does not know: any product given is a substitution
        substituted = True
        named = _ingredients_named(s, item.drug)
        equivalent = bool(named) and named == _ingredients(drug)
    if not equivalent:
        return (
            f"{drug.name} is not {item.drug}: choose a batch of the prescribed drug or of one "
            "with the same active ingredients",
            drug,
            True,
        )
    if not fits(batch, item.strength, item.form):
        given = " ".join(p for p in (batch.strength, batch.form) if p)
        return (
            f"batch {batch.batch_number} is {given}, not the prescribed "
            f"{' '.join(p for p in (item.strength, item.form) if p)}: one dose would not be what "
            "the prescriber wrote; give the prescribed strength and form",
            drug,
            False,
        )
    if substituted and not item.substitution:
        return (
            f"the prescriber did not allow substitution: give {prescribed_text(item)} exactly",
            drug,
            True,
        )
    return None, drug, substituted


def _ingredients(drug: Drug) -> frozenset[str]:
    return frozenset(fold(i) for i in split_list(drug.ingredients))


def _ingredients_named(s: Session, text: str) -> frozenset[str]:
    """The formulary's active ingredients a free-text drug name names, every one of them
    ('Zapain codeine and paracetamol': codeine and paracetamol)."""
    words = set(fold(text).split())
    known = {
        fold(i)
        for (ingredients,) in s.execute(select(Drug.ingredients))
        for i in split_list(ingredients)
    }
    return frozenset(i for i in known if set(i.split()) <= words)


def _equivalents(s: Session, drug: Drug) -> list[str]:
    """Other drugs on the shelf with exactly the same active ingredients (brands, generics)."""
    wanted = _ingredients(drug)
    stocked = s.execute(
        select(Drug.id, Drug.ingredients)
        .join(StockBatch, StockBatch.drug_id == Drug.id)
        .where(Drug.id != drug.id, Drug.deleted_at.is_(None), StockBatch.on_hand > 0)
        .distinct()
    )
    return [
        drug_id
        for drug_id, ingredients in stocked
        if frozenset(fold(i) for i in split_list(ingredients)) == wanted
    ]


# ---- reading ----


def _balances(
    s: Session, verified: codec.Verified, create: bool = False
) -> dict[int, DispenseBalance]:
    content = verified.content
    rows = {
        b.line: b
        for b in s.scalars(
            select(DispenseBalance).where(
                DispenseBalance.issuer == verified.issuer,
                DispenseBalance.prescription_id == content.prescription_id,
            )
        )
    }
    for line, item in enumerate(content.items, start=1):
        if line not in rows:
            rows[line] = DispenseBalance(
                issuer=verified.issuer,
                prescription_id=content.prescription_id,
                line=line,
                allowed=allowed_of(item),
                dispensed=0,
            )
            if create:
                s.add(rows[line])
    return rows


def _verdict(s: Session, verified: codec.Verified, now: datetime) -> Verdict:
    content = verified.content
    pid, issuer = content.prescription_id, verified.issuer
    today = clinic_day(s, now)
    balances = _balances(s, verified)
    fills: dict[int, list[Fill]] = defaultdict(list)
    for d, line in s.execute(
        select(Dispense, DispenseLine)
        .join(DispenseLine, DispenseLine.dispense_id == Dispense.id)
        .where(Dispense.issuer == issuer, Dispense.prescription_id == pid)
        .order_by(Dispense.at)
    ):
        fills[line.line].append(
            Fill(d.at, d.by_name, line.quantity, line.given, line.batch_number, line.substituted)
        )
    items = []
    for line, item in enumerate(content.items, start=1):
        drug = dispensed_drug(s, item.drug)
        same = [drug.id] if drug else []
        others = _equivalents(s, drug) if drug and item.substitution else []
        items.append(
            ItemBalance(
                line,
                item,
                label_directions(item),
                balances[line].allowed,
                balances[line].dispensed,
                tuple(fills[line]),
                tuple(batches_for(s, same, item.strength, item.form, today)),
                tuple(batches_for(s, others, item.strength, item.form, today)),
            )
        )
    this_prescription = (PharmacyEvent.issuer == issuer, PharmacyEvent.prescription_id == pid)
    scans = s.scalar(
        select(func.count())
        .select_from(PharmacyEvent)
        .where(*this_prescription, PharmacyEvent.kind == VERIFIED)
    )
    events = s.scalars(
        select(PharmacyEvent)
        .where(*this_prescription)
        .order_by(PharmacyEvent.at.desc())
        .limit(HISTORY_SHOWN)
    )
    return Verdict(
        verified.code,
        content,
        verified.key.clinic_name,
        verified.key.own,
        verified.key.kid_hex,
        tuple(items),
        scans or 0,
        tuple(_event_view(e) for e in events),
        issuer,
        verified.key.fingerprint,
        _allergies(s, local_prescription(s, verified)),
    )


def _allergies(s: Session, row: Prescription | None) -> tuple[AllergyNote, ...] | None:
    """The patient's allergies as the chart has them at this moment (serious ones first), for
    this clinic's own prescriptions; None for another clinic's."""
    if row is None:
        return None
    notes = [
        AllergyNote(a.substance, a.reaction, a.severity)
        for a in s.scalars(
            select(Allergy)
            .where(Allergy.patient_id == row.patient_id, Allergy.deleted_at.is_(None))
            .order_by(Allergy.created_at)
        )
    ]
    return tuple(sorted(notes, key=lambda a: not a.serious))


def _already_dispensed(s: Session, verdict: Verdict) -> AlreadyDispensed:
    last = max((f for i in verdict.items for f in i.fills), key=lambda f: f.at, default=None)
    if last is None:  # dispensed in full elsewhere, known through sync
        when, by = "an earlier date", "another pharmacy"
    else:
        when = f"{last.at.astimezone(clinic_zone(s)):%d %b %Y at %H:%M}"
        by = last.by
    refusal = AlreadyDispensed(when, by, verdict)
    refusal.prescription_id, refusal.issuer = verdict.content.prescription_id, verdict.issuer
    return refusal


def _record(
    s: Session,
    actor: Actor,
    about: codec.Verified | CodeRefused,
    kind: str,
    method: str,
    now: datetime,
    refusal: CodeRefused | None = None,
    detail: str = "",
) -> PharmacyEventView:
    """Keep a scan or a refusal with the prescription it was about (issuer and id), if the
    signature checked out far enough to know them."""
    if isinstance(about, codec.Verified):
        issuer, pid = about.issuer, about.content.prescription_id
    else:
        issuer, pid = about.issuer, about.prescription_id
    row = PharmacyEvent(
        issuer=issuer,
        prescription_id=pid,
        kind=kind,
        method=method,
        detail=refusal.message if refusal is not None else detail,
        at=now,
        by_user_id=actor.user_id,
        by_name=actor.display_name,
    )
    s.add(row)
    return _event_view(row)


def _event_view(e: PharmacyEvent) -> PharmacyEventView:
    return PharmacyEventView(e.at, e.kind, e.method, e.detail, e.by_name)


def _dispense_view(s: Session, row: Dispense) -> DispenseView:
    clinic = clinic_profile(s)
    lines = s.scalars(
        select(DispenseLine).where(DispenseLine.dispense_id == row.id).order_by(DispenseLine.line)
    )
    return DispenseView(
        row.id,
        row.at.astimezone(clinic_zone(s)),
        row.by_name,
        row.reference,
        row.patient_name,
        row.patient_born,
        row.issuing_clinic,
        row.doctor_name,
        tuple(
            DispensedLine(
                x.line,
                x.prescribed,
                x.given,
                x.substituted,
                x.batch_number,
                x.expiry,
                x.quantity,
                x.unit,
                x.unit_price,
                x.price,
                x.directions,
            )
            for x in lines
        ),
        row.total,
        row.currency,
        clinic.name,
        clinic.address,
        clinic.phone,
    )


def _dispense(s: Session, dispense_id: str) -> Dispense:
    row = s.get(Dispense, dispense_id)
    if row is None:
        raise NotFound("That dispense is not on record.")
    return row

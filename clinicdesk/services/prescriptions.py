"""Prescriptions: written by a doctor during a visit, signed into a QR code, printed, cancelled.

The code carries the whole prescription signed with the clinic's key (clinicdesk.rx), so a
pharmacy verifies it offline; the reference number is the typed fallback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P
from clinicdesk.printing.prescription_pdf import print_warnings as prescription_print_warnings
from clinicdesk.printing.prescription_pdf import render
from clinicdesk.rx import codec, keys, reference
from clinicdesk.rx.directions import directions, dose_times
from clinicdesk.rx.errors import (
    ClockBehind,
    CodeRefused,
    ContentDiffers,
    DateBehind,
    PrescriptionCancelled,
    PrescriptionExpired,
)
from clinicdesk.rx.payload import MAX_VALID_DAYS, Frequency, PrescriptionContent, RxItem
from clinicdesk.rx.qr import qr_version
from clinicdesk.scheduling.status import ATTENDED, AppointmentStatus
from clinicdesk.services import reference_lookup
from clinicdesk.services.booking import doctor_name
from clinicdesk.services.clinic import clinic_day, clinic_profile, clinic_zone
from clinicdesk.services.formulary import formulary_drug, split_list
from clinicdesk.services.prescription_checks import (
    DrugFacts,
    ItemInput,
    NeedsAcknowledgement,
    RxWarning,
    validate_items,
    warnings_for,
)
from clinicdesk.services.prescription_views import (
    ACTIVE,
    CANCELLED,
    DISPENSED,
    ItemView,
    PrescriptionView,
    effective_status,
)
from clinicdesk.services.queue import LEFT
from clinicdesk.services.signing import active_key, signing_kek, trusted_keys
from clinicdesk.services.visits import check_own_visit, doctor_of
from clinicdesk.store import audit
from clinicdesk.store.database import Store
from clinicdesk.store.desk import this_desk
from clinicdesk.store.models import (
    Allergy,
    Appointment,
    DoctorProfile,
    DoseTime,
    Drug,
    Meta,
    Patient,
    Prescription,
    PrescriptionItem,
    QueueEntry,
    SignedPrescription,
    Visit,
)
from clinicdesk.text import fold

DEFAULT_VALID_DAYS = 30
MAX_QR_VERSION = 25  # 117 modules: 0.5 mm modules still fit an A5 page with room to spare
CLOCK_KEY = "rx_latest_time"
CLOCK_SLACK = timedelta(minutes=10)
ISSUED_KEY = "rx_latest_issued_seen"
ISSUED_SLACK = timedelta(days=1)  # the issuing clinic's date may be a time zone ahead


@dataclass(frozen=True)
class VerifiedPrescription:
    """A scanned code that checked out: its content, who signed it, what is known here."""

    content: PrescriptionContent
    signed_by_clinic: str
    own_clinic: bool  # issued here: its status and dispensing are known locally
    kid: str
    local: PrescriptionView | None  # this clinic's record, when it issued the prescription


def item_of(row: PrescriptionItem) -> RxItem:
    times = tuple(t for t in row.frequency_times.split(",") if t)
    return RxItem(
        row.drug,
        row.strength,
        row.form,
        row.dose,
        row.route,
        Frequency(row.frequency_kind, row.frequency_n, times),
        row.duration_days,
        row.quantity,
        row.unit,
        row.refills,
        row.substitution,
        row.instructions,
    )


class PrescriptionService:
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

    def check(self, actor: Actor, patient_id: str, items: list[ItemInput]) -> list[RxWarning]:
        """Allergy and duplicate warnings for the items as they stand (as the doctor types)."""
        actor.require(P.PRESCRIBE)
        with self.store.read() as s:
            return _warnings(s, patient_id, items)

    def write(
        self,
        actor: Actor,
        visit_id: str,
        items: list[ItemInput],
        acknowledgements: dict[str, str] | None = None,
        valid_days: int = DEFAULT_VALID_DAYS,
    ) -> PrescriptionView:
        """Sign and store; raises NeedsAcknowledgement while a warning lacks a reason."""
        actor.require(P.PRESCRIBE)
        items = validate_items(items)
        if not 1 <= valid_days <= MAX_VALID_DAYS:
            raise ValidationError({"valid_for": f"must be 1 to {MAX_VALID_DAYS} days"})
        acknowledgements = {k: v.strip() for k, v in (acknowledgements or {}).items()}
        with self.store.write(actor) as s:
            doctor = doctor_of(s, actor)
            visit = s.get(Visit, visit_id)
            if visit is None:
                raise NotFound("That visit does not exist.")
            check_own_visit(s, actor, visit)
            _check_encounter(s, visit)
            warnings = _warnings(s, visit.patient_id, items)
            missing = [w for w in warnings if not acknowledgements.get(w.key)]
            if missing:
                raise NeedsAcknowledgement(missing)
            now = self.clock()
            _check_clock(s, now, self.desk, record=True)
            zone = clinic_zone(s)
            issued_on = now.astimezone(zone).date()
            row = Prescription(
                reference=_unused_reference(s),
                patient_id=visit.patient_id,
                doctor_id=doctor.id,
                visit_id=visit.id,
                issued_at=now,
                valid_until=issued_on + timedelta(days=valid_days),
                status=ACTIVE,
                kid="",
                code="",
                acknowledged=json.dumps(
                    [[w.message, acknowledgements[w.key]] for w in warnings], ensure_ascii=False
                ),
            )
            s.add(row)
            s.flush()
            rows = [_item_row(s, row.id, n, item) for n, item in enumerate(items, start=1)]
            s.add_all(rows)
            s.flush()
            key = active_key(s, signing_kek(self.store))
            row.kid = key.kid.hex()
            row.code = codec.encode(_content(s, row, rows, doctor), key)
            if qr_version(row.code) > MAX_QR_VERSION:
                raise ValidationError(
                    {
                        "items": "too much text for one printed code: shorten the instructions or "
                        "split the items over two prescriptions"
                    }
                )
            _store_dose_times(s, rows, issued_on, zone, now)
            audit.append(
                s,
                actor,
                "prescription.write",
                "prescriptions",
                row.id,
                reference=row.reference,
                items=len(rows),
                warnings=len(warnings),
            )
            return _view(s, row, issued_on)

    def get(self, actor: Actor, prescription_id: str) -> PrescriptionView:
        actor.require_any(P.CLINICAL_READ, P.DISPENSE)
        with self.store.write(actor) as s:  # reading a prescription is audited
            row = _prescription(s, prescription_id)
            audit.append(s, actor, "prescription.read", "prescriptions", row.id)
            return _view(s, row, clinic_day(s, self.clock()))

    def _unaudited(self, actor: Actor, prescription_id: str) -> PrescriptionView:
        """For printing, which writes its own audit entry."""
        actor.require_any(P.CLINICAL_READ, P.DISPENSE)
        with self.store.read() as s:
            return _view(s, _prescription(s, prescription_id), clinic_day(s, self.clock()))

    def find_by_reference(self, actor: Actor, typed: str) -> PrescriptionView:
        """For a code that will not scan: the reference number, its check digits checked; a
        number that matches nothing is recorded, and many of them make look-ups wait."""
        actor.require_any(P.CLINICAL_READ, P.DISPENSE)
        number = checked_reference(typed)
        with self.store.write(actor) as s:
            row = reference_lookup.find_by_reference(s, actor, number, self.clock())
            if row is not None:
                audit.append(s, actor, "prescription.read", "prescriptions", row.id, by="reference")
                return _view(s, row, clinic_day(s, self.clock()))
        raise NotFound(
            "No prescription of this clinic has that reference number; scan the code "
            "if it is from another clinic."
        )

    def cancel(self, actor: Actor, prescription_id: str, reason: str) -> PrescriptionView:
        actor.require(P.PRESCRIBE)
        if not reason.strip():
            raise ValidationError({"reason": "say why the prescription is cancelled"})
        with self.store.write(actor) as s:
            row = _prescription(s, prescription_id)
            if row.status == CANCELLED:
                raise Conflict("This prescription is already cancelled.")
            if row.status == DISPENSED:
                raise Conflict(
                    "This prescription has been dispensed in full; it cannot be cancelled."
                )
            row.status = CANCELLED
            row.cancel_reason = reason.strip()
            row.cancelled_by_name = actor.display_name
            row.cancelled_at = self.clock()
            _drop_future_doses(s, row.id, self.clock())
            audit.append(
                s, actor, "prescription.cancel", "prescriptions", row.id, reason=row.cancel_reason
            )
            return _view(s, row, clinic_day(s, self.clock()))

    def for_visit(self, actor: Actor, visit_id: str) -> list[PrescriptionView]:
        actor.require(P.CLINICAL_READ)
        with self.store.write(actor) as s:  # reading prescriptions is audited
            today = clinic_day(s, self.clock())
            rows = s.scalars(
                select(Prescription)
                .where(Prescription.visit_id == visit_id)
                .order_by(Prescription.issued_at)
            )
            views = [_view(s, r, today) for r in rows]
            audit.append(s, actor, "prescription.read", "visits", visit_id, count=len(views))
            return views

    def dose_times(self, actor: Actor, prescription_id: str) -> list[tuple[int, datetime]]:
        """(item line, UTC moment) of each computed dose, in time order."""
        actor.require_any(P.CLINICAL_READ, P.DISPENSE)
        with self.store.write(actor) as s:  # reading a prescription is audited
            rows = s.execute(
                select(PrescriptionItem.line, DoseTime.at)
                .join(DoseTime, DoseTime.item_id == PrescriptionItem.id)
                .where(PrescriptionItem.prescription_id == prescription_id)
                .order_by(DoseTime.at, PrescriptionItem.line)
            ).all()
            audit.append(s, actor, "prescription.dose_times", "prescriptions", prescription_id)
            return [(line, at) for line, at in rows]

    def pdf(self, actor: Actor, prescription_id: str, page_size: str = "A5") -> bytes:
        view = self._unaudited(actor, prescription_id)
        data = render(view, page_size)
        with self.store.write(actor) as s:
            audit.append(s, actor, "prescription.print", "prescriptions", view.id, page=page_size)
        return data

    def print_warnings(self, actor: Actor, prescription_id: str) -> list[str]:
        """What will print transliterated (the font cannot draw it), for the print dialog;
        not audited, as the printing it comes with is."""
        return prescription_print_warnings(self._unaudited(actor, prescription_id))

    def verify_code(self, actor: Actor, text: str) -> VerifiedPrescription:
        """Signature, trusted key, clock, expiry and cancellation, in that order."""
        actor.require_any(P.DISPENSE, P.CLINICAL_READ)
        with self.store.write(actor) as s:
            now = self.clock()
            verified, row = check_code(s, text, now, self.desk)
            audit.append(
                s,
                actor,
                "prescription.verify",
                "prescriptions",
                verified.content.prescription_id,
                issuer=verified.issuer,
                kid=verified.key.kid_hex,
            )
            return VerifiedPrescription(
                verified.content,
                verified.key.clinic_name,
                row is not None,
                verified.key.kid_hex,
                _view(s, row, clinic_day(s, now)) if row is not None else None,
            )


def checked_reference(typed: str) -> str:
    """The typed reference number as digits, or a ValidationError if a digit is wrong."""
    number = reference.normalize(typed)
    if not reference.is_valid(number):
        raise ValidationError(
            {
                "reference": "is not a valid reference number: a digit is wrong or missing "
                "(it has 12 digits; check each one)"
            }
        )
    return number


def check_code(
    s: Session, text: str, now: datetime, desk: str, record: bool = False
) -> tuple[codec.Verified, Prescription | None]:
    """A code that may be dispensed, with this clinic's record of it when it was issued here.

    Signature and trusted key first (nothing is read before), then a retired key's dates (before
    the date guard takes the code's date as evidence), the clock, cancellation and expiry; each
    refusal is a CodeRefused that says why. ``desk`` is this computer, whose clock
    ``now`` is; ``record`` (a scan at the counter) keeps the prescription's date as evidence of
    today's date at this desk.
    """
    verified = codec.verify(text, trusted_keys(s))
    _check_clock(s, now, desk, record=False)
    content = verified.content
    row = local_prescription(s, verified)
    today = clinic_day(s, now)
    refusal: CodeRefused | None = keys.retired_refusal(verified.key, content.issued_on, today)
    if refusal is None:
        refusal = _date_behind(s, content.issued_on, today, desk, record)
    if refusal is None:
        refusal = _content_differs(s, verified, row)
    if refusal is None and row is not None and row.status == CANCELLED:
        refusal = PrescriptionCancelled(row.cancel_reason, row.cancelled_by_name)
    elif refusal is None and today > content.valid_until:
        refusal = PrescriptionExpired(content.valid_until)
    if refusal is not None:
        refusal.prescription_id, refusal.issuer = content.prescription_id, verified.issuer
        raise refusal
    return verified, row


def local_prescription(s: Session, verified: codec.Verified) -> Prescription | None:
    """This clinic's record of a verified code: only a code signed with this clinic's own key
    is one of its prescriptions, whatever id another clinic's code carries."""
    return s.get(Prescription, verified.content.prescription_id) if verified.key.own else None


def _content_differs(
    s: Session, verified: codec.Verified, row: Prescription | None
) -> ContentDiffers | None:
    """A refusal if a prescription with this issuer and id is known here with other content:
    this clinic's own as it was signed, another's as it was first verified here."""
    if row is not None and row.code != verified.code:
        return ContentDiffers(reference.grouped(row.reference))
    known = _known(s, verified)
    if known is not None and known.digest != verified.digest:
        return ContentDiffers(reference.grouped(known.reference))
    return None


def remember_content(s: Session, verified: codec.Verified) -> None:
    """Keep what this issuer's prescription of this id says (its digest), for the next code."""
    if _known(s, verified) is None:
        content = verified.content
        s.add(
            SignedPrescription(
                issuer=verified.issuer,
                prescription_id=content.prescription_id,
                reference=content.reference,
                digest=verified.digest,
            )
        )


def _known(s: Session, verified: codec.Verified) -> SignedPrescription | None:
    return s.scalar(
        select(SignedPrescription).where(
            SignedPrescription.issuer == verified.issuer,
            SignedPrescription.prescription_id == verified.content.prescription_id,
        )
    )


def _desk_key(name: str, desk: str) -> str:
    """The Meta key of a time this desk alone has vouched for."""
    return f"{name}:{desk}"


def _check_clock(s: Session, now: datetime, desk: str, record: bool) -> None:
    """Refuse a clock set back behind the latest prescription signed at this desk.

    Each desk keeps its own latest time: desks share the database but not their clocks, so a
    desk whose clock runs ahead never stops another from prescribing or scanning. Only signing
    records the time.
    """
    key = _desk_key(CLOCK_KEY, desk)
    seen = s.get(Meta, key)
    if seen is not None:
        latest = datetime.fromisoformat(seen.value)
        if now < latest - CLOCK_SLACK:
            raise ClockBehind(latest.astimezone(clinic_zone(s)))
        if record and now > latest:
            seen.value = now.isoformat()
    elif record:
        s.add(Meta(key=key, value=now.isoformat()))


def _date_behind(
    s: Session, issued_on: date, today: date, desk: str, record: bool
) -> DateBehind | None:
    """A refusal if the date here is before a verified prescription's (this one's or the latest
    seen at this desk).

    A pharmacy that never prescribes has no signing time to check its clock against, but every
    prescription it verifies is signed evidence of a date already reached. Only what both the
    signature and this desk's clock vouch for is kept (the earlier of the two), and only for
    this desk, so neither an issuing clinic's clock running ahead nor another desk's can stop
    later scans here.
    """
    key = _desk_key(ISSUED_KEY, desk)
    seen = s.get(Meta, key)
    latest = date.fromisoformat(seen.value) if seen is not None else None
    dated = max(issued_on, latest) if latest is not None else issued_on
    if today < dated - ISSUED_SLACK:
        return DateBehind(dated, today)
    kept = min(issued_on, today)
    if record and seen is None:
        s.add(Meta(key=key, value=kept.isoformat()))
    elif record and kept > latest:
        seen.value = kept.isoformat()
    return None


def _check_encounter(s: Session, visit: Visit) -> None:
    if visit.appointment_id:
        appt = s.get(Appointment, visit.appointment_id)
        if appt.status not in ATTENDED:
            status = AppointmentStatus(appt.status).label.lower()
            raise Conflict(
                f"This appointment is {status}; a prescription is "
                "written only for a patient who checked in or was seen."
            )
    elif visit.queue_entry_id:
        entry = s.get(QueueEntry, visit.queue_entry_id)
        if entry.status == LEFT:
            raise Conflict("This walk-in left without being seen; no prescription can be written.")


def _unused_reference(s: Session) -> str:
    while True:
        number = reference.new_reference()
        if s.scalar(select(Prescription.id).where(Prescription.reference == number)) is None:
            return number


def _facts(s: Session, item: ItemInput) -> tuple[Drug | None, DrugFacts]:
    drug = s.get(Drug, item.drug_id) if item.drug_id else formulary_drug(s, item.drug)
    if drug is None:
        return None, DrugFacts(item.drug, frozenset({fold(item.drug)}), "")
    ingredients = frozenset(fold(i) for i in split_list(drug.ingredients))
    return drug, DrugFacts(item.drug, ingredients, drug.drug_class)


def _warnings(s: Session, patient_id: str, items: list[ItemInput]) -> list[RxWarning]:
    if s.get(Patient, patient_id) is None:
        raise NotFound("That patient record does not exist or was removed.")
    allergies = [
        (a.id, a.substance, a.reaction, a.severity)
        for a in s.scalars(
            select(Allergy).where(Allergy.patient_id == patient_id, Allergy.deleted_at.is_(None))
        )
    ]
    return warnings_for([_facts(s, i)[1] for i in items], allergies)


def _item_row(s: Session, prescription_id: str, line: int, item: ItemInput) -> PrescriptionItem:
    drug, _ = _facts(s, item)
    f = item.frequency
    return PrescriptionItem(
        prescription_id=prescription_id,
        line=line,
        drug_id=drug.id if drug is not None else None,
        drug=item.drug,
        strength=item.strength,
        form=item.form,
        dose=item.dose,
        route=item.route,
        frequency_kind=f.kind,
        frequency_n=f.n,
        frequency_times=",".join(sorted(f.times)),
        duration_days=item.duration_days,
        quantity=item.quantity,
        unit=item.unit,
        refills=item.refills,
        substitution=item.substitution,
        instructions=item.instructions,
    )


def _content(
    s: Session, row: Prescription, items: list[PrescriptionItem], doctor: DoctorProfile
) -> PrescriptionContent:
    patient = s.get(Patient, row.patient_id)
    return PrescriptionContent(
        prescription_id=row.id,
        reference=row.reference,
        clinic_name=clinic_profile(s).name,
        doctor_name=doctor_name(s, doctor),
        doctor_licence=doctor.licence_number,
        patient_name=f"{patient.given_name} {patient.family_name}",
        patient_born=patient.date_of_birth,
        issued_on=clinic_day(s, row.issued_at),
        valid_until=row.valid_until,
        items=tuple(item_of(i) for i in items),
    )


def _store_dose_times(s, rows, first_day, zone, now) -> None:
    values = [
        {"item_id": r.id, "at": at}
        for r in rows
        for at in dose_times(item_of(r).frequency, first_day, r.duration_days, zone, now)
    ]
    if values:
        s.execute(insert(DoseTime), values)


def _drop_future_doses(s: Session, prescription_id: str, now: datetime) -> None:
    items = select(PrescriptionItem.id).where(PrescriptionItem.prescription_id == prescription_id)
    s.execute(DoseTime.__table__.delete().where(DoseTime.item_id.in_(items), DoseTime.at > now))


def rebuild_dose_times(s: Session, row: Prescription | PrescriptionItem) -> None:
    """The medication reminders' times for a prescription or item that arrived by sync: an
    item's from now on while its prescription stands; none to come once it is cancelled."""
    now = utcnow()
    if isinstance(row, Prescription):
        if row.status == CANCELLED:
            _drop_future_doses(s, row.id, now)
        return
    prescription = s.get(Prescription, row.prescription_id)
    s.execute(DoseTime.__table__.delete().where(DoseTime.item_id == row.id))
    if prescription is not None and prescription.status != CANCELLED:
        first_day = clinic_day(s, prescription.issued_at)
        _store_dose_times(s, [row], first_day, clinic_zone(s), now)


def _prescription(s: Session, prescription_id: str) -> Prescription:
    row = s.get(Prescription, prescription_id)
    if row is None:
        raise NotFound("That prescription does not exist.")
    return row


def _view(s: Session, row: Prescription, today: date) -> PrescriptionView:
    items = list(
        s.scalars(
            select(PrescriptionItem)
            .where(PrescriptionItem.prescription_id == row.id)
            .order_by(PrescriptionItem.line)
        )
    )
    patient = s.get(Patient, row.patient_id)
    doctor = s.get(DoctorProfile, row.doctor_id)
    clinic = clinic_profile(s)
    return PrescriptionView(
        id=row.id,
        reference=row.reference,
        patient_id=row.patient_id,
        patient_name=f"{patient.given_name} {patient.family_name}",
        patient_born=patient.date_of_birth,
        doctor_name=doctor_name(s, doctor),
        doctor_licence=doctor.licence_number,
        clinic_name=clinic.name,
        clinic_address=clinic.address,
        clinic_phone=clinic.phone,
        issued_at=row.issued_at,
        issued_on=clinic_day(s, row.issued_at),
        valid_until=row.valid_until,
        status=effective_status(row.status, row.valid_until, today),
        items=tuple(
            ItemView(
                i.line,
                i.drug,
                i.strength,
                i.form,
                i.dose,
                i.route,
                item_of(i).frequency,
                i.duration_days,
                i.quantity,
                i.unit,
                i.refills,
                i.substitution,
                i.instructions,
                directions(item_of(i)),
            )
            for i in items
        ),
        cancel_reason=row.cancel_reason,
        cancelled_by=row.cancelled_by_name,
        code=row.code,
        kid=row.kid,
        acknowledged=tuple((w, r) for w, r in json.loads(row.acknowledged)),
        visit_id=row.visit_id,
    )

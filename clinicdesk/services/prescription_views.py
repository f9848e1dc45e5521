"""Read-only views of prescriptions and their status as staff see it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.rx import reference
from clinicdesk.rx.payload import Frequency
from clinicdesk.store.models import Prescription, PrescriptionItem

ACTIVE, PARTLY, DISPENSED, EXPIRED, CANCELLED = (
    "active",
    "partly_dispensed",
    "dispensed",
    "expired",
    "cancelled",
)
RX_STATUS_LABELS = {
    ACTIVE: "Active",
    PARTLY: "Partly dispensed",
    DISPENSED: "Dispensed",
    EXPIRED: "Expired",
    CANCELLED: "Cancelled",
}


def effective_status(stored: str, valid_until: date, today: date) -> str:
    """Expired is not stored: it is what an undispensed prescription becomes after its date."""
    if stored in (ACTIVE, PARTLY) and today > valid_until:
        return EXPIRED
    return stored


@dataclass(frozen=True)
class PrescriptionSummary:
    id: str
    reference: str
    issued_at: datetime
    valid_until: date
    status: str  # effective: expired included
    drugs: tuple[str, ...]

    @property
    def status_label(self) -> str:
        return RX_STATUS_LABELS[self.status]

    @property
    def reference_grouped(self) -> str:
        return reference.grouped(self.reference)


def prescription_summaries(s: Session, patient_id: str, today: date) -> list[PrescriptionSummary]:
    rows = list(
        s.scalars(
            select(Prescription)
            .where(Prescription.patient_id == patient_id)
            .order_by(Prescription.issued_at.desc())
        )
    )
    drugs: dict[str, list[str]] = defaultdict(list)
    if rows:
        for pid, drug, strength in s.execute(
            select(
                PrescriptionItem.prescription_id, PrescriptionItem.drug, PrescriptionItem.strength
            )
            .where(PrescriptionItem.prescription_id.in_([r.id for r in rows]))
            .order_by(PrescriptionItem.prescription_id, PrescriptionItem.line)
        ):
            drugs[pid].append(f"{drug} {strength}".strip())
    return [
        PrescriptionSummary(
            r.id,
            r.reference,
            r.issued_at,
            r.valid_until,
            effective_status(r.status, r.valid_until, today),
            tuple(drugs[r.id]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ItemView:
    line: int
    drug: str
    strength: str
    form: str
    dose: str
    route: str
    frequency: Frequency
    duration_days: int
    quantity: int
    unit: str
    refills: int
    substitution: bool
    instructions: str
    directions: str


@dataclass(frozen=True)
class PrescriptionView:
    id: str
    reference: str
    patient_id: str
    patient_name: str
    patient_born: date
    doctor_name: str
    doctor_licence: str
    clinic_name: str
    clinic_address: str
    clinic_phone: str
    issued_at: datetime
    issued_on: date  # the clinic's local date
    valid_until: date
    status: str  # effective: expired included
    items: tuple[ItemView, ...]
    cancel_reason: str
    cancelled_by: str
    code: str
    kid: str
    acknowledged: tuple[tuple[str, str], ...]  # (warning, reason)
    visit_id: str

    @property
    def status_label(self) -> str:
        return RX_STATUS_LABELS[self.status]

    @property
    def reference_grouped(self) -> str:
        return reference.grouped(self.reference)

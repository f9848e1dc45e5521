"""A clinic with a signed three-item prescription, a pharmacist and stock on the shelf.

The prescription (tests/clinical/clinic_setup.three_items) asks for 15 ibuprofen 400 mg
tablets, 28 omeprazole 20 mg capsules and 1 salbutamol inhaler with one refill (2 in all,
no substitution). Stock: two in-date ibuprofen batches (the sooner-expiring one first), one
expired ibuprofen batch, one omeprazole batch and one salbutamol batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.inventory import BatchInput, BatchView
from clinicdesk.services.prescription_views import PrescriptionView
from clinicdesk.store.models import StockBatch
from tests.clinical.clinic_setup import Consultation, three_items, walk_in_consultation

PHARMACIST_PASSWORD = "pharmacist password 1"


@dataclass
class Counter:
    consultation: Consultation
    pharmacist: ClinicSession
    rx: PrescriptionView
    batches: dict[str, BatchView]  # "ibuprofen_soon", "ibuprofen_late", "ibuprofen_expired",
    # "omeprazole", "salbutamol"

    @property
    def admin(self) -> ClinicSession:
        return self.consultation.admin

    @property
    def doctor(self) -> ClinicSession:
        return self.consultation.doctor


def add_pharmacist(admin: ClinicSession, username: str = "pharmacist") -> ClinicSession:
    admin.users.create(
        admin.actor,
        username,
        "Priya Shah",
        {Role.PHARMACIST},
        PHARMACIST_PASSWORD,
        must_change_password=False,
    )
    return sign_in(admin.folder, username, PHARMACIST_PASSWORD)


def drug_id(session: ClinicSession, name: str) -> str:
    return next(d.id for d in session.formulary.search(session.actor, name) if d.name == name)


def stock_shelf(pharmacist: ClinicSession) -> dict[str, BatchView]:
    today = date.today()
    inv, actor = pharmacist.inventory, pharmacist.actor
    ibuprofen = drug_id(pharmacist, "Ibuprofen")

    def receive(name, number, days, quantity, price, strength, form):
        batch = BatchInput(
            drug_id(pharmacist, name),
            number,
            today + timedelta(days=days),
            quantity,
            unit_cost=price // 2,
            unit_price=price,
            strength=strength,
            form=form,
            supplier="Alliance Healthcare",
        )
        return inv.receive(actor, batch)

    batches = {
        "ibuprofen_late": receive("Ibuprofen", "IBU-LATE", 400, 100, 12, "400 mg", "tablet"),
        "ibuprofen_soon": receive("Ibuprofen", "IBU-SOON", 60, 10, 12, "400 mg", "tablet"),
        "omeprazole": receive("Omeprazole", "OME-1", 300, 56, 20, "20 mg", "capsule"),
        "salbutamol": receive(
            "Salbutamol", "SAL-1", 300, 5, 450, "100 micrograms per dose", "inhaler"
        ),
    }
    # an expired batch still on the shelf: received while in date, then time passed
    expired = receive("Ibuprofen", "IBU-OLD", 10, 20, 12, "400 mg", "tablet")
    with pharmacist.store.write(pharmacist.actor) as s:
        s.get(StockBatch, expired.id).expiry = today - timedelta(days=3)
    batches["ibuprofen_expired"] = next(
        b for b in inv.batches(actor, ibuprofen) if b.id == expired.id
    )
    return batches


def counter_with_prescription(admin: ClinicSession) -> Counter:
    """The doctor writes the three-item prescription; the pharmacist has stock to give it."""
    consultation = walk_in_consultation(admin)
    rx = consultation.doctor.prescriptions.write(
        consultation.doctor.actor, consultation.visit.id, three_items()
    )
    pharmacist = add_pharmacist(admin)
    return Counter(consultation, pharmacist, rx, stock_shelf(pharmacist))

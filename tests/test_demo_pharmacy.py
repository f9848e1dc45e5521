"""The demo clinic's pharmacy as a pharmacist finds it: stock with its alerts, prescriptions
dispensed in full or in part over the past days, and today's waiting at the counter."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinicdesk.demo.clinic import DEMO_CLINIC, DEMO_PASSWORD, create_demo_clinic
from clinicdesk.rx.payload import PER_DAY, Frequency
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.pharmacy_views import SCANNER, Verdict
from clinicdesk.services.prescription_checks import ItemInput, NeedsAcknowledgement
from clinicdesk.services.visit_views import OPEN
from clinicdesk.store.keyslots import KdfParams
from clinicdesk.store.models import DoctorProfile, Prescription, User, Visit

pytestmark = pytest.mark.long  # builds a whole demo clinic


def clinic_today():
    return datetime.now(ZoneInfo(DEMO_CLINIC.time_zone)).date()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "clinic"
    create_demo_clinic(folder, patients=60, kdf=KdfParams(time_cost=1))
    return folder


@pytest.fixture
def pharmacist(demo: Path):
    session = sign_in(demo, "pharmacy", DEMO_PASSWORD)
    yield session
    session.close()


def verdicts(pharmacist: ClinicSession) -> list[Verdict]:
    """Every prescription of the demo still valid today, as the counter sees it."""
    with pharmacist.store.read() as s:
        codes = s.scalars(
            select(Prescription.code).where(
                Prescription.status != "cancelled", Prescription.valid_until >= clinic_today()
            )
        ).all()
    return [pharmacist.pharmacy.verdict(pharmacist.actor, code) for code in codes]


def test_the_shelf_holds_stock_with_low_near_expiry_and_expired_alerts(pharmacist):
    inventory, actor = pharmacist.inventory, pharmacist.actor
    stock = {line.drug_name: line for line in inventory.stock(actor)}
    for drug in ("Naproxen", "Omeprazole", "Flucloxacillin", "Amlodipine", "Salbutamol"):
        assert stock[drug].on_hand > 0 and stock[drug].batches >= 2, drug
    alerts = inventory.alerts(actor)
    assert alerts.low_stock and alerts.near_expiry and alerts.expired
    assert all(b.on_hand > 0 and b.expiry < clinic_today() for b in alerts.expired)
    batches = inventory.batches(actor)
    assert len({b.supplier for b in batches}) >= 3
    assert all(0 < b.unit_cost < b.unit_price for b in batches)
    reasons = {m.reason for b in batches for m in inventory.movements(actor, b.id)}
    assert any("count" in r.lower() for r in reasons)
    assert any("dropped" in r or "damaged" in r or "cracked" in r for r in reasons)


def test_past_prescriptions_are_dispensed_in_full_or_in_part_never_beyond(pharmacist):
    seen = verdicts(pharmacist)
    full = [v for v in seen if v.fully_dispensed]
    part = [v for v in seen if not v.fully_dispensed and any(i.dispensed for i in v.items)]
    waiting = [v for v in seen if not any(i.dispensed for i in v.items)]
    assert len(full) >= 5 and len(part) >= 3 and waiting
    for v in seen:
        for item in v.items:
            assert 0 <= item.dispensed <= item.allowed
            assert sum(f.quantity for f in item.fills) == item.dispensed
            assert all(f.by == "Marek Nowak" for f in item.fills)
    assert any(v.scans >= 1 for v in full)
    fills = [f for v in seen for i in v.items for f in i.fills]
    assert len({f.at.date() for f in fills}) >= 3, "dispensed over several days"
    history = pharmacist.pharmacy.history(pharmacist.actor)
    assert len(history) == len(fills) and all(r.price > 0 for r in history)


def test_a_prescription_written_today_scans_as_genuine_with_everything_remaining(demo, pharmacist):
    with pharmacist.store.read() as s:
        visit_id, username = s.execute(
            select(Visit.id, User.username)
            .join(DoctorProfile, DoctorProfile.id == Visit.doctor_id)
            .join(User, User.id == DoctorProfile.user_id)
            .where(Visit.status == OPEN)
        ).first()
    doctor = sign_in(demo, username, DEMO_PASSWORD)
    try:
        item = ItemInput(
            "Amoxicillin", "1 capsule", "by mouth", Frequency(PER_DAY, 3), 5, 15, "capsules",
            strength="500 mg", form="capsule",
        )  # fmt: skip
        try:
            written = doctor.prescriptions.write(doctor.actor, visit_id, [item])
        except NeedsAcknowledgement as asked:  # the demo's patient may have an allergy
            reasons = {w.key: "Tolerated it before" for w in asked.warnings}
            written = doctor.prescriptions.write(doctor.actor, visit_id, [item], reasons)
    finally:
        doctor.close()
    verdict = pharmacist.pharmacy.scan(pharmacist.actor, written.code, SCANNER)
    assert verdict.own_clinic and verdict.content.reference == written.reference
    (line,) = verdict.items
    assert (line.dispensed, line.remaining, line.fills) == (0, 15, ())
    assert line.batches and line.batches[0].on_hand >= 15  # on the shelf to dispense
    # and those of the past days still waiting to be collected
    waiting = next(v for v in verdicts(pharmacist) if not any(i.dispensed for i in v.items))
    again = pharmacist.pharmacy.scan(pharmacist.actor, waiting.code, SCANNER)
    assert again.own_clinic and again.scans == waiting.scans + 1
    assert all(i.remaining == i.allowed and not i.fills for i in again.items)

"""A clinic with a signed three-item prescription, a pharmacist and stock on the shelf.

The prescription (tests/clinical/clinic_setup.three_items) asks for 15 ibuprofen 400 mg
tablets, 28 omeprazole 20 mg capsules and 1 salbutamol inhaler with one refill (2 in all,
no substitution). Stock: two in-date ibuprofen batches (the sooner-expiring one first), one
expired ibuprofen batch, one omeprazole batch and one salbutamol batch.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.inventory import BatchInput, BatchView
from clinicdesk.services.pharmacy_views import REFUSED
from clinicdesk.services.prescription_views import PrescriptionView
from clinicdesk.services.visits import VisitView
from clinicdesk.store.models import PharmacyEvent, StockBatch
from tests.clinic_time import clinic_today
from tests.clinical.clinic_setup import (
    DOCTOR_PASSWORD,
    Consultation,
    new_clinic,
    three_items,
    walk_in_consultation,
)
from tests.conftest import ADMIN_PASSWORD
from tests.pdf_pages import page_images

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


def add_pharmacist(
    admin: ClinicSession, username: str = "pharmacist", name: str = "Priya Shah"
) -> ClinicSession:
    admin.users.create(
        admin.actor,
        username,
        name,
        {Role.PHARMACIST},
        PHARMACIST_PASSWORD,
        must_change_password=False,
    )
    return sign_in(admin.folder, username, PHARMACIST_PASSWORD)


def drug_id(session: ClinicSession, name: str) -> str:
    return next(d.id for d in session.formulary.search(session.actor, name) if d.name == name)


def stock_shelf(pharmacist: ClinicSession) -> dict[str, BatchView]:
    today = clinic_today(pharmacist)
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


@dataclass(frozen=True)
class Template:
    """A closed clinic folder holding a counter, copied for each test (faster than a new one)."""

    folder: Path
    patient_id: str
    visit: VisitView
    rx: PrescriptionView
    batches: dict[str, BatchView]


_templates: dict[Path, Template] = {}


def counter_template(root: Path) -> Template:
    """Built once per ``root`` (a pytest tmp_path_factory folder)."""
    if root not in _templates:
        admin = new_clinic(root / "template")
        counter = counter_with_prescription(admin)
        _templates[root] = Template(
            admin.folder,
            counter.consultation.patient_id,
            counter.consultation.visit,
            counter.rx,
            counter.batches,
        )
        for session in (counter.pharmacist, counter.doctor, admin):
            session.close()
    return _templates[root]


class SignedInOnUse(Consultation):
    """The admin and the doctor of a copied clinic, each signed in when a test first asks for
    them (a sign-in costs a key derivation; most counter tests need neither)."""

    def __init__(self, folder: Path, patient_id: str, visit: VisitView) -> None:
        self.folder, self.patient_id, self.visit = folder, patient_id, visit
        self.opened: dict[str, ClinicSession] = {}

    def _session(self, username: str, password: str) -> ClinicSession:
        if username not in self.opened:
            self.opened[username] = sign_in(self.folder, username, password)
        return self.opened[username]

    @property
    def admin(self) -> ClinicSession:
        return self._session("admin", ADMIN_PASSWORD)

    @property
    def doctor(self) -> ClinicSession:
        return self._session("dr.hale", DOCTOR_PASSWORD)


@contextmanager
def open_counter(template: Template, folder: Path) -> Iterator[Counter]:
    """A copy of the template clinic with its pharmacist signed in (the admin and the doctor
    when first used)."""
    shutil.copytree(template.folder, folder)
    pharmacist = sign_in(folder, "pharmacist", PHARMACIST_PASSWORD)
    consultation = SignedInOnUse(folder, template.patient_id, template.visit)
    yield Counter(consultation, pharmacist, template.rx, dict(template.batches))
    for session in (pharmacist, *consultation.opened.values()):
        session.close()


def counter_fixture(scope: str = "function"):
    """A pytest fixture ``counter``: a fresh copy of the template clinic for each test (or,
    with scope="module", one shared by the module's tests)."""

    @pytest.fixture(scope=scope, name="counter")
    def counter(tmp_path_factory) -> Iterator[Counter]:
        template = counter_template(tmp_path_factory.getbasetemp())
        with open_counter(template, tmp_path_factory.mktemp("counter") / "clinic") as c:
            yield c

    return counter


@dataclass(frozen=True)
class Shelf:
    """What a pharmacist can see has (not) changed: stock, dispenses, the prescription's
    status."""

    on_hand: dict[str, int]  # batch number -> units
    dispensed_lines: int
    status: str


def shelf(counter: Counter) -> Shelf:
    ph = counter.pharmacist
    batches = ph.inventory.batches(ph.actor, include_empty=True)
    return Shelf(
        {b.batch_number: b.on_hand for b in batches},
        len(ph.pharmacy.history(ph.actor)),
        ph.prescriptions.get(ph.actor, counter.rx.id).status,
    )


def remaining(counter: Counter) -> tuple[int, ...]:
    """What is left of each item, as the verdict shows it (not counted as a scan)."""
    ph = counter.pharmacist
    return tuple(i.remaining for i in ph.pharmacy.verdict(ph.actor, counter.rx.code).items)


def recorded_scans(session: ClinicSession, kind: str = REFUSED) -> list[PharmacyEvent]:
    """The pharmacy's record of scans of that kind, oldest first (refused codes may carry no
    prescription, so no verdict shows them)."""
    with session.store.read() as s:
        return list(
            s.scalars(
                select(PharmacyEvent).where(PharmacyEvent.kind == kind).order_by(PharmacyEvent.at)
            )
        )


def page_picture(pdf: bytes, dpi: int = 300, grey: bool = True) -> Image.Image:
    """The prescription's first page as a scanner at ``dpi`` would see it."""
    return page_images(pdf, dpi, grey)[0]


def encoded(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def phone_photo(page: Image.Image) -> bytes:
    """Held a little crooked (7°) and saved as a small, rough JPEG, as phones send them."""
    tilted = page.convert("RGB").rotate(7, expand=True, fillcolor=(214, 208, 196))
    half = tilted.resize((tilted.width // 2, tilted.height // 2))
    return encoded(half, "JPEG", quality=40)

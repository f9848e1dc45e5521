"""Every read of clinical data leaves exactly one audit entry naming who read what.

The list is checked against the permission matrix: every call that needs a clinical permission
is here, either as a read with the entry it writes, as a change (audited as a change), or as
a call that reads nothing clinical, with why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from clinicdesk.permissions import P
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.pharmacy_views import SCANNER, DispenseInput, HistoryFilter
from clinicdesk.store.models import AuditEntry
from tests.pharmacy.pharmacy_setup import Counter, counter_fixture
from tests.security.test_permission_matrix import CASES

counter = counter_fixture(scope="module")


@dataclass(frozen=True)
class World:
    counter: Counter
    document_id: str
    dispense_id: str

    @property
    def patient_id(self) -> str:
        return self.counter.consultation.patient_id

    @property
    def visit_id(self) -> str:
        return self.counter.consultation.visit.id


@pytest.fixture(scope="module")
def world(counter: Counter) -> Iterator[World]:
    admin, ph = counter.admin, counter.pharmacist
    pdf = counter.doctor.prescriptions.pdf(counter.doctor.actor, counter.rx.id)
    document = admin.chart.attach(
        admin.actor, counter.consultation.patient_id, "letter", "Referral", "r.pdf", pdf
    )
    dispense = ph.pharmacy.dispense(
        ph.actor, counter.rx.code, [DispenseInput(1, counter.batches["ibuprofen_late"].id, 5)]
    )
    yield World(counter, document.id, dispense.id)


DOCTOR, PHARMACIST = "doctor", "pharmacist"
Read = Callable[[ClinicSession, World], Any]

# "service.method": (who reads, the call, the audit entry it writes)
READS: dict[str, tuple[str, Read, str]] = {
    "chart.open": (DOCTOR, lambda s, w: s.chart.open(s.actor, w.patient_id), "chart.open"),
    "chart.allergies": (
        DOCTOR,
        lambda s, w: s.chart.allergies(s.actor, w.patient_id),
        "chart.allergies",
    ),
    "chart.history": (DOCTOR, lambda s, w: s.chart.history(s.actor, w.patient_id), "chart.history"),
    "chart.document_content": (
        DOCTOR,
        lambda s, w: s.chart.document_content(s.actor, w.document_id),
        "chart.document_view",
    ),
    "patients.history": (
        DOCTOR,
        lambda s, w: s.patients.history(s.actor, w.patient_id),
        "patient.history",
    ),
    "visits.get": (DOCTOR, lambda s, w: s.visits.get(s.actor, w.visit_id), "visit.view"),
    "prescriptions.get": (
        PHARMACIST,
        lambda s, w: s.prescriptions.get(s.actor, w.counter.rx.id),
        "prescription.read",
    ),
    "prescriptions.find_by_reference": (
        PHARMACIST,
        lambda s, w: s.prescriptions.find_by_reference(s.actor, w.counter.rx.reference),
        "prescription.read",
    ),
    "prescriptions.for_visit": (
        DOCTOR,
        lambda s, w: s.prescriptions.for_visit(s.actor, w.visit_id),
        "prescription.read",
    ),
    "prescriptions.dose_times": (
        DOCTOR,
        lambda s, w: s.prescriptions.dose_times(s.actor, w.counter.rx.id),
        "prescription.dose_times",
    ),
    "prescriptions.pdf": (
        DOCTOR,
        lambda s, w: s.prescriptions.pdf(s.actor, w.counter.rx.id),
        "prescription.print",
    ),
    "prescriptions.verify_code": (
        PHARMACIST,
        lambda s, w: s.prescriptions.verify_code(s.actor, w.counter.rx.code),
        "prescription.verify",
    ),
    "pharmacy.scan": (
        PHARMACIST,
        lambda s, w: s.pharmacy.scan(s.actor, w.counter.rx.code, SCANNER),
        "prescription.scan",
    ),
    "pharmacy.look_up": (
        PHARMACIST,
        lambda s, w: s.pharmacy.look_up(s.actor, w.counter.rx.reference),
        "prescription.scan",
    ),
    "pharmacy.verdict": (
        PHARMACIST,
        lambda s, w: s.pharmacy.verdict(s.actor, w.counter.rx.code),
        "prescription.verdict",
    ),
    "pharmacy.get_dispense": (
        PHARMACIST,
        lambda s, w: s.pharmacy.get_dispense(s.actor, w.dispense_id),
        "dispense.read",
    ),
    "pharmacy.labels_pdf": (
        PHARMACIST,
        lambda s, w: s.pharmacy.labels_pdf(s.actor, w.dispense_id),
        "dispense.print",
    ),
    "pharmacy.receipt_pdf": (
        PHARMACIST,
        lambda s, w: s.pharmacy.receipt_pdf(s.actor, w.dispense_id),
        "dispense.print",
    ),
    "pharmacy.history": (
        PHARMACIST,
        lambda s, w: s.pharmacy.history(s.actor, HistoryFilter()),
        "dispense.history",
    ),
    "pharmacy.history_csv": (
        PHARMACIST,
        lambda s, w: s.pharmacy.history_csv(s.actor, HistoryFilter()),
        "dispense.export",
    ),
}

# Calls that change clinical data: each is audited as the change it makes.
CHANGES = {
    "chart.add",
    "chart.update",
    "chart.set_lifestyle",
    "chart.remove",
    "chart.attach",
    "chart.remove_document",
    "visits.call_next",
    "visits.start_for_appointment",
    "visits.start_for_queue_entry",
    "visits.save_note",
    "visits.finish",
    "visits.add_addendum",
    "prescriptions.write",
    "prescriptions.cancel",
    "pharmacy.dispense",
    "pharmacy.reject",
}

# Calls behind a clinical permission that return no patient's clinical data, and why.
NOT_CLINICAL = {
    "chart.revision": "a count of changes and a version number, asked to know when to reload",
    "visits.doctor_day": "the day's appointments and queue, as the front desk sees them",
    "prescriptions.check": "warnings as the doctor types, in a prescription opened from an "
    "audited visit; the prescription written is audited",
    "prescriptions.print_warnings": "asked by the print dialog beside the PDF, whose printing "
    "is audited",
    "pharmacy.print_warnings": "asked by the print dialog beside the labels or receipt, whose "
    "printing is audited",
}
NOT_PATIENT_DATA = ("formulary.", "signing_keys.", "inventory.")
CLINICAL = {P.CLINICAL_READ, P.CLINICAL_WRITE, P.PRESCRIBE, P.DISPENSE}


def test_every_clinical_call_is_listed():
    clinical = {
        c.method
        for c in CASES
        if set(c.needs) & CLINICAL and not c.method.startswith(NOT_PATIENT_DATA)
    }
    clinical.add("patients.history")  # who changed a patient's details, and when
    listed = set(READS) | CHANGES | set(NOT_CLINICAL)
    assert clinical - listed == set(), "add these to READS, CHANGES or NOT_CLINICAL"
    assert listed - clinical == set(), "these are no longer clinical calls"


def entries(session: ClinicSession) -> int:
    with session.store.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def newest(session: ClinicSession, count: int) -> list[AuditEntry]:
    with session.store.read() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(count)))


@pytest.mark.parametrize("method", READS)
def test_each_read_of_clinical_data_writes_one_audit_entry(world, method):
    who, call, action = READS[method]
    session = world.counter.doctor if who == DOCTOR else world.counter.pharmacist
    before = entries(session)
    call(session, world)
    assert entries(session) == before + 1, "one entry for one read"
    (entry,) = newest(session, 1)
    assert (entry.action, entry.actor_id) == (action, session.actor.user_id)

"""Safety edges of prescribing: a reason is given for one drug only, free-text names still meet
the allergy check, a visit belongs to its doctor, a cancelled reprint is marked on every page,
and impossible vital signs are refused in words."""

from __future__ import annotations

import pytest
from clinic_setup import DOCTOR_PASSWORD, Consultation, walk_in_consultation

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.permissions import Role
from clinicdesk.rx.payload import PER_DAY, Frequency
from clinicdesk.services import attachments
from clinicdesk.services.access import sign_in
from clinicdesk.services.prescription_checks import ItemInput, NeedsAcknowledgement
from tests.pdf_pages import page_texts


@pytest.fixture
def consult(admin) -> Consultation:
    c = walk_in_consultation(admin)
    yield c
    c.doctor.close()


def item(drug: str, quantity: int = 21) -> ItemInput:
    return ItemInput(drug, "1 capsule", "by mouth", Frequency(PER_DAY, 3), 7, quantity, "capsules")


def test_a_reason_given_for_one_drug_is_not_taken_for_another(consult):
    d = consult.doctor
    (warning,) = d.prescriptions.check(d.actor, consult.patient_id, [item("Amoxicillin")])
    reasons = {warning.key: "tolerated amoxicillin in 2020"}
    with pytest.raises(NeedsAcknowledgement) as asked:
        d.prescriptions.write(d.actor, consult.visit.id, [item("Co-amoxiclav")], reasons)
    assert "Co-amoxiclav" in asked.value.warnings[0].message
    assert d.prescriptions.for_visit(d.actor, consult.visit.id) == []


@pytest.mark.parametrize(
    "typed", ["Benzylpenicillin", "Penicillin V", "Amoxicillin 500 mg capsules", "co-amoxiclav"]
)
def test_free_text_names_meet_the_allergy_check(consult, typed):
    d = consult.doctor
    warnings = d.prescriptions.check(d.actor, consult.patient_id, [item(typed)])
    assert [w.kind for w in warnings] == ["allergy"]
    assert "Penicillin" in warnings[0].message


def test_no_allergy_warning_for_an_unrelated_drug(consult):
    d = consult.doctor
    assert d.prescriptions.check(d.actor, consult.patient_id, [item("Ibuprofen")]) == []


def test_another_doctor_cannot_write_in_this_visit(consult):
    admin = consult.admin
    paeds = admin.schedule.add_specialization(admin.actor, "Paediatrics")
    service = admin.schedule.add_service(admin.actor, "Child consultation", 20, 0, 4000)
    user = admin.users.create(
        admin.actor,
        "dr.berg",
        "Dr Ola Berg",
        {Role.DOCTOR},
        DOCTOR_PASSWORD,
        must_change_password=False,
    )
    admin.schedule.make_doctor(admin.actor, user.id, paeds, "GMC 7099999", {service.id}, ())
    other = sign_in(admin.folder, "dr.berg", DOCTOR_PASSWORD)
    try:
        visit = consult.visit
        with pytest.raises(Conflict, match="another doctor's visit"):
            other.prescriptions.write(other.actor, visit.id, [item("Ibuprofen")])
        with pytest.raises(Conflict, match="another doctor's visit"):
            other.visits.save_note(
                other.actor, visit.id, visit.note.__class__(complaint="overwritten"), visit.version
            )
    finally:
        other.close()
    d = consult.doctor
    assert d.prescriptions.for_visit(d.actor, visit.id) == []
    assert d.visits.get(d.actor, visit.id).note.complaint == ""


def test_a_cancelled_prescription_is_marked_on_every_printed_page(consult):
    d = consult.doctor
    names = ("Ibuprofen", "Omeprazole", "Cetirizine", "Loratadine", "Metformin")
    names += ("Atorvastatin", "Amlodipine", "Ramipril", "Sertraline", "Montelukast")
    items = [item(name) for name in names]
    rx = d.prescriptions.write(d.actor, consult.visit.id, items)
    d.prescriptions.cancel(d.actor, rx.id, "Written for the wrong patient")
    for paper in ("A5", "A4"):
        texts = page_texts(d.prescriptions.pdf(d.actor, rx.id, paper))
        if paper == "A5":
            assert len(texts) > 1  # ten items run over an A5 page (A4 holds them all)
        assert all("CANCELLED" in text for text in texts), paper


@pytest.mark.parametrize("typed", ["nan", "inf", "-inf", "1e400"])
def test_impossible_vital_signs_are_refused_in_words(consult, typed):
    a = consult.admin
    with pytest.raises(ValidationError) as refused:
        a.chart.add(a.actor, consult.patient_id, "vitals", {"pulse": typed})
    assert refused.value.fields == {"pulse": "must be a number"}
    assert a.chart.open(a.actor, consult.patient_id).sections["vitals"] == []


def test_a_file_too_large_is_refused_by_its_size_alone():
    with pytest.raises(ValidationError) as refused:
        attachments.check_size("scan.pdf", 40 * 2**20)
    assert refused.value.fields["file"] == "scan.pdf is 40.0 MB; the largest file is 25 MB"

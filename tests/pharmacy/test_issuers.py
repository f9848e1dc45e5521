"""The ledger is kept per issuing clinic and prescription: another clinic's code that reuses one
of this clinic's prescription ids is that clinic's prescription, not ours; a second code with
the same issuer and id but other content is refused as altered; the verdict says which clinic
signed."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select

from clinicdesk.rx import codec, reference
from clinicdesk.rx.errors import ContentDiffers
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.pharmacy_views import SCANNER, DispenseInput
from clinicdesk.services.signing import TrustFileRefused, active_key, signing_kek
from clinicdesk.store import migrate
from clinicdesk.store.models import Meta
from tests.clinical.clinic_setup import new_clinic
from tests.pharmacy.pharmacy_setup import Counter, counter_fixture, remaining, shelf
from tests.trust_files import import_trust

counter = counter_fixture()

OLD_KEYS = ("rx_latest_time", "rx_latest_issued_seen")  # the clock guard's, before desks
OUR_NAME = "Sunrise Family Clinic"  # tests/conftest.py's clinic
OTHER_NAME = "Sunrise Family Practice"


@pytest.fixture
def other(counter: Counter, tmp_path: Path):
    """A second clinic, of a name like ours, whose trust file the pharmacy's admin imported."""
    clinic = new_clinic(tmp_path / "other", OTHER_NAME)
    clinic.signing_keys.export_trust_file(clinic.actor, tmp_path / "other.json")
    import_trust(counter.admin, tmp_path / "other.json")
    yield clinic
    clinic.close()


def signed_by(clinic: ClinicSession, content) -> str:
    with clinic.store.read() as s:
        return codec.encode(content, active_key(s, signing_kek(clinic.store)))


def reusing_our_id(counter: Counter, quantity: int, patient: str) -> codec.PrescriptionContent:
    """Content with our prescription's id: another name, one item of ``quantity`` tablets."""
    ph = counter.pharmacist
    ours = ph.pharmacy.verdict(ph.actor, counter.rx.code).content
    item = replace(ours.items[0], quantity=quantity)
    return replace(ours, reference=reference.new_reference(), patient_name=patient, items=(item,))


def test_another_clinics_code_reusing_our_id_keeps_its_own_ledger(counter, other):
    ph = counter.pharmacist
    theirs = signed_by(other, reusing_our_id(counter, 900, "Someone Else"))
    verdict = ph.pharmacy.scan(ph.actor, theirs, SCANNER)
    assert not verdict.own_clinic
    assert [i.remaining for i in verdict.items] == [900]
    before = shelf(counter)

    batch = counter.batches["ibuprofen_late"]
    given = ph.pharmacy.dispense(ph.actor, theirs, [DispenseInput(1, batch.id, 60)])
    assert given.patient_name == "Someone Else"
    assert [i.remaining for i in ph.pharmacy.verdict(ph.actor, theirs).items] == [840]
    # our prescription and our patient's chart are untouched
    assert remaining(counter) == (15, 28, 2)
    assert shelf(counter).status == before.status
    ours = ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    assert ours.own_clinic
    assert [e.kind for e in ours.history] == ["verified"]  # the other clinic's scans are theirs


def test_a_code_with_the_same_issuer_and_id_but_other_content_is_refused_as_altered(counter, other):
    ph = counter.pharmacist
    first = signed_by(other, reusing_our_id(counter, 30, "Someone Else"))
    ph.pharmacy.scan(ph.actor, first, SCANNER)
    second = signed_by(other, reusing_our_id(counter, 300, "Someone Else"))
    with pytest.raises(ContentDiffers) as caught:
        ph.pharmacy.scan(ph.actor, second, SCANNER)
    assert "altered" in caught.value.message and "Do not dispense" in caught.value.message
    batch = counter.batches["ibuprofen_late"]
    with pytest.raises(ContentDiffers):
        ph.pharmacy.dispense(ph.actor, second, [DispenseInput(1, batch.id, 1)])
    assert [i.remaining for i in ph.pharmacy.verdict(ph.actor, first).items] == [30]


def test_our_own_key_over_other_content_with_our_id_is_refused_as_altered(counter):
    """Even signed with this clinic's key: the prescription on record here is what counts."""
    ph = counter.pharmacist
    with pytest.raises(ContentDiffers):
        ph.pharmacy.scan(
            ph.actor, signed_by(counter.admin, reusing_our_id(counter, 900, "X")), SCANNER
        )
    assert remaining(counter) == (15, 28, 2)


def test_the_verdict_tells_this_clinic_and_another_apart(counter, other):
    ph = counter.pharmacist
    ours = ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    theirs = ph.pharmacy.scan(
        ph.actor, signed_by(other, reusing_our_id(counter, 30, "Someone Else")), SCANNER
    )
    assert (ours.signed_by_clinic, theirs.signed_by_clinic) == (OUR_NAME, OTHER_NAME)
    assert ours.signed_by_text.startswith("this clinic")
    assert "this clinic" not in theirs.signed_by_text
    assert ours.signed_by_text != theirs.signed_by_text
    assert theirs.kid[:4] in theirs.signed_by_text.replace(" ", "")


def test_a_trust_file_claiming_to_be_this_clinic_is_refused(counter, other, tmp_path):
    ph = counter.pharmacist
    document = json.loads((tmp_path / "other.json").read_text())
    document["clinic_id"] = ph.store.clinic_id()
    (tmp_path / "impostor.json").write_text(json.dumps(document))
    with pytest.raises(TrustFileRefused):
        import_trust(counter.admin, tmp_path / "impostor.json")


def test_the_verdict_shows_the_patients_allergies_as_the_chart_has_them_now(counter):
    ph, admin = counter.pharmacist, counter.admin
    first = ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    assert [a.text for a in first.allergies] == ["Penicillin (Hives; Severe)"]
    admin.chart.add(
        admin.actor,
        counter.consultation.patient_id,
        "allergies",
        {"substance": "Ibuprofen", "reaction": "Wheezing", "severity": "life-threatening"},
    )
    again = ph.pharmacy.verdict(ph.actor, counter.rx.code)
    assert [a.text for a in again.allergies] == [
        "Penicillin (Hives; Severe)",
        "Ibuprofen (Wheezing; Life-threatening)",
    ]
    assert all(a.serious for a in again.allergies)


def test_another_clinics_prescription_says_its_allergies_are_not_known_here(counter, other):
    ph = counter.pharmacist
    theirs = ph.pharmacy.scan(
        ph.actor, signed_by(other, reusing_our_id(counter, 30, "Someone Else")), SCANNER
    )
    assert theirs.allergies is None
    assert theirs.allergies_text.startswith("Not known here")


def test_a_trust_file_claiming_another_trusted_clinics_id_is_refused(counter, other, tmp_path):
    """A third clinic cannot take over a trusted clinic's prescriptions by claiming its id."""
    third = new_clinic(tmp_path / "third", "Third Clinic")
    try:
        third.signing_keys.export_trust_file(third.actor, tmp_path / "third.json")
    finally:
        third.close()
    document = json.loads((tmp_path / "third.json").read_text())
    document["clinic_id"] = json.loads((tmp_path / "other.json").read_text())["clinic_id"]
    (tmp_path / "third.json").write_text(json.dumps(document))
    with pytest.raises(TrustFileRefused) as caught:
        import_trust(counter.admin, tmp_path / "third.json")
    assert "none of its keys" in caught.value.message


def test_migration_0005_keeps_each_ledger_with_its_issuer(counter, other):
    """A pharmacy's database from before issuers (0004) keeps what was given out: this clinic's
    prescription stays ours, another clinic's stays with the key that signed it."""
    ph = counter.pharmacist
    ours = ph.pharmacy.verdict(ph.actor, counter.rx.code).content
    theirs = signed_by(
        other,
        replace(reusing_our_id(counter, 30, "Someone Else"), prescription_id=str(uuid.uuid4())),
    )
    ph.pharmacy.scan(ph.actor, theirs, SCANNER)
    ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    batch = counter.batches["ibuprofen_late"]
    ph.pharmacy.dispense(ph.actor, counter.rx.code, [DispenseInput(1, batch.id, 10)])
    ph.pharmacy.dispense(ph.actor, theirs, [DispenseInput(1, batch.id, 5)])

    config = migrate.alembic_config()
    with ph.store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    assert migrate.upgrade(ph.store)

    assert remaining(counter) == (5, 28, 2)
    assert [i.remaining for i in ph.pharmacy.verdict(ph.actor, theirs).items] == [25]
    again = ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    assert again.own_clinic and again.scans == 2 and again.content == ours
    with ph.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Meta).where(Meta.key.in_(OLD_KEYS))) == 0

"""Codes the counter must refuse, each with its own reason, recorded, and nothing given out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from clinicdesk.errors import NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.rx import reference
from clinicdesk.rx.errors import (
    ClockBehind,
    CodeDamaged,
    DateBehind,
    NotAPrescriptionCode,
    PrescriptionCancelled,
    PrescriptionExpired,
    RevokedSigningKey,
    SignatureInvalid,
    UnknownSigningKey,
)
from clinicdesk.services.pharmacy import PharmacyService
from clinicdesk.services.pharmacy_views import CAMERA, PICTURE, SCANNER, TYPED, DispenseInput
from clinicdesk.services.prescriptions import PrescriptionService
from tests.clinical.clinic_setup import new_clinic, three_items, walk_in_consultation
from tests.pharmacy.pharmacy_setup import (
    Counter,
    add_pharmacist,
    counter_fixture,
    recorded_scans,
    remaining,
    shelf,
)
from tests.trust_files import import_trust

counter = counter_fixture()


def refused(counter: Counter, text: str, kind, method: str = SCANNER):
    """Scan, expect that refusal; the refusal is on record and nothing was given out."""
    ph = counter.pharmacist
    before, scans = shelf(counter), len(recorded_scans(ph))
    with pytest.raises(kind) as caught:
        ph.pharmacy.scan(ph.actor, text, method)
    assert caught.value.message
    record = recorded_scans(ph)
    assert len(record) == scans + 1
    assert (record[-1].detail, record[-1].method) == (caught.value.message, method)
    assert record[-1].by_name == "Priya Shah"
    assert shelf(counter) == before
    return caught.value


def changed_digit(code: str, at: int) -> str:
    digit = code[at]
    return code[:at] + str((int(digit) + 1) % 10) + code[at + 1 :]


NOT_OURS = (
    "Paracetamol 500 mg, take two",
    "https://example.com/rx/496346367421",
    "",
    "   ",
    "496346367421",
    "RX2" + "0123456789" * 12,
)


def test_a_code_that_is_not_a_prescription_is_refused(counter):
    for text in NOT_OURS:
        error = refused(counter, text, NotAPrescriptionCode)
        assert "not a ClinicDesk prescription" in error.message


def test_digits_that_only_look_like_a_prescription_are_refused_as_damaged(counter):
    refused(counter, "RX1" + "0123456789" * 20, CodeDamaged)


def test_a_truncated_code_is_refused_as_damaged(counter):
    code = counter.rx.code
    for keep in (0.99, 0.9, 0.5, 0.1):
        error = refused(counter, code[: int(len(code) * keep)], CodeDamaged, CAMERA)
        assert "reference number" in error.message


def test_one_digit_changed_anywhere_is_refused(counter):
    code = counter.rx.code
    body = len(code) - 3
    for at in (3, 4, 3 + body // 4, 3 + body // 2, 3 + 3 * body // 4, len(code) - 2, len(code) - 1):
        refused(counter, changed_digit(code, at), (CodeDamaged, SignatureInvalid))


def test_a_prescription_from_a_clinic_not_trusted_is_refused_until_its_keys_are_imported(
    counter, tmp_path
):
    other = new_clinic(tmp_path / "harbour", "Harbour Medical Centre")
    visit = walk_in_consultation(other)
    rx = visit.doctor.prescriptions.write(visit.doctor.actor, visit.visit.id, three_items())
    error = refused(counter, rx.code, UnknownSigningKey)
    assert "import that clinic's trust file" in error.message

    other.signing_keys.export_trust_file(other.actor, tmp_path / "harbour.json")
    ph = counter.pharmacist
    import_trust(counter.admin, tmp_path / "harbour.json")
    verdict = ph.pharmacy.scan(ph.actor, rx.code, PICTURE)
    assert verdict.signed_by_clinic == "Harbour Medical Centre"
    assert not verdict.own_clinic
    assert verdict.content.prescription_id == rx.id
    assert [i.remaining for i in verdict.items] == [15, 28, 2]

    ibuprofen = counter.batches["ibuprofen_late"]
    given = ph.pharmacy.dispense(ph.actor, rx.code, [DispenseInput(1, ibuprofen.id, 15)])
    assert given.issuing_clinic == "Harbour Medical Centre"
    again = ph.pharmacy.verdict(ph.actor, rx.code)
    assert [i.remaining for i in again.items] == [0, 28, 2]
    assert remaining(counter) == (15, 28, 2)  # our own prescription is a separate ledger
    with pytest.raises(ValidationError) as caught:
        ph.pharmacy.dispense(ph.actor, rx.code, [DispenseInput(1, ibuprofen.id, 1)])
    assert "already been dispensed in full" in caught.value.fields["item 1"]
    visit.doctor.close()
    other.close()


def test_a_prescription_signed_with_a_revoked_key_is_refused(counter):
    admin = counter.admin
    key = next(k for k in admin.signing_keys.list(admin.actor) if k.own and k.kid)
    admin.signing_keys.revoke(admin.actor, key.kid, "the laptop holding it was stolen")
    error = refused(counter, counter.rx.code, RevokedSigningKey)
    assert "revoked" in error.message and "Do not dispense" in error.message


def test_an_expired_prescription_is_refused_and_says_until_when(counter):
    ph = counter.pharmacist
    later = PharmacyService(ph.store, clock=lambda: utcnow() + timedelta(days=45))
    before = shelf(counter)
    with pytest.raises(PrescriptionExpired) as caught:
        later.scan(ph.actor, counter.rx.code, SCANNER)
    assert f"{counter.rx.valid_until:%d %b %Y}" in caught.value.message
    with pytest.raises(PrescriptionExpired):
        later.dispense(
            ph.actor, counter.rx.code, [DispenseInput(1, counter.batches["ibuprofen_late"].id, 1)]
        )
    assert recorded_scans(ph)[-1].detail == caught.value.message
    assert recorded_scans(ph)[-1].prescription_id == counter.rx.id
    assert shelf(counter) == before


def test_a_counter_whose_clock_is_behind_is_refused_until_it_is_corrected(counter):
    ph = counter.pharmacist
    behind = PharmacyService(ph.store, clock=lambda: utcnow() - timedelta(days=2))
    before = shelf(counter)
    with pytest.raises(ClockBehind) as caught:
        behind.scan(ph.actor, counter.rx.code, SCANNER)
    assert "clock is behind" in caught.value.message
    with pytest.raises(ClockBehind):
        behind.dispense(
            ph.actor, counter.rx.code, [DispenseInput(1, counter.batches["ibuprofen_late"].id, 1)]
        )
    assert recorded_scans(ph)[-1].detail == caught.value.message
    assert shelf(counter) == before


def test_a_one_day_prescription_is_refused_two_days_later(counter):
    doctor = counter.doctor
    visit = counter.consultation.visit
    short = doctor.prescriptions.write(doctor.actor, visit.id, three_items()[:1], valid_days=1)
    ph = counter.pharmacist
    assert ph.pharmacy.scan(ph.actor, short.code, SCANNER).items[0].remaining == 15
    later = PharmacyService(ph.store, clock=lambda: utcnow() + timedelta(days=2))
    with pytest.raises(PrescriptionExpired):
        later.scan(ph.actor, short.code, SCANNER)


def test_a_cancelled_prescription_is_refused_with_the_reason_and_who(counter):
    doctor = counter.doctor
    doctor.prescriptions.cancel(doctor.actor, counter.rx.id, "dose too high for this patient")
    error = refused(counter, counter.rx.code, PrescriptionCancelled)
    assert "dose too high for this patient" in error.message
    assert "Dr Maya Hale" in error.message
    ph = counter.pharmacist
    with pytest.raises(PrescriptionCancelled):
        ph.pharmacy.dispense(
            ph.actor, counter.rx.code, [DispenseInput(1, counter.batches["ibuprofen_late"].id, 1)]
        )
    assert shelf(counter).on_hand["IBU-LATE"] == 100


def typos(number: str) -> Iterator[str]:
    for at in (0, 5, 11):
        for digit in "0123456789":
            if digit != number[at]:
                yield number[:at] + digit + number[at + 1 :]
    for at in range(len(number) - 1):
        if number[at] != number[at + 1]:
            yield number[:at] + number[at + 1] + number[at] + number[at + 2 :]


def test_a_mistyped_reference_is_caught_by_its_check_digits(counter):
    ph = counter.pharmacist
    before = shelf(counter)
    wrong = list(typos(counter.rx.reference))
    assert len(wrong) >= 27
    for typed in wrong:
        with pytest.raises(ValidationError) as caught:
            ph.pharmacy.look_up(ph.actor, reference.grouped(typed))
        assert "a digit is wrong or missing" in caught.value.fields["reference"], typed
    for short in (counter.rx.reference[:-1], counter.rx.reference + "7", "", "four eight two"):
        with pytest.raises(ValidationError):
            ph.pharmacy.look_up(ph.actor, short)
    assert shelf(counter) == before
    assert recorded_scans(ph) == []


def test_a_valid_reference_of_no_prescription_here_is_not_found(counter):
    ph = counter.pharmacist
    unknown = next(r for r in iter(reference.new_reference, None) if r != counter.rx.reference)
    with pytest.raises(NotFound) as caught:
        ph.pharmacy.look_up(ph.actor, unknown)
    assert "must be scanned" in caught.value.message


def test_the_typed_reference_finds_the_prescription_as_a_typed_scan(counter):
    ph = counter.pharmacist
    verdict = ph.pharmacy.look_up(ph.actor, f" {counter.rx.reference_grouped.replace(' ', '-')} ")
    assert verdict.content.prescription_id == counter.rx.id
    assert verdict.history[0].method == TYPED
    assert verdict.history[0].method_label == "Reference number"


def test_a_pharmacy_that_never_prescribes_still_refuses_a_date_set_back(tmp_path):
    """Its clock has no signing time to be checked against: the prescriptions it verifies are
    the evidence. A date before this prescription's, or before the latest one seen here, is
    refused, so setting the date back cannot make an expired prescription valid again."""
    harbour = new_clinic(tmp_path / "harbour", "Harbour Medical Centre")
    visit = walk_in_consultation(harbour)
    doctor = visit.doctor
    weeks_ago = PrescriptionService(doctor.store, clock=lambda: utcnow() - timedelta(days=20))
    older = weeks_ago.write(doctor.actor, visit.visit.id, three_items())
    today = doctor.prescriptions.write(doctor.actor, visit.visit.id, three_items())
    harbour.signing_keys.export_trust_file(harbour.actor, tmp_path / "harbour.json")
    shop = new_clinic(tmp_path / "shop", "Corner Pharmacy")
    ph = add_pharmacist(shop)
    import_trust(shop, tmp_path / "harbour.json")
    try:
        year_back = PharmacyService(ph.store, clock=lambda: utcnow() - timedelta(days=365))
        with pytest.raises(DateBehind) as caught:
            year_back.scan(ph.actor, today.code, SCANNER)
        assert f"dated {today.issued_on:%d %b %Y}" in caught.value.message
        assert recorded_scans(ph)[-1].prescription_id == today.id

        ph.pharmacy.scan(ph.actor, today.code, SCANNER)  # the right date: seen here today
        fortnight_back = PharmacyService(ph.store, clock=lambda: utcnow() - timedelta(days=15))
        with pytest.raises(DateBehind) as caught:  # the older one is in date then, but ...
            fortnight_back.scan(ph.actor, older.code, SCANNER)
        assert "has already been seen here" in caught.value.message
        assert ph.pharmacy.scan(ph.actor, older.code, SCANNER).content.prescription_id == older.id
    finally:
        ph.close()
        shop.close()
        doctor.close()
        harbour.close()

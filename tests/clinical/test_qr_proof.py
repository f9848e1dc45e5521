"""Proof the QR works: the printed code scans back to the same prescription, and an altered,
foreign, cancelled, revoked or expired code, or a clock set back, is refused with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from clinic_setup import Consultation, consultation_in_new_clinic, three_items
from PIL import Image

from clinicdesk.rx import codec
from clinicdesk.rx.errors import (
    ClockBehind,
    CodeDamaged,
    CodeRefused,
    PrescriptionCancelled,
    PrescriptionExpired,
    RevokedSigningKey,
    SignatureInvalid,
    UnknownSigningKey,
)
from clinicdesk.rx.keys import new_key_pair
from clinicdesk.rx.qr import qr_matrix
from clinicdesk.services.prescription_views import PrescriptionView
from clinicdesk.services.prescriptions import PrescriptionService
from clinicdesk.services.signing import trusted_keys
from tests.pdf_pages import page_images
from tests.trust_files import import_trust

LONDON = ZoneInfo("Europe/London")
MM_PER_INCH = 25.4


@dataclass
class Scan:
    text: str
    ec_level: str
    left: int  # pixel box of the symbol on the page, from the decoder
    top: int
    right: int
    bottom: int
    image: Image.Image


def scan(pdf: bytes, dpi: int = 150) -> list[Scan]:
    found = []
    for image in page_images(pdf, dpi, grey=True):
        for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
            p = code.position
            xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
            ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
            found.append(Scan(code.text, code.ec_level, min(xs), min(ys), max(xs), max(ys), image))
    return found


def module_mm(found: Scan, modules: int, dpi: int) -> float:
    """The printed size of one module: the dark extent of the symbol (found inside the
    decoder's box widened by two modules, which stays within the quiet zone) over its count."""
    pad = 2 * (found.right - found.left) // modules
    box = (found.left - pad, found.top - pad, found.right + pad, found.bottom + pad)
    dark = found.image.crop(box).point(lambda v: 255 if v < 128 else 0).getbbox()
    assert dark is not None
    width_px = dark[2] - dark[0]
    height_px = dark[3] - dark[1]
    return min(width_px, height_px) / modules * MM_PER_INCH / dpi


def at_london(day, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), LONDON).astimezone(UTC)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[Consultation]:
    with consultation_in_new_clinic(tmp_path_factory.mktemp("qr") / "clinic") as consultation:
        yield consultation


@pytest.fixture(scope="module")
def other_clinic(tmp_path_factory) -> Iterator[Consultation]:
    with consultation_in_new_clinic(
        tmp_path_factory.mktemp("qr-other") / "clinic", "Riverside Medical Centre"
    ) as consultation:
        yield consultation


@pytest.fixture(scope="module")
def written(clinic: Consultation) -> PrescriptionView:
    doctor = clinic.doctor
    return doctor.prescriptions.write(doctor.actor, clinic.visit.id, three_items())


@pytest.fixture
def own_clinic(tmp_path) -> Iterator[Consultation]:
    """A clinic for one test, where the test may rotate or revoke keys or move the clock."""
    with consultation_in_new_clinic(tmp_path / "clinic") as consultation:
        yield consultation


def write(c: Consultation) -> PrescriptionView:
    return c.doctor.prescriptions.write(c.doctor.actor, c.visit.id, three_items())


def verify(c: Consultation, text: str):
    return c.doctor.prescriptions.verify_code(c.doctor.actor, text)


@pytest.mark.parametrize("page_size", ["A5", "A4"])
def test_the_printed_code_scans_back_to_the_same_prescription(clinic, written, page_size):
    doctor = clinic.doctor
    pdf = doctor.prescriptions.pdf(doctor.actor, written.id, page_size)

    (found,) = scan(pdf)
    assert found.text == written.code
    assert found.ec_level == "M"

    verified = verify(clinic, found.text)
    content = verified.content
    assert content.prescription_id == written.id
    assert content.reference == written.reference
    assert content.patient_name == "Νίκος Παπαδόπουλος" == written.patient_name
    assert content.patient_born == written.patient_born
    assert content.doctor_name == "Dr Maya Hale"
    assert content.valid_until == written.valid_until
    typed = three_items()
    assert [i.drug for i in content.items] == ["Ibuprofen", "Omeprazole", "Salbutamol"]
    for item, asked in zip(content.items, typed, strict=True):
        assert (item.strength, item.dose, item.route, item.frequency) == (
            asked.strength,
            asked.dose,
            asked.route,
            asked.frequency,
        )
        assert (item.duration_days, item.quantity, item.unit, item.refills) == (
            asked.duration_days,
            asked.quantity,
            asked.unit,
            asked.refills,
        )
        assert (item.substitution, item.instructions) == (asked.substitution, asked.instructions)
    assert verified.own_clinic
    assert verified.signed_by_clinic == "Sunrise Family Clinic"
    assert verified.local is not None and verified.local.id == written.id
    assert verified.local.status == "active"


def test_three_items_fit_version_16_at_level_m(written):
    version, modules = qr_matrix(written.code)
    assert version <= 16
    assert len(modules) == 17 + 4 * version


@pytest.mark.parametrize("page_size", ["A5", "A4"])
def test_printed_modules_are_at_least_half_a_millimetre(clinic, written, page_size):
    doctor = clinic.doctor
    pdf = doctor.prescriptions.pdf(doctor.actor, written.id, page_size)
    _version, modules = qr_matrix(written.code)

    (found,) = scan(pdf, dpi=300)

    size = module_mm(found, len(modules), 300)
    assert size >= 0.5 - MM_PER_INCH / 300 / len(modules)  # one pixel of rounding
    assert size < 1.0  # the measurement is of modules, not of the whole page


def test_a_changed_digit_is_refused_as_altered(clinic, written):
    middle = len(written.code) // 2
    digit = written.code[middle]
    altered = written.code[:middle] + str((int(digit) + 1) % 10) + written.code[middle + 1 :]

    with pytest.raises((CodeDamaged, SignatureInvalid)) as refused:
        verify(clinic, altered)

    assert "altered" in refused.value.message
    doctor = clinic.doctor
    assert doctor.prescriptions.get(doctor.actor, written.id).status == "active"


def test_every_single_changed_digit_is_refused(clinic, written):
    """Wherever the scanner or a forger changes one digit, the code does not verify."""
    with clinic.doctor.store.read() as s:
        trust = trusted_keys(s)
    body = written.code[len(codec.PREFIX) :]
    reasons = set()
    for pos in range(len(body)):
        for delta in (1, 5):
            digit = str((int(body[pos]) + delta) % 10)
            altered = codec.PREFIX + body[:pos] + digit + body[pos + 1 :]
            with pytest.raises(CodeRefused) as refused:
                codec.verify(altered, trust)
            reasons.add(type(refused.value))
    assert reasons <= {CodeDamaged, SignatureInvalid, UnknownSigningKey}
    assert SignatureInvalid in reasons


def test_another_clinics_code_is_unknown_until_its_trust_file_is_imported(
    clinic, other_clinic, tmp_path
):
    theirs = write(other_clinic)

    with pytest.raises(UnknownSigningKey) as refused:
        verify(clinic, theirs.code)
    assert theirs.kid in refused.value.message
    assert "import that clinic's trust file" in refused.value.message

    trust_file = tmp_path / "riverside.trust.json"
    other_clinic.admin.signing_keys.export_trust_file(other_clinic.admin.actor, trust_file)
    (imported,) = import_trust(clinic.admin, trust_file)
    assert imported.kid == theirs.kid and not imported.own

    verified = verify(clinic, theirs.code)
    assert verified.content.prescription_id == theirs.id
    assert verified.signed_by_clinic == "Riverside Medical Centre"
    assert not verified.own_clinic and verified.local is None


def test_a_code_signed_with_a_key_nobody_trusts_is_refused(clinic, written):
    """A forger who copies the content and signs it with a key of their own."""
    content = verify(clinic, written.code).content
    forged = codec.encode(content, new_key_pair())

    with pytest.raises(UnknownSigningKey):
        verify(clinic, forged)


def test_a_cancelled_prescription_is_refused_with_the_reason(clinic):
    rx = write(clinic)
    doctor = clinic.doctor
    doctor.prescriptions.cancel(doctor.actor, rx.id, "Wrong strength prescribed")

    with pytest.raises(PrescriptionCancelled) as refused:
        verify(clinic, rx.code)

    assert refused.value.reason == "Wrong strength prescribed"
    assert "Wrong strength prescribed" in refused.value.message
    assert "Dr Maya Hale" in refused.value.message
    assert doctor.prescriptions.get(doctor.actor, rx.id).status == "cancelled"


def test_a_revoked_key_is_refused_and_the_clinic_goes_on_with_a_new_one(own_clinic):
    c = own_clinic
    old = write(c)
    keys_before = c.admin.signing_keys.list(c.admin.actor)

    c.admin.signing_keys.revoke(c.admin.actor, old.kid, "Laptop stolen")

    with pytest.raises(RevokedSigningKey) as refused:
        verify(c, old.code)
    assert old.kid in refused.value.message
    assert "Sunrise Family Clinic" in refused.value.message
    statuses = {k.kid: k.status for k in c.admin.signing_keys.list(c.admin.actor)}
    assert statuses[old.kid] == "revoked"
    assert len(statuses) == len(keys_before) + 1
    new = write(c)
    assert new.kid != old.kid and statuses[new.kid] == "active"
    assert verify(c, new.code).content.prescription_id == new.id


def test_a_rotated_key_still_verifies_old_prescriptions(own_clinic):
    c = own_clinic
    old = write(c)

    rotated = c.admin.signing_keys.rotate(c.admin.actor)

    assert verify(c, old.code).content.prescription_id == old.id
    new = write(c)
    assert new.kid == rotated.kid != old.kid
    assert verify(c, new.code).kid == rotated.kid
    statuses = {k.kid: k.status_label for k in c.admin.signing_keys.list(c.admin.actor)}
    assert statuses[new.kid] == "In use"
    assert statuses[old.kid].startswith("Retired, trusted until ")


def test_an_expired_prescription_is_refused_and_shown_expired(clinic, written):
    doctor = clinic.doctor
    later = at_london(written.valid_until + timedelta(days=1), "09:00")
    at_pharmacy = PrescriptionService(doctor.store, clock=lambda: later)

    with pytest.raises(PrescriptionExpired) as refused:
        at_pharmacy.verify_code(doctor.actor, written.code)

    assert refused.value.valid_until == written.valid_until
    assert f"{written.valid_until:%d %b %Y}" in refused.value.message
    assert at_pharmacy.get(doctor.actor, written.id).status_label == "Expired"
    # on its last valid day it is still good, and today it is active
    last_day = PrescriptionService(
        doctor.store, clock=lambda: at_london(written.valid_until, "09:00")
    )
    assert last_day.get(doctor.actor, written.id).status == "active"
    assert verify(clinic, written.code).content.prescription_id == written.id


def test_a_clock_set_back_is_refused(own_clinic):
    c = own_clinic
    doctor = c.doctor
    ahead = datetime.now(UTC) + timedelta(days=2)
    rx = PrescriptionService(doctor.store, clock=lambda: ahead).write(
        doctor.actor, c.visit.id, three_items()
    )

    # a few minutes of drift between desks is tolerated
    slightly = PrescriptionService(doctor.store, clock=lambda: ahead - timedelta(minutes=5))
    assert slightly.verify_code(doctor.actor, rx.code).content.prescription_id == rx.id
    with pytest.raises(ClockBehind) as refused:
        verify(c, rx.code)
    assert "clock is behind" in refused.value.message
    assert refused.value.latest == ahead
    with pytest.raises(ClockBehind):
        write(c)
    assert [p.id for p in doctor.prescriptions.for_visit(doctor.actor, c.visit.id)] == [rx.id]


def test_a_scan_at_a_desk_whose_clock_runs_ahead_does_not_stop_prescribing(own_clinic):
    c = own_clinic
    doctor = c.doctor
    rx = write(c)
    ahead = datetime.now(UTC) + timedelta(days=20)
    PrescriptionService(doctor.store, clock=lambda: ahead).verify_code(doctor.actor, rx.code)
    assert write(c).status == "active"
    assert verify(c, rx.code).content.prescription_id == rx.id

"""Fuzzing the prescription code decoder: whatever is scanned or typed, the answer is a verified
prescription or a CodeRefused saying why, never a crash."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import cbor2
import pytest
from clinic_setup import Consultation, new_clinic, three_items, walk_in_consultation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicdesk.rx import codec, keys
from clinicdesk.rx.dictionary import RX1_DICTIONARY
from clinicdesk.rx.errors import CodeRefused, SignatureInvalid, UnknownSigningKey
from clinicdesk.rx.keys import TrustedKey
from clinicdesk.rx.payload import (
    FREQUENCY_KINDS,
    Frequency,
    PrescriptionContent,
    RxItem,
    to_cbor,
)
from clinicdesk.services.prescription_views import PrescriptionView

KEY = keys.new_key_pair()
TRUST = {KEY.kid: TrustedKey(KEY.kid, KEY.public, "Fuzz Clinic", keys.ACTIVE)}
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

texts = st.text(max_size=24)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
frequencies = st.builds(
    Frequency,
    st.sampled_from(FREQUENCY_KINDS),
    st.integers(0, 72),
    st.lists(st.sampled_from(["08:00", "12:30", "20:00"]), max_size=3, unique=True).map(tuple),
)
items = st.builds(
    RxItem,
    drug=texts,
    strength=texts,
    form=texts,
    dose=texts,
    route=texts,
    frequency=frequencies,
    duration_days=st.integers(0, 400),
    quantity=st.integers(0, 10**6),
    unit=texts,
    refills=st.integers(0, 20),
    substitution=st.booleans(),
    instructions=texts,
)
contents = st.builds(
    PrescriptionContent,
    prescription_id=st.uuids().map(str),
    reference=st.integers(0, 10**12 - 1).map(lambda n: f"{n:012d}"),
    clinic_name=texts,
    doctor_name=texts,
    doctor_licence=texts,
    patient_name=texts,
    patient_born=days,
    issued_on=days,
    valid_until=days,
    items=st.lists(items, min_size=1, max_size=3).map(tuple),
)
cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=70),
    lambda inner: (
        st.lists(inner, max_size=12)
        | st.dictionaries(st.integers(-10, 10) | st.text(max_size=5), inner, max_size=5)
        | st.builds(cbor2.CBORTag, st.sampled_from([0, 1, 18, 24, 55799]), inner)
    ),
    max_leaves=15,
)


def deflated_digits(data: bytes) -> str:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=RX1_DICTIONARY)
    return codec.PREFIX + codec.to_digits(deflater.compress(data) + deflater.flush())


def sign1(protected: bytes, payload: bytes, signature: bytes) -> str:
    return deflated_digits(
        cbor2.dumps(cbor2.CBORTag(codec.COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    )


def signed(payload: bytes) -> str:
    """A COSE_Sign1 over any payload, genuinely signed with the trusted key."""
    protected = cbor2.dumps({1: codec.ALG_EDDSA, 4: KEY.kid})
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    return sign1(protected, payload, keys.sign(KEY.private, to_be_signed))


def decoded(text: str):
    """The decoder's answer: the content, or the refusal (anything else fails the test)."""
    try:
        return codec.verify(text, TRUST).content
    except CodeRefused as refused:
        assert refused.message
        return refused


@st.composite
def mutated(draw, original: str) -> str:
    """The code after a scanner or a person got some of it wrong."""
    body = list(original[len(codec.PREFIX) :])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["change", "insert", "delete", "truncate", "swap"]))
        at = draw(st.integers(0, max(len(body) - 1, 0)))
        if kind == "change" and body:
            body[at] = draw(st.sampled_from("0123456789").filter(lambda d, c=body[at]: d != c))
        elif kind == "insert":
            body.insert(at, draw(st.sampled_from("0123456789")))
        elif kind == "delete" and body:
            del body[at]
        elif kind == "truncate":
            body = body[:at]
        elif kind == "swap" and at + 1 < len(body):
            body[at], body[at + 1] = body[at + 1], body[at]
    return codec.PREFIX + "".join(body)


@FUZZ
@given(contents)
def test_any_content_signed_with_a_trusted_key_verifies_to_itself(content):
    assert codec.verify(codec.encode(content, KEY), TRUST).content == content


@FUZZ
@given(st.text(max_size=300))
def test_any_text_is_refused_in_words(text):
    assert isinstance(decoded(text), CodeRefused)


@FUZZ
@given(st.text(alphabet="0123456789", max_size=3000), st.sampled_from(["RX1", "rx1", " RX1"]))
def test_any_digits_behind_the_prefix_are_refused(digits, prefix):
    assert isinstance(decoded(prefix + digits), CodeRefused)


@FUZZ
@given(st.data(), contents)
def test_a_mutated_code_is_refused_or_reads_as_the_original(data, content):
    code = codec.encode(content, KEY)
    text = data.draw(mutated(code))
    result = decoded(text)
    if text != code:
        assert isinstance(result, CodeRefused)
    else:
        assert result == content


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_as_digits_are_refused(data):
    assert isinstance(decoded(codec.PREFIX + codec.to_digits(data)), CodeRefused)


@FUZZ
@given(cbor_values)
def test_any_cbor_deflated_with_the_dictionary_is_refused(value):
    assert isinstance(decoded(deflated_digits(cbor2.dumps(value))), CodeRefused)


@FUZZ
@given(cbor_values, st.binary(max_size=300), st.binary(min_size=64, max_size=64))
def test_an_envelope_with_a_forged_signature_is_refused(header, payload, signature):
    assert isinstance(decoded(sign1(cbor2.dumps(header), payload, signature)), CodeRefused)
    genuine_header = cbor2.dumps({1: codec.ALG_EDDSA, 4: KEY.kid})
    with pytest.raises(SignatureInvalid):
        codec.verify(sign1(genuine_header, payload, signature), TRUST)
    other = cbor2.dumps({1: codec.ALG_EDDSA, 4: b"\x01" * 8})
    with pytest.raises(UnknownSigningKey):
        codec.verify(sign1(other, payload, signature), TRUST)


@settings(FUZZ, max_examples=200)
@given(
    cbor_values
    | st.lists(cbor_values, min_size=11, max_size=11).map(lambda v: [1, *v[1:]])
    | st.tuples(contents, st.integers(0, 10), cbor_values).map(
        lambda c: [*(f := cbor2.loads(to_cbor(c[0])))[: c[1]], c[2], *f[c[1] + 1 :]]
    )
)
def test_a_genuinely_signed_payload_of_any_shape_is_read_whole_or_refused(fields):
    """Signed by a trusted key yet not a prescription this version reads (a newer format)."""
    result = decoded(signed(cbor2.dumps(fields)))
    assert isinstance(result, CodeRefused | PrescriptionContent)


# ---- through the pharmacy's service, on a clinic's own prescription ----


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[tuple[Consultation, PrescriptionView]]:
    admin = new_clinic(tmp_path_factory.mktemp("fuzz") / "clinic")
    consultation = walk_in_consultation(admin)
    doctor = consultation.doctor
    rx = doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items())
    yield consultation, rx
    doctor.close()
    admin.close()


def service_answer(c: Consultation, text: str):
    try:
        return c.doctor.prescriptions.verify_code(c.doctor.actor, text).content
    except CodeRefused as refused:
        assert refused.message
        return refused


@settings(FUZZ, max_examples=150)
@given(st.data())
def test_the_service_refuses_mutations_of_a_real_prescription(clinic, data):
    consultation, rx = clinic
    text = data.draw(mutated(rx.code) | st.text(max_size=200))
    result = service_answer(consultation, text)
    if text.strip() == rx.code:
        assert result.prescription_id == rx.id
    else:
        assert isinstance(result, CodeRefused)


@settings(FUZZ, max_examples=150)
@given(st.binary(max_size=1000) | cbor_values.map(cbor2.dumps))
def test_the_service_refuses_arbitrary_bytes_and_cbor(clinic, data):
    consultation, _rx = clinic
    assert isinstance(service_answer(consultation, deflated_digits(data)), CodeRefused)
    digits = codec.PREFIX + codec.to_digits(data)
    assert isinstance(service_answer(consultation, digits), CodeRefused)


def test_a_signed_but_absurd_quantity_is_refused_before_it_reaches_the_counter():
    """A trusted clinic's software gone wrong: 2^70 tablets would overflow the ledger."""
    frequency = Frequency(FREQUENCY_KINDS[0], 3)
    fine = RxItem("Ibuprofen", "400 mg", "tablet", "1 tablet", "by mouth", frequency, 5, 15, "")
    content = PrescriptionContent(
        "0190a3c4-0000-7000-8000-000000000000",
        "000000000000",
        "Harbour Medical Centre",
        "Dr Hale",
        "GMC 1234567",
        "Ola Nordmann",
        date(1980, 1, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
        (fine,),
    )
    assert decoded(signed(to_cbor(content))) == content
    absurd = replace(content, items=(replace(fine, quantity=2**70),))
    assert isinstance(decoded(signed(to_cbor(absurd))), CodeRefused)

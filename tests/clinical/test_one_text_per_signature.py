"""One signature, one code: a genuine code's envelope cannot be re-dressed into another code
text that still verifies (something put in COSE's unsigned header, or the same fields written
in a longer CBOR form). Such a code is refused as altered."""

from __future__ import annotations

import zlib
from datetime import date

import cbor2
import pytest

from clinicdesk.rx import codec, keys
from clinicdesk.rx.dictionary import RX1_DICTIONARY
from clinicdesk.rx.errors import CodeDamaged
from clinicdesk.rx.keys import TrustedKey
from clinicdesk.rx.payload import Frequency, PrescriptionContent, RxItem

KEY = keys.new_key_pair()
TRUST = {KEY.kid: TrustedKey(KEY.kid, KEY.public, "Elm Clinic", keys.ACTIVE, "elm-id")}
CONTENT = PrescriptionContent(
    prescription_id="0190c2a4-0000-7000-8000-000000000001",
    reference="123456789012",
    clinic_name="Elm Clinic",
    doctor_name="Dr Ada Elm",
    doctor_licence="GMC 1234567",
    patient_name="Ben Oak",
    patient_born=date(1980, 5, 1),
    issued_on=date(2026, 12, 1),
    valid_until=date(2026, 12, 31),
    items=(
        RxItem("Ibuprofen", "400 mg", "tablet", "1 tablet", "by mouth",
               Frequency("per_day", 3, ()), 5, 15, "tablets", 0, True, "With food."),
    ),
)  # fmt: skip


def envelope_of(code: str) -> list:
    inflater = zlib.decompressobj(-15, zdict=RX1_DICTIONARY)
    message = inflater.decompress(codec.from_digits(code[len(codec.PREFIX) :]))
    return cbor2.loads(message).value


def as_code(message: bytes) -> str:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=RX1_DICTIONARY)
    return codec.PREFIX + codec.to_digits(deflater.compress(message) + deflater.flush())


def test_a_genuine_code_verifies():
    assert codec.verify(codec.encode(CONTENT, KEY), TRUST).content == CONTENT


@pytest.mark.parametrize(
    "unprotected",
    [{"note": "anything at all"}, {4: b"\x00" * 8}, {33: [b"x" * 40]}],
    ids=["text", "a key id", "a certificate chain"],
)
def test_a_code_with_anything_in_the_unsigned_header_is_refused(unprotected):
    protected, _empty, payload, signature = envelope_of(codec.encode(CONTENT, KEY))
    fields = [protected, unprotected, payload, signature]
    redressed = as_code(cbor2.dumps(cbor2.CBORTag(codec.COSE_SIGN1_TAG, fields)))
    assert redressed != codec.encode(CONTENT, KEY)

    with pytest.raises(CodeDamaged) as refused:
        codec.verify(redressed, TRUST)
    assert "altered" in refused.value.message


def long_bstr(data: bytes) -> bytes:
    """A CBOR byte string with its length in eight bytes: the same value, a longer form."""
    return b"\x5b" + len(data).to_bytes(8, "big") + data


def test_the_same_fields_in_a_longer_cbor_form_are_refused():
    protected, _empty, payload, signature = envelope_of(codec.encode(CONTENT, KEY))
    longer = (
        b"\xd2\x84"  # tag 18, an array of four
        + long_bstr(protected)
        + b"\xa0"
        + long_bstr(payload)
        + long_bstr(signature)
    )
    assert list(cbor2.loads(longer).value) == [protected, {}, payload, signature]

    with pytest.raises(CodeDamaged):
        codec.verify(as_code(longer), TRUST)


def test_an_indefinite_length_envelope_is_refused():
    protected, _empty, payload, signature = envelope_of(codec.encode(CONTENT, KEY))
    indefinite = (
        b"\xd2\x9f"
        + b"".join(cbor2.dumps(v) for v in (protected, {}, payload, signature))
        + b"\xff"
    )
    assert list(cbor2.loads(indefinite).value) == [protected, {}, payload, signature]

    with pytest.raises(CodeDamaged):
        codec.verify(as_code(indefinite), TRUST)

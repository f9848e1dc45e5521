"""A change on the wire: what the desk sends is what the server reads, and anything malformed is
refused with a sentence that names the wrong field."""

from __future__ import annotations

import base64

import pytest

from clinicdesk.sync.protocol import (
    MIN_PAYLOAD,
    MalformedChange,
    PulledChange,
    Revoked,
    WireChange,
    certificate_fingerprint,
    error_from_json,
    same_fingerprint,
)

CHANGE = WireChange(
    op_id="0190a1b2-0000-7000-8000-000000000001",
    entity="patients",
    entity_id="0190a1b2-0000-7000-8000-00000000abcd",
    version=3,
    deleted=False,
    key_gen=1,
    payload=bytes(range(40)),
)


def test_a_change_survives_the_wire():
    wire = CHANGE.to_json()
    assert wire["payload"] == base64.b64encode(bytes(range(40))).decode()
    assert WireChange.from_json(wire) == CHANGE
    chained = {"link": "ab" * 32, "digest": "cd" * 32}
    pulled = PulledChange.from_json({**wire, "seq": 7, "device_id": "desk-1", **chained})
    assert (pulled.seq, pulled.device_id, pulled.change) == (7, "desk-1", CHANGE)
    assert (pulled.link, pulled.payload_digest) == ("ab" * 32, "cd" * 32)
    assert pulled.to_json() == {**wire, "seq": 7, "device_id": "desk-1", **chained}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("op_id", None),
        ("op_id", ""),
        ("op_id", "x" * 65),
        ("op_id", "has space"),
        ("entity", "patients; drop"),
        ("entity_id", 12),
        ("version", 0),
        ("version", True),
        ("version", "3"),
        ("version", 2**63),
        ("deleted", 0),
        ("deleted", "false"),
        ("key_gen", -1),
        ("payload", "not base64!"),
        ("payload", base64.b64encode(b"short").decode()),
        ("payload", None),
    ],
)
def test_a_malformed_change_is_refused_naming_the_field(field, value):
    wire = {**CHANGE.to_json(), field: value}
    with pytest.raises(MalformedChange, match=f"'{field}'") as caught:
        WireChange.from_json(wire)
    assert caught.value.field == field
    assert caught.value.status == 400
    assert caught.value.to_json()["error"] == "bad_request"


def test_a_missing_field_or_a_non_object_is_refused():
    wire = CHANGE.to_json()
    del wire["key_gen"]
    with pytest.raises(MalformedChange, match="'key_gen'"):
        WireChange.from_json(wire)
    with pytest.raises(MalformedChange):
        WireChange.from_json(["not", "an", "object"])


def test_a_change_made_in_code_is_checked_too():
    with pytest.raises(MalformedChange, match="'payload'"):
        WireChange("op", "patients", "p1", 1, False, 0, b"x" * (MIN_PAYLOAD - 1))
    with pytest.raises(MalformedChange, match="'payload'"):
        WireChange("op", "patients", "p1", 1, False, 0, "text")  # type: ignore[arg-type]


def test_errors_read_back_from_their_json():
    revoked = error_from_json(
        {"error": "revoked", "message": "Removed: laptop stolen", "reason": "laptop stolen"}
    )
    assert isinstance(revoked, Revoked) and revoked.reason == "laptop stolen"
    assert revoked.status == 401
    gone = error_from_json({"error": "rebootstrap", "message": "Pull again."})
    assert (gone.code, gone.status, gone.message) == ("rebootstrap", 410, "Pull again.")
    assert error_from_json("<html>").code == "server_error"


def test_fingerprints_compare_whatever_their_spacing():
    fp = certificate_fingerprint(b"certificate bytes")
    assert len(fp) == 95 and fp.count(":") == 31 and fp == fp.upper()
    assert same_fingerprint(fp, fp.replace(":", " ").lower())
    assert not same_fingerprint(fp, certificate_fingerprint(b"another certificate"))
    assert not same_fingerprint("", "")

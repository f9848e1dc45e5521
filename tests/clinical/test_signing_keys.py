"""Signing keys: one per clinic from the start, rotated and revoked by admins, shared with
outside pharmacies as a trust file; a bad trust file imports nothing, and a revocation is
never undone by an older file."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from clinic_setup import (
    Consultation,
    consultation_in_new_clinic,
    new_clinic,
    three_items,
    walk_in_consultation,
)

from clinicdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinicdesk.permissions import Role
from clinicdesk.rx.errors import RevokedSigningKey, UnknownSigningKey
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.signing import BadTrustFile
from tests.trust_files import good_key, import_trust, trust, write_json


@pytest.fixture(scope="module")
def issuer(tmp_path_factory) -> Iterator[Consultation]:
    """The clinic whose prescriptions a pharmacy elsewhere checks."""
    with consultation_in_new_clinic(
        tmp_path_factory.mktemp("issuer") / "clinic", "Harbour Health Centre"
    ) as consultation:
        yield consultation


@pytest.fixture(scope="module")
def pharmacy(tmp_path_factory) -> Iterator[tuple[ClinicSession, ClinicSession]]:
    """Another clinic's admin and its pharmacist."""
    folder = tmp_path_factory.mktemp("pharmacy") / "clinic"
    admin = new_clinic(folder, "Riverside Pharmacy Clinic")
    admin.users.create(
        admin.actor, "pharma", "Pia Pharm", {Role.PHARMACIST}, "staff password 1",
        must_change_password=False,
    )  # fmt: skip
    pharmacist = sign_in(admin.folder, "pharma", "staff password 1")
    yield admin, pharmacist
    pharmacist.close()
    admin.close()


def keys_of(session: ClinicSession) -> dict[str, tuple[str, bool, str]]:
    return {
        k.kid: (k.status, k.own, k.clinic_name) for k in session.signing_keys.list(session.actor)
    }


def test_a_clinic_has_a_signing_key_in_use_from_the_start(issuer):
    admin = issuer.admin
    (key,) = admin.signing_keys.list(admin.actor)
    assert (key.status, key.status_label, key.own) == ("active", "In use", True)
    assert key.clinic_name == "Harbour Health Centre"
    assert len(bytes.fromhex(key.kid)) == 8


def test_the_trust_file_carries_the_public_keys_to_another_clinic(issuer, pharmacy, tmp_path):
    admin, pharmacist = pharmacy
    rx = issuer.doctor.prescriptions.write(issuer.doctor.actor, issuer.visit.id, three_items())
    path = tmp_path / "harbour.json"
    with pytest.raises(UnknownSigningKey):
        pharmacist.prescriptions.verify_code(pharmacist.actor, rx.code)

    exported = issuer.admin.signing_keys.export_trust_file(issuer.admin.actor, path)

    document = json.loads(path.read_text(encoding="utf-8"))
    assert exported == len(document["keys"]) == 1
    assert document["clinic_name"] == "Harbour Health Centre"
    assert "private" not in path.read_text(encoding="utf-8")
    (imported,) = import_trust(admin, path)
    assert (imported.kid, imported.own, imported.status) == (rx.kid, False, "active")
    assert keys_of(admin)[rx.kid] == ("active", False, "Harbour Health Centre")
    verified = pharmacist.prescriptions.verify_code(pharmacist.actor, rx.code)
    assert verified.content.prescription_id == rx.id
    assert verified.signed_by_clinic == "Harbour Health Centre"
    # importing the same file again changes nothing
    assert import_trust(admin, path) == []


BAD_FILES = [
    ("not json", "it cannot be read as one"),
    (["a", "list"], "its format is not named"),
    (trust(good_key(), format="something-else"), "its format is not named"),
    (trust(good_key(), clinic_name="  "), "it names no clinic"),
    (trust(good_key(), {"kid": "00", "public_key": "!!notbase64", "status": "active"}),
     "a key in it is malformed"),
    (trust({"kid": "00", "public_key": base64.b64encode(b"short").decode(), "status": "active"}),
     "a key in it is malformed"),
    (trust(good_key() | {"kid": "0011223344556677"}), "a key's id or status does not match it"),
    (trust(good_key() | {"status": "trusted"}), "a key's id or status does not match it"),
    (trust(), "it holds no keys"),
    (trust(keys=5), "it holds no list of keys"),
    (trust(keys={"kid": "00"}), "it holds no list of keys"),
    (trust(keys=None), "it holds no list of keys"),
    (trust(good_key(), clinic_id=""),
     "it names no clinic id; ask the clinic for a trust file made now"),
    (trust(good_key(), clinic_id=None),
     "it names no clinic id; ask the clinic for a trust file made now"),
    (trust("not a key", 7), "a key in it is malformed"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "why"), BAD_FILES)
def test_a_malformed_trust_file_imports_nothing(pharmacy, tmp_path, content, why):
    admin, _pharmacist = pharmacy
    path = tmp_path / "elm.trust.json"
    if isinstance(content, str):
        path.write_bytes(b"\xff\xfe" + content.encode())
    else:
        write_json(path, content)
    before = keys_of(admin)

    with pytest.raises(BadTrustFile) as refused:
        admin.signing_keys.read_trust_file(admin.actor, path)

    assert refused.value.message == (
        f"elm.trust.json is not a ClinicDesk trust file ({why}); nothing was imported."
    )
    assert keys_of(admin) == before


def test_a_missing_trust_file_is_refused_in_words(pharmacy, tmp_path):
    admin, _pharmacist = pharmacy
    with pytest.raises(BadTrustFile) as refused:
        admin.signing_keys.read_trust_file(admin.actor, tmp_path / "gone.json")
    assert "gone.json is not a ClinicDesk trust file" in refused.value.message


def test_a_revocation_is_not_undone_by_an_older_file(pharmacy, tmp_path):
    admin, _pharmacist = pharmacy
    key = good_key()
    older = write_json(tmp_path / "older.json", trust(key))
    newer = write_json(tmp_path / "newer.json", trust(key | {"status": "revoked"}))
    import_trust(admin, older)

    (changed,) = import_trust(admin, newer)
    assert changed.status == "revoked"

    assert import_trust(admin, older) == []
    assert keys_of(admin)[key["kid"]] == ("revoked", False, "Elm Clinic")


def test_a_revoked_key_reaches_the_pharmacy_through_the_trust_file(pharmacy, tmp_path):
    admin, pharmacist = pharmacy
    clinic = walk_in_consultation(new_clinic(tmp_path / "oak", "Oak Lane Surgery"))
    try:
        doctor = clinic.doctor
        rx = doctor.prescriptions.write(doctor.actor, clinic.visit.id, three_items())
        before = clinic.admin.signing_keys.export_trust_file(
            clinic.admin.actor, tmp_path / "before.json"
        )
        import_trust(admin, tmp_path / "before.json")
        clinic.admin.signing_keys.revoke(clinic.admin.actor, rx.kid, "Key copied to a USB stick")
        after = clinic.admin.signing_keys.export_trust_file(
            clinic.admin.actor, tmp_path / "after.json"
        )
        assert (before, after) == (1, 2)  # the revoked key and its successor

        import_trust(admin, tmp_path / "after.json")
        import_trust(admin, tmp_path / "before.json")

        with pytest.raises(RevokedSigningKey) as refused:
            pharmacist.prescriptions.verify_code(pharmacist.actor, rx.code)
        assert "Oak Lane Surgery has revoked" in refused.value.message
        new = doctor.prescriptions.write(doctor.actor, clinic.visit.id, three_items())
        assert pharmacist.prescriptions.verify_code(pharmacist.actor, new.code).kid == new.kid
    finally:
        clinic.doctor.close()
        clinic.admin.close()


def test_revoking_needs_a_reason_and_a_known_key_once(pharmacy):
    admin, _pharmacist = pharmacy
    (own,) = [k for k, (_s, mine, _c) in keys_of(admin).items() if mine]

    with pytest.raises(ValidationError) as no_reason:
        admin.signing_keys.revoke(admin.actor, own, " ")
    assert no_reason.value.fields == {"reason": "say why the key is revoked"}
    with pytest.raises(NotFound):
        admin.signing_keys.revoke(admin.actor, "00" * 8, "Unknown")
    assert keys_of(admin)[own][0] == "active"

    admin.signing_keys.revoke(admin.actor, own, "Compromised")
    with pytest.raises(Conflict) as twice:
        admin.signing_keys.revoke(admin.actor, own, "Again")
    assert twice.value.message == "That key is already revoked."
    statuses = sorted(status for status, mine, _c in keys_of(admin).values() if mine)
    assert statuses == ["active", "revoked"]


def test_a_pharmacist_neither_imports_trust_files_nor_manages_keys(pharmacy, tmp_path):
    admin, pharmacist = pharmacy
    pine = trust(good_key(), clinic_id="pine-clinic-id", clinic_name="Pine Clinic")
    path = write_json(tmp_path / "pine.json", pine)
    trust_file = admin.signing_keys.read_trust_file(admin.actor, path)
    before = keys_of(admin)
    with pytest.raises(PermissionDenied):
        pharmacist.signing_keys.read_trust_file(pharmacist.actor, path)
    with pytest.raises(PermissionDenied):
        pharmacist.signing_keys.import_trust_file(pharmacist.actor, trust_file)
    assert keys_of(admin) == before
    with pytest.raises(PermissionDenied):
        pharmacist.signing_keys.rotate(pharmacist.actor)
    with pytest.raises(PermissionDenied):
        pharmacist.signing_keys.export_trust_file(pharmacist.actor, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()

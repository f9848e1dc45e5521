"""Importing another clinic's trust file is an administrator's act in two steps: the file is read
and each key's fingerprint shown, to be checked against the fingerprints the issuing clinic reads
out from its own Admin → Signing keys; only then is it imported. A file speaks for its own clinic
only: it cannot take this clinic's name or a trusted clinic's, and it cannot revoke a key of
another clinic or of this one."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from clinic_setup import Consultation, consultation_in_new_clinic, new_clinic, three_items

from clinicdesk.errors import PermissionDenied
from clinicdesk.permissions import Role
from clinicdesk.rx import keys
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.signing import (
    BadTrustFile,
    TrustFile,
    TrustFileKey,
    TrustFileRefused,
    active_key,
    signing_kek,
)
from tests.trust_files import import_trust

OUR_NAME = "Sunrise Family Clinic"  # tests/conftest.py's


@pytest.fixture
def ours(tmp_path: Path) -> Iterator[Consultation]:
    """This clinic: its admin, a doctor and a walk-in visit."""
    with consultation_in_new_clinic(tmp_path / "ours") as consultation:
        yield consultation


@pytest.fixture
def harbour(tmp_path: Path) -> Iterator[ClinicSession]:
    """Another clinic, whose trust file this clinic imports."""
    clinic = new_clinic(tmp_path / "harbour", "Harbour Medical Centre")
    clinic.signing_keys.export_trust_file(clinic.actor, tmp_path / "harbour.cdtrust")
    yield clinic
    clinic.close()


def keys_here(session: ClinicSession) -> dict[str, str]:
    return {k.kid: k.status for k in session.signing_keys.list(session.actor)}


def forged_file(path: Path, name: str, clinic_id: str, *listed: tuple[bytes, str]) -> Path:
    """A trust file in the right shape, saying whatever its maker likes."""
    document = {
        "format": "clinicdesk-trust",
        "version": 1,
        "clinic_id": clinic_id,
        "clinic_name": name,
        "keys": [
            {
                "kid": keys.key_id(public).hex(),
                "public_key": base64.b64encode(public).decode(),
                "status": status,
            }
            for public, status in listed
        ],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def public_key_in_use(session: ClinicSession) -> bytes:
    with session.store.read() as s:
        return active_key(s, signing_kek(session.store)).public


def a_new_key() -> tuple[bytes, str]:
    return keys.new_key_pair().public, "active"


def test_a_pharmacist_cannot_import_a_trust_file(ours, harbour, tmp_path):
    admin = ours.admin
    admin.users.create(
        admin.actor, "pharma", "Pia Pharm", {Role.PHARMACIST}, "staff password 1",
        must_change_password=False,
    )  # fmt: skip
    pharmacist = sign_in(admin.folder, "pharma", "staff password 1")
    try:
        before = keys_here(admin)
        with pytest.raises(PermissionDenied):
            import_trust(pharmacist, tmp_path / "harbour.cdtrust")
        assert keys_here(admin) == before
    finally:
        pharmacist.close()


def test_reading_a_file_shows_the_fingerprints_the_issuing_clinic_reads_out(
    ours, harbour, tmp_path
):
    admin = ours.admin
    (theirs,) = harbour.signing_keys.list(harbour.actor)
    before = keys_here(admin)

    read = admin.signing_keys.read_trust_file(admin.actor, tmp_path / "harbour.cdtrust")

    assert (read.clinic_name, read.clinic_id) == (
        "Harbour Medical Centre",
        harbour.store.clinic_id(),
    )
    assert [k.fingerprint for k in read.keys] == [theirs.fingerprint]
    groups = theirs.fingerprint.split(" ")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)  # 128 bits, read in groups
    assert theirs.fingerprint.replace(" ", "").startswith(theirs.kid)
    assert not read.known_clinic
    assert keys_here(admin) == before  # nothing is trusted before the admin confirms

    (imported,) = admin.signing_keys.import_trust_file(admin.actor, read)
    assert (imported.kid, imported.fingerprint) == (theirs.kid, theirs.fingerprint)


@pytest.mark.parametrize("name", [OUR_NAME, "  sunrise FAMILY   clinic ", "Sunrisе Family Clinic"])
def test_a_file_that_takes_this_clinics_name_is_refused(ours, tmp_path, name):
    admin = ours.admin
    before = keys_here(admin)
    path = forged_file(tmp_path / "sunrise.cdtrust", name, "some-other-clinic-id", a_new_key())

    with pytest.raises(TrustFileRefused) as refused:
        import_trust(admin, path)

    assert refused.value.message == (
        f"sunrise.cdtrust was not imported: it names its clinic {name.strip()!r}, which is this "
        "clinic's own name. Nothing was changed."
    )
    assert keys_here(admin) == before


def test_a_file_that_takes_a_trusted_clinics_name_is_refused(ours, harbour, tmp_path):
    admin = ours.admin
    import_trust(admin, tmp_path / "harbour.cdtrust")
    before = keys_here(admin)
    path = forged_file(tmp_path / "x.cdtrust", "HARBOUR medical centre", "impostor-id", a_new_key())

    with pytest.raises(TrustFileRefused) as refused:
        import_trust(admin, path)

    assert "another clinic trusted here is named 'Harbour Medical Centre'" in refused.value.message
    assert keys_here(admin) == before


def test_a_file_cannot_revoke_another_clinics_key(ours, harbour, tmp_path):
    admin = ours.admin
    import_trust(admin, tmp_path / "harbour.cdtrust")
    (harbour_key,) = harbour.signing_keys.list(harbour.actor)
    public = public_key_in_use(harbour)
    path = forged_file(
        tmp_path / "elm.cdtrust", "Elm Clinic", "elm-clinic-id", a_new_key(), (public, "revoked")
    )

    with pytest.raises(TrustFileRefused) as refused:
        import_trust(admin, path)

    assert f"it lists key {harbour_key.fingerprint}, which belongs to Harbour Medical Centre" in (
        refused.value.message
    )
    assert keys_here(admin)[harbour_key.kid] == "active"


def test_a_file_cannot_revoke_this_clinics_own_key(ours, tmp_path):
    admin, doctor = ours.admin, ours.doctor
    rx = doctor.prescriptions.write(doctor.actor, ours.visit.id, three_items())
    public = public_key_in_use(admin)
    path = forged_file(
        tmp_path / "elm.cdtrust", "Elm Clinic", "elm-clinic-id", a_new_key(), (public, "revoked")
    )

    with pytest.raises(TrustFileRefused) as refused:
        import_trust(admin, path)

    assert "it lists this clinic's own key" in refused.value.message
    assert keys_here(admin)[rx.kid] == "active"
    verified = doctor.prescriptions.verify_code(doctor.actor, rx.code)
    assert verified.own_clinic and verified.content.prescription_id == rx.id


def test_a_key_whose_id_does_not_match_it_is_refused_at_import_too(ours):
    """What is imported is checked again, not only when the file was read."""
    admin = ours.admin
    public, _status = a_new_key()
    mismatched = TrustFileKey(keys.key_id(keys.new_key_pair().public).hex(), public, "active", None)
    before = keys_here(admin)

    with pytest.raises(BadTrustFile):
        admin.signing_keys.import_trust_file(
            admin.actor, TrustFile("elm.cdtrust", "Elm Clinic", "elm-id", (mismatched,))
        )
    assert keys_here(admin) == before

"""A key taken out of use keeps no secret and has an end: retiring or revoking a key clears its
private half from the database; a retired key is trusted for the longest validity a prescription
can have after its retirement, then not; a code dated after its key's retirement is refused.

The attack: a copy of the clinic's key taken while it was in use (an old backup, a laptop)
signs backdated prescriptions, valid for years, long after the clinic moved to a new key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from clinic_setup import Consultation, consultation_in_new_clinic, new_clinic, three_items
from sqlalchemy import select, text

from clinicdesk.ids import utcnow
from clinicdesk.rx import codec, reference
from clinicdesk.rx.errors import RetiredSigningKey
from clinicdesk.rx.keys import KeyPair
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.prescriptions import MAX_VALID_DAYS, PrescriptionService
from clinicdesk.services.signing import active_key, signing_kek
from clinicdesk.store import migrate
from clinicdesk.store.models import SigningKey
from tests.clinic_time import clinic_today
from tests.trust_files import import_trust

LONDON = ZoneInfo("Europe/London")  # tests/conftest.py's clinics


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Consultation]:
    with consultation_in_new_clinic(tmp_path / "clinic") as consultation:
        yield consultation


def copied_key(session: ClinicSession) -> KeyPair:
    """The key in use, as a copy of the database taken today and the signing-key key of a
    doctor's or administrator's slot would give it."""
    with session.store.read() as s:
        return active_key(s, signing_kek(session.store))


def private_halves(session: ClinicSession) -> dict[str, bytes | None]:
    with session.store.read() as s:
        return {r.kid: r.private_key for r in s.scalars(select(SigningKey))}


def backdated(c: Consultation, key: KeyPair, issued_on: date) -> str:
    """A new prescription signed with ``key``, dated ``issued_on`` and valid for years."""
    rx = c.doctor.prescriptions.write(c.doctor.actor, c.visit.id, three_items())
    content = c.doctor.prescriptions.verify_code(c.doctor.actor, rx.code).content
    forged = replace(
        content,
        prescription_id=str(uuid.uuid4()),
        reference=reference.new_reference(),
        issued_on=issued_on,
        valid_until=issued_on + timedelta(days=3 * 365),
    )
    return codec.encode(forged, key)


def on(session: ClinicSession, day: date) -> PrescriptionService:
    """The prescription service of ``session`` with its clock at noon on ``day`` (today or
    later), or now where today's noon has passed: a desk refuses a clock behind a moment it has
    already seen, such as the signing a moment ago."""
    moment = max(datetime.combine(day, time(12), LONDON).astimezone(UTC), utcnow())
    return PrescriptionService(session.store, clock=lambda: moment)


def test_retiring_or_revoking_a_key_clears_its_private_half(clinic):
    admin = clinic.admin
    (first,) = private_halves(admin)
    admin.signing_keys.rotate(admin.actor)
    (second,) = set(private_halves(admin)) - {first}
    admin.signing_keys.revoke(admin.actor, second, "The laptop holding it was stolen")

    halves = private_halves(admin)
    (third,) = set(halves) - {first, second}
    assert halves[first] is None
    assert halves[second] is None
    assert halves[third] is not None
    statuses = {k.kid: k.status for k in admin.signing_keys.list(admin.actor)}
    assert statuses == {first: "retired", second: "revoked", third: "active"}


def test_a_retired_key_is_trusted_for_the_longest_validity_then_not(clinic):
    admin, doctor = clinic.admin, clinic.doctor
    today = clinic_today(admin)
    copy = copied_key(admin)
    admin.signing_keys.rotate(admin.actor)
    (retired,) = [k for k in admin.signing_keys.list(admin.actor) if k.kid == copy.kid.hex()]
    assert retired.retired_on == today
    assert retired.trusted_until == today + timedelta(days=MAX_VALID_DAYS)
    code = backdated(clinic, copy, today)

    last_day = today + timedelta(days=MAX_VALID_DAYS)
    assert on(doctor, last_day).verify_code(doctor.actor, code).kid == copy.kid.hex()
    with pytest.raises(RetiredSigningKey) as refused:
        on(doctor, last_day + timedelta(days=1)).verify_code(doctor.actor, code)
    assert refused.value.message == (
        f"This prescription was signed with a key Sunrise Family Clinic retired on "
        f"{today:%d %b %Y}; no prescription signed with it is valid any more. Do not dispense; "
        "the patient needs a new prescription."
    )


def test_a_code_dated_after_its_keys_retirement_is_refused(clinic):
    admin, doctor = clinic.admin, clinic.doctor
    today = clinic_today(admin)
    copy = copied_key(admin)
    admin.signing_keys.rotate(admin.actor)
    tomorrow = today + timedelta(days=1)
    code = backdated(clinic, copy, tomorrow)

    with pytest.raises(RetiredSigningKey) as refused:
        on(doctor, tomorrow).verify_code(doctor.actor, code)
    assert refused.value.message == (
        f"This prescription is dated {tomorrow:%d %b %Y}, after Sunrise Family Clinic retired "
        f"the key that signed it on {today:%d %b %Y}: it may be forged. Do not dispense; ask "
        "the clinic."
    )
    # a prescription signed before the rotation is still good
    assert on(doctor, today).verify_code(doctor.actor, backdated(clinic, copy, today))


def test_a_pharmacy_elsewhere_learns_the_retirement_date_from_the_trust_file(clinic, tmp_path):
    admin = clinic.admin
    today = clinic_today(admin)
    copy = copied_key(admin)
    admin.signing_keys.rotate(admin.actor)
    code = backdated(clinic, copy, today)
    admin.signing_keys.export_trust_file(admin.actor, tmp_path / "sunrise.cdtrust")
    pharmacy = new_clinic(tmp_path / "pharmacy", "Quayside Pharmacy Clinic")
    try:
        import_trust(pharmacy, tmp_path / "sunrise.cdtrust")
        (retired,) = [
            k for k in pharmacy.signing_keys.list(pharmacy.actor) if k.kid == copy.kid.hex()
        ]
        assert (retired.status, retired.retired_on) == ("retired", today)

        last_day = today + timedelta(days=MAX_VALID_DAYS)
        assert on(pharmacy, last_day).verify_code(pharmacy.actor, code)
        with pytest.raises(RetiredSigningKey):
            on(pharmacy, last_day + timedelta(days=1)).verify_code(pharmacy.actor, code)
    finally:
        pharmacy.close()


def test_migration_0006_clears_the_private_halves_of_keys_out_of_use(clinic):
    """A clinic from before (0005) kept its retired key's private half: the upgrade clears it
    and dates the retirement from when it happened."""
    admin = clinic.admin
    today = clinic_today(admin)
    copy = copied_key(admin)
    admin.signing_keys.rotate(admin.actor)
    config = migrate.alembic_config()
    with admin.store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
        conn.execute(
            text("UPDATE signing_keys SET private_key = :p WHERE kid = :k"),
            {"p": copy.private, "k": copy.kid.hex()},
        )

    assert migrate.upgrade(admin.store)

    assert private_halves(admin)[copy.kid.hex()] is None
    (retired,) = [k for k in admin.signing_keys.list(admin.actor) if k.kid == copy.kid.hex()]
    assert retired.retired_on in (today, today - timedelta(days=1))  # UTC date of the change

"""This workstation's witness stays small and private; the daily digest checks the log by hand."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinicdesk.errors import ValidationError
from clinicdesk.services.audit_log import AuditService
from clinicdesk.store.audit import Anchor
from clinicdesk.store.audit_witness import LocalWitness
from tests.store.audit_attacks import newest_seq, register, rewrite_and_rechain, with_the_key

CLINIC = "0190f5d2-7b1a-7c3e-9a4b-5d6e7f8a9b0c"


def test_the_witness_keeps_the_newest_anchor_and_one_a_day_for_a_year(tmp_path: Path):
    witness = LocalWitness(tmp_path / "state")
    start = datetime(2025, 1, 1, 8, tzinfo=UTC)
    for i in range(2 * 400):  # two anchors a day for 400 days
        witness.record(CLINIC, Anchor(i + 1, f"{i:064x}", start + timedelta(hours=12 * i)))
    kept = witness.anchors(CLINIC)
    assert kept[-1].seq == 2 * 400
    assert 360 <= len(kept) <= 368
    assert kept[0].at >= kept[-1].at - timedelta(days=366)
    assert len({a.at.date() for a in kept}) == len(kept)  # one a day
    path = witness.path(CLINIC)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_size < 64 * 1024


def test_a_clinic_id_that_is_not_an_id_names_no_other_file(tmp_path: Path):
    from clinicdesk.errors import StoreError

    with pytest.raises(StoreError):
        LocalWitness(tmp_path).path("../../keyslots")


def test_while_working_the_head_is_recorded_every_few_minutes_not_on_every_commit(
    admin, tmp_path: Path
):
    now = [datetime(2026, 12, 3, 14, 2, tzinfo=UTC)]
    witness = LocalWitness(tmp_path / "state")
    service = AuditService(admin.store, witness, clock=lambda: now[0])
    clinic_id = admin.store.clinic_id()
    service.anchor(admin.actor)
    first = newest_seq(admin.store)
    register(admin, n=3)
    now[0] += timedelta(minutes=4)
    register(admin)
    assert [a.seq for a in witness.anchors(clinic_id)] == [first]
    now[0] += timedelta(minutes=2)
    register(admin, family="Later")
    assert [a.seq for a in witness.anchors(clinic_id)] == [newest_seq(admin.store)]


def test_a_damaged_witness_is_named_and_starts_again(admin):
    path = LocalWitness().path(admin.store.clinic_id())
    path.write_text("{not json")
    report = admin.audit.verify(admin.actor)
    assert not report.intact
    assert report.problems[-1].startswith("This workstation's record of the audit log (")
    assert "is damaged" in report.problems[-1]
    admin.audit.anchor(admin.actor)
    assert admin.audit.verify(admin.actor).intact


def test_todays_digest_matches_the_live_log(admin):
    register(admin)
    digest = admin.audit.digest(admin.actor)
    assert digest is not None and digest.seq == newest_seq(admin.store)
    assert digest.text.startswith(f"Entry {digest.seq} of ")
    assert len(digest.code) == 19 and digest.code.count("-") == 3
    check = admin.audit.check_digest(admin.actor, digest.text)
    assert check.matches and check.message.startswith("The digest matches")
    typed = f"{digest.seq} {digest.code.replace('-', ' ').lower().replace('o', '0')}"
    assert admin.audit.check_digest(admin.actor, typed).matches


def test_a_digest_written_down_before_a_rewrite_no_longer_matches(clinic_dir):
    from clinicdesk.services.access import sign_in
    from tests.conftest import ADMIN_PASSWORD

    folder = clinic_dir[0]
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=2)
    written_down = s.audit.digest(s.actor).text
    s.close()
    with with_the_key(folder) as store:
        rewrite_and_rechain(store, 2, "Somebody Else")
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        check = s.audit.check_digest(s.actor, written_down)
    finally:
        s.close()
    assert not check.matches
    assert "does not match" in check.message and "rewritten" in check.message


@pytest.mark.parametrize(
    "typed", ["", "K7QF-3M2A-XZQP-LR4T", "12 K7QF-3M2A-XZQP", "12 K7QF-3M2A-XZQP-LR9T"]
)
def test_a_mistyped_digest_is_refused_in_words_and_changes_nothing(admin, typed):
    before = newest_seq(admin.store)
    with pytest.raises(ValidationError) as refused:
        admin.audit.check_digest(admin.actor, typed)
    assert refused.value.message.startswith("Please correct: Digest: ")
    assert newest_seq(admin.store) == before

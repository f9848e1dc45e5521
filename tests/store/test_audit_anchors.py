"""The audit chain anchored outside the database: a rewrite with the real key is caught.

Someone with the database key can change an entry and recompute every hash after it and the
head, so the chain alone checks out. This workstation's witness, a backup's manifest and a
digest written down keep the head where the key does not reach.
"""

from __future__ import annotations

from sqlalchemy import delete

from clinicdesk.services.access import sign_in
from clinicdesk.store.models import AuditEntry, Meta
from tests.conftest import ADMIN_PASSWORD
from tests.store.audit_attacks import (
    chain_alone,
    cut_tail,
    newest_seq,
    register,
    rewrite_and_rechain,
    seq_of,
    with_the_key,
)


def test_a_rewritten_log_with_every_hash_recomputed_fails_against_this_workstation(clinic_dir):
    folder = clinic_dir[0]
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=3)
    s.close()  # signing out gives this workstation the head
    with with_the_key(folder) as store:
        seen = newest_seq(store)
        rewrite_and_rechain(store, seq_of(store, "patient.register"), "Somebody Else")
        assert chain_alone(store).intact  # the chain by itself cannot tell

    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        report = s.audit.verify(s.actor)
    finally:
        s.close()
    assert not report.intact
    (problem,) = report.problems
    assert problem.startswith(f"The audit log no longer holds entry {seen} as it was when this ")
    assert "workstation saw it on " in problem and "rewritten" in problem


def test_deleting_the_head_while_entries_exist_fails(admin):
    register(admin)
    with admin.store.write() as s:
        s.execute(delete(Meta).where(Meta.key == "audit_head"))
    report = chain_alone(admin.store)
    assert not report.intact
    assert "head record is missing" in report.problems[0]


def test_a_head_set_back_behind_the_newest_entry_fails(admin):
    register(admin, n=2)
    newest = newest_seq(admin.store)
    with admin.store.write() as s:
        s.get(Meta, "audit_head").value = f"{newest - 1}:{s.get(AuditEntry, newest - 1).hash}"
    report = chain_alone(admin.store)
    assert not report.intact
    assert f"names entry {newest - 1}, but the log goes on to entry {newest}" in report.problems[0]


def test_a_cut_off_tail_with_the_head_rewritten_fails_against_this_workstation(clinic_dir):
    folder = clinic_dir[0]
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=4)
    s.close()
    with with_the_key(folder) as store:
        seen = newest_seq(store)
        kept = seq_of(store, "patient.register")
        cut_tail(store, kept)
        assert chain_alone(store).intact  # the head agrees with the shortened log

    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        report = s.audit.verify(s.actor)
    finally:
        s.close()
    assert not report.intact
    # signing in appended an entry after the cut, so the log now ends one further on
    assert f"it had reached entry {seen} when this workstation saw it" in report.problems[0]

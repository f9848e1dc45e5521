"""Backups carry the audit head; a restore starts a new epoch instead of raising a false alarm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinicdesk.errors import StoreError
from clinicdesk.services.access import restore, sign_in
from clinicdesk.store import backup
from clinicdesk.store.audit_witness import LocalWitness
from tests.conftest import ADMIN_PASSWORD
from tests.store.audit_attacks import (
    chain_alone,
    newest_seq,
    register,
    rewrite_and_rechain,
    seq_of,
    with_the_key,
)


def _other_desk(folder: Path, state: Path, command: str) -> dict:
    """The same clinic from another desk: a separate process with its own state folder."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.store.audit_desk_child", str(folder), command],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if command == "verify" else {}


def test_a_rewrite_since_a_backup_is_named_against_that_backup(clinic_dir, tmp_path: Path):
    folder = clinic_dir[0]
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=2)
    made = s.backup(tmp_path / "monday.cdbak").path
    s.close()
    head = backup.manifest_anchor(backup.read_manifest(made), made.name)
    assert head is not None
    with with_the_key(folder) as store:
        rewrite_and_rechain(store, seq_of(store, "patient.register"), "Somebody Else")
        assert chain_alone(store).intact
        clinic_id = store.clinic_id()
    LocalWitness().path(clinic_id).unlink()  # this workstation's record is gone too

    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        report = s.audit.verify(s.actor, against_backup=made)
    finally:
        s.close()
    assert report.problems == [
        f"The audit log no longer holds entry {head.seq} as it was when the backup monday.cdbak "
        f"was made on {report.problems[0].split(' was made on ')[1]}"
    ]
    assert report.problems[0].endswith("the log was rewritten since.")


def test_a_correct_clinic_verifies_against_this_workstation_and_its_backups(
    clinic_dir, tmp_path: Path
):
    folder = clinic_dir[0]
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=2)
    made = s.backup(tmp_path / "a.cdbak").path
    register(s, n=2, family="Later")
    s.close()
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        report = s.audit.verify(s.actor, against_backup=made)
    finally:
        s.close()
    assert report.intact, report.problems
    assert report.notes == []
    assert report.anchors >= 2  # the backup's, and this workstation's


def test_a_restore_to_an_older_backup_raises_no_alarm_on_any_desk(clinic_dir, tmp_path: Path):
    folder, setup = clinic_dir
    desk_b = tmp_path / "desk-b-state"
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=2)
    made = s.backup(tmp_path / "a.cdbak").path
    register(s, n=3, family="Later")  # history the restore will replace
    s.close()
    _other_desk(folder, desk_b, "visit")  # desk B saw that later history

    restore(made, folder, None, setup.recovery_key)

    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        here = s.audit.verify(s.actor)
    finally:
        s.close()
    there = _other_desk(folder, desk_b, "verify")
    for report in (here.problems, there["problems"]):
        assert report == []
    (note,) = here.notes
    assert note.startswith("Restored on ") and " from a backup made on " in note
    assert "when this workstation saw it" in note
    assert there["notes"][0].startswith("Restored on ")


def test_a_cut_after_a_restore_is_still_caught(clinic_dir, tmp_path: Path):
    folder, setup = clinic_dir
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    made = s.backup(tmp_path / "a.cdbak").path
    s.close()
    restore(made, folder, None, setup.recovery_key)
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=3)
    s.close()
    with with_the_key(folder) as store:
        rewrite_and_rechain(store, newest_seq(store) - 2, "Somebody Else")
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        report = s.audit.verify(s.actor)
    finally:
        s.close()
    assert not report.intact
    assert "this workstation saw it" in report.problems[0]


def test_a_backup_whose_manifest_head_was_changed_is_not_restored(clinic_dir, tmp_path: Path):
    import zipfile

    folder, setup = clinic_dir
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    made = s.backup(tmp_path / "a.cdbak").path
    s.close()
    forged = tmp_path / "forged.cdbak"
    with zipfile.ZipFile(made) as zin, zipfile.ZipFile(forged, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == backup.MANIFEST:
                manifest = json.loads(data)
                manifest["audit_head"]["hash"] = "0" * 64
                data = json.dumps(manifest).encode()
            zout.writestr(name, data)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())
    with pytest.raises(StoreError) as refused:
        restore(forged, folder, None, setup.recovery_key)
    assert refused.value.message.startswith("The backup's audit log does not verify: ")
    assert "when the backup forged.cdbak was made" in refused.value.message
    assert sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()) == before


def test_the_audit_verify_command_checks_against_a_backup(clinic_dir, tmp_path: Path):
    folder = clinic_dir[0]
    s = sign_in(folder, "admin", ADMIN_PASSWORD)
    register(s, n=2)
    made = s.backup(tmp_path / "tuesday.cdbak").path
    s.close()
    with with_the_key(folder) as store:
        rewrite_and_rechain(store, seq_of(store, "patient.register"), "Somebody Else")
    command = ["audit-verify", "--backup", str(made)]
    out = subprocess.run(
        [sys.executable, "-m", "clinicdesk.cli", "--data-dir", str(folder), *command],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "when the backup tuesday.cdbak was made on " in out.stdout

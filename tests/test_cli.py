"""The command line as an admin uses it: demo clinic, backup, audit check, restore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clinicdesk.demo.people import PeopleGenerator

DEMO_PASSWORD = "demo-password\n"


def clinicdesk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clinicdesk.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.long
def test_demo_backup_verify_and_restore(tmp_path: Path):
    folder = tmp_path / "demo"
    created = clinicdesk("demo", "--data-dir", str(folder), "--patients", "40", "--no-gui")
    assert created.returncode == 0, created.stderr
    assert "Created." in created.stdout
    for username in ("owner", "admin", "dr.okafor", "reception", "pharmacy"):
        assert username in created.stdout
    again = clinicdesk("demo", "--data-dir", str(folder), "--no-gui")
    assert "Reusing the demo clinic" in again.stdout

    made = clinicdesk("--data-dir", str(folder), "backup", str(tmp_path), stdin=DEMO_PASSWORD)
    assert made.returncode == 0, made.stderr
    (backup_file,) = tmp_path.glob("*.cdbak")
    assert "verified" in made.stdout

    refused = clinicdesk(
        "backup",
        str(tmp_path),
        "--data-dir",
        str(folder),
        "--user",
        "reception",
        stdin=DEMO_PASSWORD,
    )
    assert refused.returncode == 2
    assert "not allowed" in refused.stderr

    wrong = clinicdesk("backup", str(tmp_path), "--data-dir", str(folder), stdin="nope\n")
    assert wrong.returncode == 2
    assert "user name or password is not correct" in wrong.stderr

    verified = clinicdesk("audit-verify", "--data-dir", str(folder), stdin=DEMO_PASSWORD)
    assert verified.returncode == 0, verified.stderr
    assert "Audit log intact" in verified.stdout

    restored = clinicdesk(
        "restore",
        str(backup_file),
        "--data-dir",
        str(folder),
        "--user",
        "owner",
        stdin=DEMO_PASSWORD,
    )
    assert restored.returncode == 0, restored.stderr
    assert "kept in" in restored.stdout


def test_demo_people_are_reproducible_from_the_seed():
    assert PeopleGenerator(7).patients(50) == PeopleGenerator(7).patients(50)
    assert PeopleGenerator(7).patients(50) != PeopleGenerator(8).patients(50)


def test_demo_people_are_valid_and_varied():
    from clinicdesk.services.patients import validate

    generator = PeopleGenerator(1)
    people = generator.patients(2000)
    for person in people:
        validate(person, generator.today)
    names = " ".join(f"{p.given_name} {p.family_name}" for p in people)
    assert any("\u0370" <= ch <= "\u03ff" for ch in names), "some names in Greek script"
    assert any("\u0400" <= ch <= "\u04ff" for ch in names), "some names in Cyrillic script"
    assert len({p.family_name for p in people}) > 100

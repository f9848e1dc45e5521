"""Eight desks guessing one account's password at the same moment, as separate OS processes.

The lockout allows four wrong passwords before it pauses sign-in; guesses made at once must not
all slip past the pause, and every wrong one must be counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clinicdesk.errors import WrongPassword
from clinicdesk.logs import configure, log
from clinicdesk.services.access import sign_in
from clinicdesk.store.signin_guard import FREE_ATTEMPTS, GUARD_FILE, entry_key
from tests.conftest import ADMIN_PASSWORD

DESKS = 8

GUESS = """
import sys, time
from pathlib import Path
from clinicdesk.errors import AccountLocked, WrongPassword
from clinicdesk.services.access import sign_in
folder, go = Path(sys.argv[1]), Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
try:
    sign_in(folder, "admin", "a wrong guess " + sys.argv[3])
except WrongPassword:
    print("checked")
except AccountLocked:
    print("paused")
"""


@pytest.mark.long
def test_guesses_at_once_never_pass_the_lockout_and_none_is_lost(clinic_dir, tmp_path: Path):
    folder, _ = clinic_dir
    go = tmp_path / "go"
    desks = [
        subprocess.Popen(
            [sys.executable, "-c", GUESS, str(folder), str(go), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(DESKS)
    ]
    try:
        for desk in desks:  # every desk has imported everything and waits at the line
            assert desk.stdout is not None and desk.stdout.readline() == "ready\n"
        go.touch()
        outcomes = []
        for desk in desks:
            out, err = desk.communicate(timeout=120)
            outcomes.append(out.strip() or err)
    finally:
        for desk in desks:
            desk.kill()

    assert sorted(set(outcomes)) == ["checked", "paused"], outcomes
    checked = outcomes.count("checked")
    assert checked <= FREE_ATTEMPTS, f"{checked} guesses were checked: {outcomes}"
    counted = json.loads((folder / GUARD_FILE).read_text())[entry_key("admin")]["failures"]
    assert counted == checked, "a wrong password was not counted"


def test_a_right_password_still_signs_in_and_clears_the_count(clinic_dir):
    """Counting each attempt before the password is checked must not lock out the owner."""
    folder, _ = clinic_dir
    for _ in range(FREE_ATTEMPTS - 1):
        with pytest.raises(WrongPassword):
            sign_in(folder, "admin", "a wrong guess")
    sign_in(folder, "admin", ADMIN_PASSWORD).close()
    assert entry_key("admin") not in json.loads((folder / GUARD_FILE).read_text())


def test_a_password_typed_in_the_name_box_is_written_nowhere(clinic_dir):
    """Staff sometimes type the password into the user-name box: a failed sign-in is logged,
    but neither the log file nor the sign-in record keeps what was typed as the name."""
    folder, _ = clinic_dir
    log_file = configure(folder)
    assert log_file is not None
    try:
        with pytest.raises(WrongPassword):
            sign_in(folder, ADMIN_PASSWORD, "")
    finally:
        for handler in log.handlers[:]:
            log.removeHandler(handler)
            handler.close()
    assert "sign-in refused" in log_file.read_text()
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in {".log", ".json"}:
            assert ADMIN_PASSWORD.encode() not in path.read_bytes(), path.name

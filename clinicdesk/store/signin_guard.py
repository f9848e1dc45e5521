"""Lockout after repeated wrong passwords, kept on disk so a restart does not reset it.

The database cannot be read before sign-in, so the count lives in ``signin.json`` beside it. The
Argon2id cost of every attempt is the real protection against guessing; this file stops guessing
at the sign-in window and tells staff how long to wait.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from clinicdesk.errors import AccountLocked, WrongPassword
from clinicdesk.ids import utcnow
from clinicdesk.store.files import read_json, write_json_atomic
from clinicdesk.store.locks import exclusive

GUARD_FILE = "signin.json"
FREE_ATTEMPTS = 4
FIRST_PAUSE = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(minutes=30)
MAX_COUNTED = 10_000  # a count beyond this is a damaged file, not a person typing


@dataclass
class SigninGuard:
    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / GUARD_FILE

    def _load(self) -> dict[str, dict]:
        """The counts by hashed user name (``entry_key``); a damaged file or entry counts as no
        failures (deleting the file does the same, and a damaged file must not stop everyone
        signing in)."""
        try:
            data = read_json(self.path)
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {name: entry for name, entry in data.items() if _valid_entry(entry)}

    def check(self, username: str, now: datetime | None = None) -> None:
        """Raise AccountLocked while a pause from earlier failures is running."""
        _raise_if_paused(self._load().get(entry_key(username)), now or utcnow())

    def begin_attempt(self, username: str, now: datetime | None = None) -> WrongPassword:
        """Check the pause and count this attempt as a failure, in one step under the file's lock.

        The attempt is counted before the (slow) password check, so guesses made at the same
        moment from several desks cannot all pass the check; a right password then clears the
        count (``record_success``). Returns the refusal to raise if the password is wrong: it
        says how many tries are left, or how long the pause is.

        The first FREE_ATTEMPTS - 1 failures are free; the next one starts a pause of 30 s, and
        every failure after a pause doubles it, up to 30 minutes.
        """
        now = now or utcnow()
        key = entry_key(username)
        with exclusive(self.path):
            data = self._load()
            _raise_if_paused(data.get(key), now)
            entry = data.setdefault(key, {"failures": 0, "locked_until": None})
            entry["failures"] = min(entry["failures"] + 1, MAX_COUNTED)
            over = entry["failures"] - FREE_ATTEMPTS + 1
            pause = timedelta(0)
            if over > 0:
                pause = min(FIRST_PAUSE * (2 ** min(over - 1, 16)), LONGEST_PAUSE)
                entry["locked_until"] = (now + pause).isoformat()
            write_json_atomic(self.path, data)
        return WrongPassword(
            attempts_left=max(0, FREE_ATTEMPTS - entry["failures"]),
            paused_seconds=int(pause.total_seconds()),
        )

    def record_success(self, username: str) -> None:
        with exclusive(self.path):
            data = self._load()
            if data.pop(entry_key(username), None) is not None:
                write_json_atomic(self.path, data)


def _raise_if_paused(entry: dict | None, now: datetime) -> None:
    until = entry and entry.get("locked_until")
    if until and (until := datetime.fromisoformat(until)) > now:
        raise AccountLocked(until, int((until - now).total_seconds()) + 1)


def _valid_entry(entry: object) -> bool:
    if not isinstance(entry, dict) or type(entry.get("failures")) is not int:
        return False
    if not 0 <= entry["failures"] <= MAX_COUNTED:
        return False
    until = entry.get("locked_until")
    if until is None:
        return True
    try:
        return isinstance(until, str) and datetime.fromisoformat(until).tzinfo is not None
    except ValueError:
        return False


def entry_key(username: str) -> str:
    """What the file keeps instead of the typed name: a password typed into the name box by
    mistake must not be written out in plain text."""
    return hashlib.sha256(b"clinicdesk-signin\0" + username.strip().casefold().encode()).hexdigest()

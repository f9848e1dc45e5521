"""Lockout after repeated wrong passwords, kept on disk so a restart does not reset it.

The database cannot be read before sign-in, so the count lives in ``signin.json`` beside it. The
Argon2id cost of every attempt is the real protection against guessing; this file stops guessing
at the sign-in window and tells staff how long to wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from clinicdesk.errors import AccountLocked, WrongPassword
from clinicdesk.ids import utcnow
from clinicdesk.store.files import read_json, write_json_atomic

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
        """The counts by user name; a damaged file or entry counts as no failures (deleting the
        file does the same, and a damaged file must not stop everyone signing in)."""
        try:
            data = read_json(self.path)
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {name: entry for name, entry in data.items() if _valid_entry(entry)}

    def check(self, username: str, now: datetime | None = None) -> None:
        """Raise AccountLocked while a pause from earlier failures is running."""
        now = now or utcnow()
        entry = self._load().get(_key(username))
        if not entry or not entry.get("locked_until"):
            return
        until = datetime.fromisoformat(entry["locked_until"])
        if until > now:
            raise AccountLocked(until, int((until - now).total_seconds()) + 1)

    def record_failure(self, username: str, now: datetime | None = None) -> WrongPassword:
        """Count a wrong password; the error says how many tries are left, or how long the pause.

        The first FREE_ATTEMPTS - 1 failures are free; the next one starts a pause of 30 s, and
        every failure after a pause doubles it, up to 30 minutes.
        """
        now = now or utcnow()
        data = self._load()
        entry = data.setdefault(_key(username), {"failures": 0, "locked_until": None})
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
        data = self._load()
        if data.pop(_key(username), None) is not None:
            write_json_atomic(self.path, data)


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


def _key(username: str) -> str:
    return username.strip().casefold()

"""The daily digest: the audit chain's head as a short code an admin can write down.

"Entry 1234 of 7 Dec 2026: K7QF-3M2A-XZQP-LR4T" is the entry number and the first 80 bits of
that entry's hash in base32 (letters and the digits 2 to 7, so nothing reads as 0, 1 or 8). Kept
on paper or sent to oneself, it is an anchor nobody with only the database key can reach; checked
later against the live log, it says whether entry 1234 (and so, when the chain verifies, every
entry before it) is still as it was.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date

from clinicdesk.errors import ValidationError

CODE_LENGTH = 16
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


@dataclass(frozen=True)
class Digest:
    seq: int
    day: date  # the clinic's date of that entry
    code: str  # "K7QF-3M2A-XZQP-LR4T"

    @property
    def text(self) -> str:
        return f"Entry {self.seq} of {self.day.day} {self.day:%b %Y}: {self.code}"


def code_of(entry_hash: str) -> str:
    letters = base64.b32encode(bytes.fromhex(entry_hash)).decode()[:CODE_LENGTH]
    return "-".join(letters[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def parse(text: str) -> tuple[int, str]:
    """The entry number and the code in a digest as typed back: the first number, the last 16
    letters and digits (separators, case and 0/1/8 for O/I/B do not matter)."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    numbers = [w for w in words if w.isdigit()]
    if not numbers:
        raise ValidationError({"digest": "has no entry number (it starts “Entry 1234 of …”)"})
    letters = ""
    for word in reversed(words):
        if len(letters) >= CODE_LENGTH:
            break
        letters = word + letters
    code = letters.upper().translate(_LOOKALIKES)
    if len(letters) != CODE_LENGTH or not re.fullmatch(r"[A-Z2-7]+", code):
        raise ValidationError(
            {"digest": "must end with its code: 16 letters and digits in 4 groups of 4"}
        )
    return int(numbers[0]), "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))

"""Prescription reference numbers: ten random digits and two ISO 7064 MOD 97-10 check digits.

MOD 97-10 catches every single wrong digit and every swap of two neighbouring digits, so a
pharmacist typing the number from paper is told at once when it was mistyped.
"""

from __future__ import annotations

import re
import secrets

from clinicdesk.rx.code_text import clean

BODY_DIGITS = 10
LENGTH = BODY_DIGITS + 2


def check_digits(body: str) -> str:
    return f"{98 - (int(body) * 100) % 97:02d}"


def new_reference() -> str:
    body = f"{secrets.randbelow(10**BODY_DIGITS):0{BODY_DIGITS}d}"
    return body + check_digits(body)


def is_valid(reference: str) -> bool:
    return bool(re.fullmatch(rf"[0-9]{{{LENGTH}}}", reference)) and int(reference) % 97 == 1


def normalize(typed: str) -> str:
    """What a person typed or pasted (spaces, dashes, full-width digits, invisible marks) as
    bare digits."""
    return clean(typed).replace("-", "")


def digits_in(typed: str) -> str:
    """Only the digits of what was typed (full-width ones as the digits they are)."""
    return "".join(c for c in clean(typed) if c.isascii() and c.isdigit())


def grouped(reference: str) -> str:
    """Printed and shown in groups of four: ``4821 0573 9916``."""
    return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))

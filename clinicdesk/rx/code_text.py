"""One reading of a prescription code's text, however it arrived.

A code reaches the counter typed by a USB scanner, pasted, read off a picture, a PDF or a camera
frame. Each way can add its own noise: a byte-order mark or a zero-width space from a text file
or a chat message, a line break from the scanner, lower-case letters from a scanner set to send
them, full-width characters from an East Asian input method. Every way in calls ``normalize``
(and ``looks_like_code`` to pick a code out), so no way in reads a code another way refuses;
a reference number is cleaned the same way (clinicdesk.rx.reference.normalize).
"""

from __future__ import annotations

import unicodedata

PREFIX = "RX1"


def clean(text: str) -> str:
    """Compatibility forms folded (full-width ``ＲＸ１２`` becomes ``RX12``), invisible format
    characters (byte-order mark, zero-width spaces) and white space dropped: neither a code
    nor a reference number holds any."""
    if text.isascii():  # what a scanner types: NFKC keeps ASCII as it is, none of it is Cf
        return "".join(text.split())  # split() breaks at exactly what isspace() is true for
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def normalize(text: str) -> str:
    """The code as it was printed: ``clean``, with the prefix in capitals. Anything else is
    left for the codec to judge."""
    text = clean(text)
    if text[: len(PREFIX)].upper() == PREFIX:
        text = PREFIX + text[len(PREFIX) :]
    return text


def looks_like_code(text: str) -> bool:
    """Whether ``text`` starts as a prescription code does (its signature not yet checked)."""
    return normalize(text).startswith(PREFIX)


def prescription_code(texts: list[str]) -> str | None:
    """The first of ``texts`` (what a picture held) that looks like a prescription code."""
    return next((t for t in texts if looks_like_code(t)), None)

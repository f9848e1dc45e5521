"""Text normalisation for search and duplicate detection: accent and case insensitive."""

from __future__ import annotations

import re

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """'Łukasz  Müller-Żak' -> 'lukasz muller zak'."""
    return " ".join(_NON_ALNUM.split(unidecode(text).lower())).strip()


def words(text: str) -> list[str]:
    """The folded words, plus each hyphenated or apostrophed word joined ('obrien')."""
    result: list[str] = []
    for raw in text.split():
        parts = fold(raw).split()
        result.extend(parts)
        if len(parts) > 1:
            result.append("".join(parts))
    return result


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def plural(count: int, one: str, many: str | None = None) -> str:
    """(1, 'minute') -> '1 minute'; (5, 'minute') -> '5 minutes'; (2, 'batch', 'batches')."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"

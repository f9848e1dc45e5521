"""Money: integers in minor units with an ISO currency code, shown and typed as staff expect."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*$")
_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money_text(minor: int, currency: str) -> str:
    """4550, 'GBP' -> '£45.50'; currencies without a symbol here show their code."""
    symbol = _SYMBOLS.get(currency, "")
    amount = f"{minor / 100:,.2f}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def parse_amount(text: str) -> int | None:
    """'45', '45.5' or '45,50' -> 4550 minor units; None if it is not an amount."""
    match = _AMOUNT.match(text)
    if not match:
        return None
    cents = (match.group(2) or "0").ljust(2, "0")
    return int(match.group(1)) * 100 + int(cents)

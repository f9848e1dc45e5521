"""The longest values validation allows, made of real words (and one long unbroken code)."""

from __future__ import annotations

NAMES = (
    "María-Alejandra Guadalupe de los Ángeles Fernández de Córdoba y Montenegro-Villavicencio "
    "Ortega Saavedra Castellanos Benítez Quiroga Lindqvist Ødegård Oyelaran-Adebayo Nakamura "
    "Papadopoulou Wiśniewska-Kowalczyk Ó Súilleabháin Þórðardóttir Żółkiewski Hämäläinen"
)


def longest(limit: int, first: str = "") -> str:
    """Words (starting with ``first``) up to exactly ``limit`` characters, the last one cut."""
    words = NAMES.split()
    text = first
    n = 0
    while len(text) < limit:
        text = f"{text} {words[n % len(words)]}".strip()
        n += 1
    return text[:limit].rstrip()


def code(limit: int, prefix: str) -> str:
    """An unbroken code such as a batch or licence number, ``limit`` characters long."""
    return (prefix + "-" + "0123456789ABCDEF" * 8)[:limit]

"""Which characters the embedded font can print, and a Latin transliteration for the rest.

The font stays DejaVu Sans (Latin, Greek, Cyrillic). A character missing from its character
map would print as an empty box, and right-to-left text (Arabic, Hebrew) would print with its
letters unjoined and in the wrong order, since reportlab neither shapes nor reorders it. Such
characters are printed as their Latin transliteration (unidecode); the signed code keeps the
text exactly as written, and staff are told before printing which fields this changes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import cache

from reportlab.pdfbase import pdfmetrics
from unidecode import unidecode

from clinicdesk.printing import fonts

RIGHT_TO_LEFT = {"R", "AL"}
_SCRIPT_WORDS = {
    "CJK": "Chinese or Japanese (Han)",
    "HIRAGANA": "Japanese (hiragana)",
    "KATAKANA": "Japanese (katakana)",
    "HANGUL": "Korean (Hangul)",
}


@cache
def _charmap() -> frozenset[int]:
    """Code points both embedded faces (regular and bold) have a glyph for."""
    fonts.register()
    faces = (pdfmetrics.getFont(name).face.charToGlyph for name in (fonts.REGULAR, fonts.BOLD))
    regular, bold = faces
    return frozenset(regular.keys() & bold.keys())


def drawable(ch: str) -> bool:
    """True when the embedded font prints ``ch`` as it should read."""
    if ch.isspace():
        return True
    return ord(ch) in _charmap() and unicodedata.bidirectional(ch) not in RIGHT_TO_LEFT


def undrawable(text: str) -> str:
    """The characters of ``text`` the embedded font cannot print, each once, in order."""
    return "".join(dict.fromkeys(ch for ch in text if not drawable(ch)))


def printable(text: str) -> str:
    """``text`` with every run of characters the font cannot print replaced by its Latin
    transliteration (the rest, accents included, kept as written)."""
    if not undrawable(text):
        return text
    out, at = "", 0
    while at < len(text):
        if drawable(text[at]):
            out += text[at]
            at += 1
            continue
        end = at
        while end < len(text) and (
            not drawable(text[end]) or (text[end] == " " and _undrawable_after(text, end))
        ):
            end += 1
        spelled = " ".join(unidecode(text[at:end]).split())
        if out[-1:].isalnum() and spelled[:1].isalnum():
            out += " "
        out += spelled
        if text[end : end + 1].isalnum() and spelled[-1:].isalnum():
            out += " "
        at = end
    return out


def _undrawable_after(text: str, at: int) -> bool:
    rest = text[at:].lstrip(" ")
    return bool(rest) and not drawable(rest[0])


def script_names(text: str) -> str:
    """The scripts of the characters the font cannot print, in words ('Thai, Hebrew')."""
    names = []
    for ch in undrawable(text):
        first = unicodedata.name(ch, "UNKNOWN").split()[0]
        names.append(_SCRIPT_WORDS.get(first, first.title()))
    return ", ".join(dict.fromkeys(names))


def warnings(fields: Mapping[str, str], note: str = "") -> list[str]:
    """A sentence for each field (named in words) that will print transliterated, then
    ``note`` (what keeps the text as written)."""
    said = [
        f"The {field} “{text}” is in {script_names(text)} script, which the printer's font "
        f"cannot print: it will print as its Latin transliteration “{printable(text)}”. {note}"
        for field, text in fields.items()
        if undrawable(text)
    ]
    return [sentence.strip() for sentence in said]

"""The QR symbol for a prescription code: numeric mode after the prefix, error correction M."""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M

MAX_VERSION = 40


def qr_matrix(text: str) -> tuple[int, list[list[bool]]]:
    """(version, modules without the quiet zone) of the smallest symbol at level M."""
    qr = _symbol(text)
    qr.make(fit=True)
    return qr.version, qr.get_matrix()


def qr_version(text: str) -> int:
    """The version ``qr_matrix`` gives, without drawing the symbol (choosing its mask pattern
    takes ~100 ms; this takes a few)."""
    return _symbol(text).best_fit()


def _symbol(text: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(text, optimize=3)
    return qr

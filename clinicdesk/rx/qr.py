"""The QR symbol for a prescription code: numeric mode after the prefix, error correction M."""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M

MAX_VERSION = 40


def qr_matrix(text: str) -> tuple[int, list[list[bool]]]:
    """(version, modules without the quiet zone) of the smallest symbol at level M."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(text, optimize=3)
    qr.make(fit=True)
    return qr.version, qr.get_matrix()

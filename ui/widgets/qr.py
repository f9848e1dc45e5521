"""A QR symbol drawn as a pixmap, black on white with its quiet zone (scanners need it)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from clinicdesk.rx.qr import qr_matrix

QUIET = 4  # modules of white around the symbol


def qr_pixmap(text: str, side: int) -> QPixmap:
    """The symbol for ``text``, at most ``side`` pixels square, in whole pixels per module."""
    _version, modules = qr_matrix(text)
    count = len(modules) + 2 * QUIET
    scale = max(1, side // count)
    image = QImage(count * scale, count * scale, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("black"))
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(QRect((x + QUIET) * scale, (y + QUIET) * scale, scale, scale))
    painter.end()
    return QPixmap.fromImage(image)

"""The Qt binding keeps Python's reference counts straight.

PySide6 6.12.0 drops a reference to ``None`` each time a Qt method that returns nothing is
called; on Python 3.11 that crashes the app ("deallocating None") after some tens of thousands
of calls, which a calendar repainting hundreds of appointments reaches within minutes.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QLabel


def test_calls_that_return_nothing_leave_none_alone(qapp):
    font, label, image = QFont(), QLabel(), QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for n in range(2000):
        font.setBold(n % 2 == 0)
        label.setText("x")
        painter.fillRect(0, 0, 2, 2, QColor("#0e7c7b"))
    painter.end()
    assert abs(sys.getrefcount(None) - before) < 50

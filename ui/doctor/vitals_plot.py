"""A small trend plot of vital signs drawn with QPainter: blood pressure above, weight below.

Each band has its own scale (the lowest and highest reading, with a little room), the latest
value written at the right end, and the first and last dates under the plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from clinicdesk.services.chart import ChartEntry

GRID = QColor("#e1e7ec")
MUTED = QColor("#5b6b79")
LEFT, RIGHT, TOP, BOTTOM, GAP, TITLE = 44, 56, 4, 22, 10, 18


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: list[tuple[datetime, float]]


@dataclass(frozen=True)
class Band:
    title: str
    unit: str
    series: list[Series]


def bands_of(entries: list[ChartEntry]) -> list[Band]:
    """Blood pressure and weight, oldest first; a band with no readings is left out."""
    ordered = sorted(entries, key=lambda e: e.values["taken_at"])

    def series(name: str, field: str, colour: str) -> Series:
        points = [
            (e.values["taken_at"], float(e.values[field]))
            for e in ordered
            if e.values.get(field) is not None
        ]
        return Series(name, colour, points)

    bands = [
        Band(
            "Blood pressure",
            "mmHg; systolic red, diastolic blue",
            [
                series("Systolic", "systolic", "#b3261e"),
                series("Diastolic", "diastolic", "#2b6fd6"),
            ],
        ),
        Band("Weight", "kg", [series("Weight", "weight", "#0e7c7b")]),
    ]
    return [b for b in bands if any(s.points for s in b.series)]


class VitalsPlot(QWidget):
    def __init__(self, zone) -> None:
        super().__init__()
        self.zone = zone
        self.bands: list[Band] = []
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Trend of blood pressure and weight")

    def sizeHint(self) -> QSize:
        return QSize(420, 240)

    def set_entries(self, entries: list[ChartEntry]) -> None:
        self.bands = bands_of(entries)
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() - 1.5, 7))
        painter.setFont(small)
        if not self.bands:
            painter.setPen(MUTED)
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No blood pressure or weight recorded yet.",
            )
            return
        times = [t for b in self.bands for s in b.series for t, _v in s.points]
        first, last = min(times), max(times)
        area = QRectF(self.rect()).adjusted(LEFT, TOP, -RIGHT, -BOTTOM)
        height = (area.height() - GAP * (len(self.bands) - 1)) / len(self.bands)
        for number, band in enumerate(self.bands):
            top = area.top() + number * (height + GAP)
            painter.setPen(MUTED)
            painter.drawText(
                QRectF(area.left(), top, area.width(), TITLE),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{band.title} ({band.unit})",
            )
            box = QRectF(area.left(), top + TITLE, area.width(), height - TITLE)
            self._band(painter, band, box, first, last)
        painter.setPen(MUTED)
        flags = Qt.AlignmentFlag.AlignTop
        below = QRectF(area.left(), area.bottom() + 4, area.width(), BOTTOM)
        painter.drawText(below, flags | Qt.AlignmentFlag.AlignLeft, self._day(first))
        if last != first:
            painter.drawText(below, flags | Qt.AlignmentFlag.AlignRight, self._day(last))

    def _day(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%d/%m/%Y")

    def _band(self, painter: QPainter, band: Band, box: QRectF, first, last) -> None:
        values = [v for s in band.series for _t, v in s.points]
        low, high = min(values), max(values)
        pad = max((high - low) * 0.15, 2.0)
        low, high = low - pad, high + pad
        span = (last - first).total_seconds() or 1.0

        def at(t: datetime, v: float) -> QPointF:
            x = box.left() + (t - first).total_seconds() / span * box.width()
            if first == last:
                x = box.center().x()
            return QPointF(x, box.bottom() - (v - low) / (high - low) * box.height())

        painter.setPen(QPen(GRID, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box)
        painter.setPen(MUTED)
        scale = QRectF(0, box.top() - 6, LEFT - 6, box.height() + 12)
        painter.drawText(
            scale, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, f"{high:.0f}"
        )
        painter.drawText(
            scale, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, f"{low:.0f}"
        )
        for s in band.series:
            if not s.points:
                continue
            colour = QColor(s.colour)
            path = QPainterPath(at(*s.points[0]))
            for point in s.points[1:]:
                path.lineTo(at(*point))
            painter.setPen(QPen(colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(colour)
            for point in s.points:
                painter.drawEllipse(at(*point), 2.5, 2.5)
            end = at(*s.points[-1])
            painter.setPen(colour)
            latest = s.points[-1][1]
            painter.drawText(QPointF(box.right() + 6, end.y() + 4), f"{latest:g}")

"""The look: the style sheet and SVG icons from resources/, and styling helpers."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import QWidget

from clinicdesk.paths import RESOURCES

TEXT = "#1d2a35"
PRIMARY = "#0e7c7b"
ON_DARK = "#dbe7ea"


def stylesheet() -> str:
    """The style sheet, with the arrows of spin boxes and lists found where the app is."""
    text = (RESOURCES / "style" / "clinicdesk.qss").read_text(encoding="utf-8")
    return text.replace("@ARROWS@", (RESOURCES / "style" / "arrows").as_posix())


@cache
def icon(name: str, color: str = TEXT) -> QIcon:
    """An icon from resources/icons; the SVGs draw in ``currentColor``, replaced by ``color``."""
    result = QIcon()
    for size in (24, 48):
        result.addPixmap(_render(name, color, size))
    return result


def pixmap(name: str, size: int, color: str = TEXT) -> QPixmap:
    return _render(name, color, size)


def _render(name: str, color: str, size: int) -> QPixmap:
    svg = (RESOURCES / "icons" / f"{name}.svg").read_text(encoding="utf-8")
    buffer = QBuffer()
    buffer.setData(QByteArray(svg.replace("currentColor", color).encode()))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, b"svg")
    reader.setScaledSize(QSize(size, size))
    return QPixmap.fromImage(reader.read())


def set_kind(widget: QWidget, kind: str | None) -> None:
    """Set the ``kind`` property the style sheet keys on, and re-apply the style."""
    widget.setProperty("kind", kind)
    repolish(widget)


def set_invalid(widget: QWidget, invalid: bool) -> None:
    if bool(widget.property("invalid")) != invalid:
        widget.setProperty("invalid", invalid)
        repolish(widget)


def repolish(widget: QWidget) -> None:
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.updateGeometry()  # padding may have changed with the new style
    widget.update()

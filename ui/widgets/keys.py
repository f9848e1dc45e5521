"""Keys that belong to one view: they work while the focus is anywhere inside it, not elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget


def view_shortcuts(owner: QWidget, bindings: Iterable[tuple[str, Callable[[], object]]]) -> None:
    """Each (keys, slot) pair as a shortcut of ``owner`` and its children."""
    for keys, slot in bindings:
        shortcut = QShortcut(QKeySequence(keys), owner)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)

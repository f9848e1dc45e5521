"""A workspace's pages and the keys that show them, declared once.

Each workspace lists its pages as ``Page`` constants (``ui/<workspace>/pages.py``). The main
window's View menu, the switch above the pages and any hint that names a key are all built from
those constants, so a menu entry always names the page its key opens. A workspace widget offers
``available_pages()`` (the pages this user has, in order) and ``show_page(page)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar


@dataclass(frozen=True)
class Page:
    title: str
    key: str  # a QKeySequence string: "F2"

    @property
    def hint(self) -> str:
        """ "Chart (F3)": the page with its key, for tooltips and sentences."""
        return f"{self.title} ({self.key})"

    @property
    def label(self) -> str:
        """ "Chart  F3": a tab's text."""
        return f"{self.title}  {self.key}"


class PagedWorkspace(Protocol):
    def available_pages(self) -> tuple[Page, ...]: ...

    def show_page(self, page: Page) -> None: ...


class PageSwitch(QTabBar):
    """The row of tabs above a workspace's pages, one per page in declared order, each naming
    its key. Keyboard users switch with the keys, so the switch itself takes no focus."""

    def __init__(self, pages: Iterable[Page]) -> None:
        super().__init__(objectName="ViewSwitch")
        self.setExpanding(False)
        self.setDrawBase(False)
        self.setUsesScrollButtons(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for page in pages:
            index = self.addTab(page.label)
            self.setTabToolTip(index, page.hint)

"""The pharmacy workspace's pages and their keys (see ``ui.widgets.pages``)."""

from __future__ import annotations

from ui.widgets.pages import Page

COUNTER = Page("Counter", "F2")
STOCK = Page("Stock", "F3")
HISTORY = Page("History", "F4")
PAGES = (COUNTER, STOCK, HISTORY)

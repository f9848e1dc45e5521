"""The doctor workspace's pages and their keys (see ``ui.widgets.pages``)."""

from __future__ import annotations

from ui.widgets.pages import Page

TODAY = Page("Today", "F2")
CHART = Page("Chart", "F3")
VISIT = Page("Visit", "F4")
PAGES = (TODAY, CHART, VISIT)

"""The front desk's pages and their keys (see ``ui.widgets.pages``); the search box leaves
F2-F4 alone."""

from __future__ import annotations

from ui.widgets.pages import Page

PATIENTS = Page("Patients", "F2")
CALENDAR = Page("Calendar", "F3")
QUEUE = Page("Queue", "F4")
PAGES = (PATIENTS, CALENDAR, QUEUE)

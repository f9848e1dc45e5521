"""The admin workspace's pages and their keys (see ``ui.widgets.pages``). Each page keeps its
key whichever of them a role may use."""

from __future__ import annotations

from ui.widgets.pages import Page

USERS = Page("Users", "F2")
AUDIT = Page("Audit log", "F3")
SETTINGS = Page("Settings", "F4")
FORMULARY = Page("Formulary", "F5")
SIGNING_KEYS = Page("Signing keys", "F6")
SCHEDULE = Page("Schedule", "F7")
BACKUPS = Page("Backups", "F8")
SYNC = Page("Sync", "F9")
PAGES = (USERS, AUDIT, SETTINGS, FORMULARY, SIGNING_KEYS, SCHEDULE, BACKUPS, SYNC)

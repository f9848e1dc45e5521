"""Menus name the pages their keys open: in every workspace, every menu entry naming a page opens
that page with its shortcut, and no menu lists a page the workspace does not have."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import CTRL, wait_idle  # tests/ui/conftest.py
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from clinicdesk.permissions import Role

# what each workspace's pages are, as the widgets staff see (None: not built for this user)
PAGE_WIDGETS: dict[str, Callable[[QWidget], dict[str, QWidget | None]]] = {
    "frontdesk": lambda w: {
        "Patients": w.patients_page,
        "Calendar": w.calendar,
        "Queue": w.queue,
    },
    "doctor": lambda w: {"Today": w.day, "Chart": w.chart, "Visit": w.visit},
    "pharmacy": lambda w: {
        "Counter": w.counter,
        "Stock": w.stock,
        "History": w.history if w.views.isTabEnabled(2) else None,
    },
    "admin": lambda w: {
        "Users": w.users,
        "Audit log": w.audit,
        "Settings": w.settings,
        "Formulary": w.formulary,
        "Signing keys": w.signing_keys,
        "Schedule": w.schedule,
        "Backups": w.backups,
        "Sync": w.sync,
    },
}
EVERY_TITLE = {
    "Patients", "Calendar", "Queue", "Today", "Chart", "Visit", "Counter", "Stock", "History",
    "Users", "Audit log", "Settings", "Formulary", "Signing keys", "Schedule", "Backups", "Sync",
}  # fmt: skip


def page_entries(main) -> list[tuple[str, QAction]]:
    """Every entry of every menu in the bar whose words name a page of some workspace."""
    found = []
    for top in main.menuBar().actions():
        if top.menu() is None or not top.isVisible():
            continue
        for action in top.menu().actions():
            text = action.text().replace("&", "").rstrip("…")
            if text in EVERY_TITLE:
                found.append((text, action))
    return found


def shown(workspace: QWidget) -> tuple[QWidget, str]:
    """The page on screen and the words of its tab."""
    tabs = getattr(workspace, "tabs", None)
    if tabs is not None:
        return tabs.currentWidget(), tabs.tabText(tabs.currentIndex())
    return workspace.stack.currentWidget(), workspace.views.tabText(workspace.views.currentIndex())


@pytest.mark.usefixtures("own_settings")
@pytest.mark.parametrize("roles", [(), (Role.ADMIN,)], ids=["super admin", "admin"])
def test_every_menu_entry_opens_the_page_it_names(qtbot, make_main, admin, staff, tasks, roles):
    """The super admin has every workspace; an admin manages stock but has no dispensing
    history, so the pharmacy's menu must not offer it."""
    main = make_main(staff(*roles, username="bea") if roles else admin)
    wait_idle(qtbot, tasks)
    assert len(main.workspaces) == (4 if not roles else 3)
    for row, space in enumerate(main.workspaces):
        qtbot.keyClick(main, getattr(Qt.Key, f"Key_{row + 1}"), CTRL)
        workspace = main.pages[space.key]
        assert main.stack.currentWidget() is workspace
        widgets = {t: w for t, w in PAGE_WIDGETS[space.key](workspace).items() if w is not None}
        entries = page_entries(main)
        assert sorted(t for t, _a in entries) == sorted(widgets), space.title
        for title, action in reversed(entries):  # the last first: each key moves the page
            key = action.shortcut().toString()
            assert key, f"{space.title}: {title} has no key"
            QTest.keySequence(main, action.shortcut())
            wait_idle(qtbot, tasks)
            page, tab = shown(workspace)
            assert page is widgets[title], f"{space.title}: {key} ({title}) opened {tab}"
            assert tab == f"{title}  {key}"

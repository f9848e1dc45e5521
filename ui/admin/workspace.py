"""The admin workspace: one tab per screen the user's role may use (keys in ``pages.py``)."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from clinicdesk.permissions import P
from ui.admin import pages
from ui.context import AppContext
from ui.theme import set_kind
from ui.widgets.pages import Page

S = TypeVar("S", bound=QWidget)


class AdminWorkspace(QWidget):
    details_changed = Signal(object)  # ClinicDetails, after the settings were saved

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.tabs = QTabWidget(objectName="AdminTabs")
        self.users = self.audit = self.settings = self.backups = self.schedule = None
        self.formulary = self.signing_keys = self.sync = None
        self._pages: dict[Page, QWidget] = {}
        if ctx.actor.can(P.USERS_MANAGE):
            from ui.admin.users import UsersScreen

            self.users = self._add(pages.USERS, UsersScreen(ctx))
        if ctx.actor.can(P.AUDIT_READ):
            from ui.admin.audit import AuditScreen

            self.audit = self._add(pages.AUDIT, AuditScreen(ctx))
        if ctx.actor.can(P.CLINIC_CONFIGURE):
            from ui.admin.formulary import FormularyScreen
            from ui.admin.settings import SettingsScreen
            from ui.admin.signing_keys import SigningKeysScreen

            self.settings = self._add(pages.SETTINGS, SettingsScreen(ctx))
            self.settings.saved.connect(self.details_changed)
            self.formulary = self._add(pages.FORMULARY, FormularyScreen(ctx))
            self.signing_keys = self._add(pages.SIGNING_KEYS, SigningKeysScreen(ctx))
        if ctx.actor.can(P.SCHEDULE_CONFIGURE):
            from ui.admin.schedule import ScheduleScreen

            self.schedule = self._add(pages.SCHEDULE, ScheduleScreen(ctx))
        if ctx.actor.can(P.BACKUP):
            from ui.admin.backups import BackupScreen

            self.backups = self._add(pages.BACKUPS, BackupScreen(ctx))
        if ctx.actor.can(P.CLINIC_CONFIGURE):
            from ui.admin.sync import SyncScreen

            self.sync = self._add(pages.SYNC, SyncScreen(ctx))
        title = QLabel("Administration")
        set_kind(title, "title")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)

    def _add(self, page: Page, screen: S) -> S:
        self._pages[page] = screen
        index = self.tabs.addTab(screen, page.label)
        self.tabs.setTabToolTip(index, page.hint)
        return screen

    def available_pages(self) -> tuple[Page, ...]:
        return tuple(self._pages)

    def show_page(self, page: Page) -> None:
        self.tabs.setCurrentWidget(self._pages[page])

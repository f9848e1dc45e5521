"""The admin workspace: one tab per screen the user's role may use."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from clinicdesk.permissions import P
from ui.context import AppContext
from ui.theme import set_kind


class AdminWorkspace(QWidget):
    details_changed = Signal(object)  # ClinicDetails, after the settings were saved

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.tabs = QTabWidget()
        self.users = self.audit = self.settings = self.backups = self.schedule = None
        self.formulary = self.signing_keys = None
        if ctx.actor.can(P.USERS_MANAGE):
            from ui.admin.users import UsersScreen

            self.users = UsersScreen(ctx)
            self.tabs.addTab(self.users, "Users")
        if ctx.actor.can(P.AUDIT_READ):
            from ui.admin.audit import AuditScreen

            self.audit = AuditScreen(ctx)
            self.tabs.addTab(self.audit, "Audit log")
        if ctx.actor.can(P.CLINIC_CONFIGURE):
            from ui.admin.settings import SettingsScreen

            self.settings = SettingsScreen(ctx)
            self.settings.saved.connect(self.details_changed)
            self.tabs.addTab(self.settings, "Clinic settings")
            from ui.admin.formulary import FormularyScreen
            from ui.admin.signing_keys import SigningKeysScreen

            self.formulary = FormularyScreen(ctx)
            self.tabs.addTab(self.formulary, "Formulary")
            self.signing_keys = SigningKeysScreen(ctx)
            self.tabs.addTab(self.signing_keys, "Signing keys")
        if ctx.actor.can(P.SCHEDULE_CONFIGURE):
            from ui.admin.schedule import ScheduleScreen

            self.schedule = ScheduleScreen(ctx)
            self.tabs.addTab(self.schedule, "Schedule")
        if ctx.actor.can(P.BACKUP):
            from ui.admin.backups import BackupScreen

            self.backups = BackupScreen(ctx)
            self.tabs.addTab(self.backups, "Backups")
        title = QLabel("Administration")
        set_kind(title, "title")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)

"""Backups: an encrypted, verified copy of the clinic's data, into a folder the admin chooses.

Restoring replaces the open database, so it is done with ClinicDesk closed, from the command
line (``clinicdesk restore FILE``); this screen says so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.backups import BackupSchedule, BackupView
from clinicdesk.services.schedule_setup import clock
from clinicdesk.text import plural
from ui.admin.hours_editor import parse_clock
from ui.changes import FollowTables
from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_kind
from ui.widgets.count_box import CountBox
from ui.widgets.dates import format_moment
from ui.widgets.forms import FieldForm, section
from ui.widgets.table import RowsModel, listing


def default_folder() -> str:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return str(Path(documents or Path.home()) / "ClinicDesk backups")


def size_text(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):,.1f} MiB"
    return f"{max(1, size // 1024):,} KiB"


class BackupTableModel(RowsModel[BackupView]):
    HEADERS = ("Made", "Size", "By", "State", "File")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, b: BackupView) -> tuple[str, ...]:
        if b.removed_at is not None:
            state = f"Deleted {format_moment(b.removed_at, self.time_zone)} (older than kept)"
        elif not b.present:
            state = "Not found where it was written"
        else:
            state = "Verified" if b.verified else "Not verified"
        return (
            format_moment(b.made_at, self.time_zone),
            size_text(b.size),
            b.made_by or "Scheduled",
            state,
            b.path,
        )


class BackupScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        lead = QLabel(
            "A backup holds everything (patients, accounts, the audit log), encrypted with the "
            "clinic's key; keep one on a drive that does not stay next to this computer. It opens "
            "with the passwords of the day it was made, including those of accounts removed "
            "since: keep old backups as safe as the clinic, or re-encrypt them with today's key."
        )
        lead.setWordWrap(True)
        set_kind(lead, "muted")

        self.form = FieldForm()
        self.folder = QLineEdit(default_folder())
        self.folder.setAccessibleName("Backup folder")
        browse = QPushButton("Choose folder…")
        browse.clicked.connect(self.choose_folder)
        self.form.add("folder", "Backup &folder", self.folder, 0)

        self.button = QPushButton("Back up now")
        set_kind(self.button, "primary")
        self.button.clicked.connect(self.back_up)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        restore = QLabel(
            "To restore a backup, close ClinicDesk and run \u201cclinicdesk restore\u201d with the "
            "file and an administrator's password of its day (or the recovery key); it is checked "
            "completely first and the data it replaces is kept aside."
        )
        restore.setWordWrap(True)
        set_kind(restore, "hint")

        row = QHBoxLayout()
        row.addWidget(self.form, 1)
        row.addWidget(browse, 0, Qt.AlignmentFlag.AlignBottom)
        self.reencrypt_button = QPushButton("Re-encrypt an older backup…")
        self.reencrypt_button.setToolTip(
            "Encrypt a backup made before the last key change with today's key, so only "
            "today's passwords open it."
        )
        self.reencrypt_button.clicked.connect(self.choose_reencrypt)
        buttons = QHBoxLayout()
        buttons.addWidget(self.button)
        buttons.addStretch(1)
        buttons.addWidget(self.reencrypt_button)
        self.model = BackupTableModel(ctx.details.time_zone)
        self.table = QTableView()
        self.table.setModel(self.model)
        listing(self.table, "Backups made")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(lead)
        layout.addLayout(row)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(section("EVERY DAY"))
        layout.addLayout(self._schedule_form())
        layout.addWidget(section("BACKUPS MADE"))
        layout.addWidget(self.table, 1)
        layout.addWidget(restore)
        self.follow = FollowTables(self, ctx, frozenset({"backups"}), self.reload)

    def _schedule_form(self) -> QVBoxLayout:
        """The daily backup: on or off, when, where, and how many days they are kept."""
        self.schedule_form = FieldForm(columns=4)
        self.daily = QCheckBox("Back up every day")
        self.at = QLineEdit(placeholderText="19:00", maxLength=5)
        self.at.setAccessibleName("Time of the daily backup")
        self.keep = CountBox("day", 1, 3650, 30)
        self.keep.setAccessibleName("Days scheduled backups are kept")
        self.scheduled_folder = QLineEdit()
        self.scheduled_folder.setAccessibleName("Folder of the daily backups")
        self.schedule_form.add("daily", "Daily backup", self.daily, 0, 0)
        self.schedule_form.add("at_minute", "&At (clinic time)", self.at, 0, 1)
        self.schedule_form.add("keep_days", "&Keep for (then deleted)", self.keep, 0, 2)
        self.schedule_form.add("folder", "Daily backups &go to", self.scheduled_folder, 1, 0, 3)
        browse = QPushButton("Choose folder…")
        browse.clicked.connect(self.choose_scheduled_folder)
        self.schedule_button = QPushButton("Save schedule")
        self.schedule_button.clicked.connect(self.save_schedule)
        self.schedule_message = QLabel()
        self.schedule_message.setWordWrap(True)
        self.schedule_message.hide()
        self.schedule_form.edited.connect(self.schedule_message.hide)
        self.schedule_form.setEnabled(False)  # until the schedule is loaded
        row = QHBoxLayout()
        row.addWidget(self.schedule_form, 1)
        row.addWidget(browse, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.schedule_button, 0, Qt.AlignmentFlag.AlignBottom)
        outer = QVBoxLayout()
        outer.addLayout(row)
        outer.addWidget(self.schedule_message)
        return outer

    # ---- loading ----

    def reload(self) -> None:
        backups, actor = self.ctx.session.backups, self.ctx.actor
        self.ctx.tasks.submit(
            lambda: (backups.history(actor), backups.schedule(actor)),
            on_result=self._loaded,
            on_error=lambda error: self._say(describe(error), ok=False),
            owner=self,
        )

    def _loaded(self, data: tuple[list[BackupView], BackupSchedule]) -> None:
        history, plan = data
        self.model.set_rows(history)
        if not self.schedule_form.isEnabled():  # never over what the admin is typing
            self._show_schedule(plan)
            self.schedule_form.setEnabled(True)

    def _show_schedule(self, plan: BackupSchedule) -> None:
        self.daily.setChecked(plan.daily)
        self.at.setText(clock(plan.at_minute))
        self.keep.setValue(plan.keep_days)
        self.scheduled_folder.setText(plan.folder)

    # ---- the schedule ----

    def choose_scheduled_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Daily backups go to", self.scheduled_folder.text()
        )
        if chosen:
            self.scheduled_folder.setText(chosen)

    def save_schedule(self) -> None:
        at = parse_clock(self.at.text())
        if at is None or at == 24 * 60:
            self.schedule_form.show_errors({"at_minute": "must be a time of day such as 19:00"})
            return
        plan = BackupSchedule(
            self.daily.isChecked(), at, self.scheduled_folder.text(), self.keep.value()
        )
        self.schedule_form.clear_errors()
        self.schedule_message.hide()
        self.schedule_button.setEnabled(False)

        def saved(plan: BackupSchedule) -> None:
            self.schedule_button.setEnabled(True)
            self._show_schedule(plan)
            self._say_schedule(
                f"Daily backup at {clock(plan.at_minute)} into "
                f"{plan.folder}, kept for {plural(plan.keep_days, 'day')}."
                if plan.daily
                else "Daily backups are off; make them with Back up now.",
                ok=True,
            )

        def refused(error: BaseException) -> None:
            self.schedule_button.setEnabled(True)
            fields = getattr(error, "fields", None)
            if fields is None or self.schedule_form.show_errors(fields):
                self._say_schedule(describe(error), ok=False)

        self.ctx.tasks.submit(
            self.ctx.session.backups.set_schedule,
            self.ctx.actor,
            plan,
            on_result=saved,
            on_error=refused,
            owner=self,
        )

    def _say_schedule(self, text: str, ok: bool) -> None:
        self.schedule_message.setText(text)
        set_kind(self.schedule_message, "success" if ok else "banner")
        self.schedule_message.show()

    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Back up into", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def back_up(self) -> None:
        text = self.folder.text().strip()
        if not text:
            self.form.show_errors({"folder": "is required"})
            return
        self.form.clear_errors()
        self.message.hide()
        self.button.setEnabled(False)
        self.button.setText("Backing up…")
        folder = Path(text).expanduser()
        self.ctx.tasks.submit(
            _back_up,
            self.ctx.session,
            folder,
            on_result=self._done,
            on_error=self._failed,
            owner=self,
        )

    def choose_reencrypt(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Re-encrypt a backup", self.folder.text(), "ClinicDesk backups (*.cdbak)"
        )
        if chosen:
            self.reencrypt(Path(chosen))

    def reencrypt(self, path: Path) -> None:
        self.message.hide()
        self.reencrypt_button.setEnabled(False)
        self.ctx.tasks.submit(
            self.ctx.session.reencrypt_backup,
            path,
            on_result=lambda _none: self._reencrypted(path),
            on_error=self._reencrypt_failed,
            owner=self,
        )

    def _reencrypted(self, path: Path) -> None:
        self.reencrypt_button.setEnabled(True)
        self._say(
            f"{path.name} is now encrypted with the clinic's current key: only today's "
            "passwords and the current recovery key open it.",
            ok=True,
        )

    def _reencrypt_failed(self, error: BaseException) -> None:
        self.reencrypt_button.setEnabled(True)
        self._say(describe(error), ok=False)

    def _done(self, info) -> None:
        self._idle()
        self._say(f"Backup written and verified: {info.path} ({size_text(info.size)}).", ok=True)
        self.reload()

    def _failed(self, error: BaseException) -> None:
        self._idle()
        self._say(describe(error), ok=False)

    def _idle(self) -> None:
        self.button.setEnabled(True)
        self.button.setText("Back up now")
        self.button.setFocus()  # disabling it while busy had moved the focus away

    def _say(self, text: str, ok: bool) -> None:
        self.message.setText(text)
        set_kind(self.message, "success" if ok else "banner")
        self.message.show()


def _back_up(session, folder: Path):
    """On a worker thread: back up into the chosen folder, created if needed."""
    return session.backup(folder, make_folder=True)

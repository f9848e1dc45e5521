"""Backups: an encrypted, verified copy of the clinic's data, into a folder the admin chooses.

Restoring replaces the open database, so it is done with ClinicDesk closed, from the command
line (``clinicdesk restore FILE``); this screen says so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_kind
from ui.widgets.forms import FieldForm


def default_folder() -> str:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return str(Path(documents or Path.home()) / "ClinicDesk backups")


class BackupScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        lead = QLabel(
            "A backup holds everything: patients, accounts and the audit log, encrypted with the "
            "clinic's key, so only a user of this clinic (or the recovery key) can open it. Keep "
            "one on a drive that does not stay next to this computer.\n\nA backup opens with the "
            "passwords of the day it was made, including those of accounts removed since: "
            "removing someone or changing the clinic's key protects the clinic's data from now "
            "on, not the backups made before. Keep old backups as safe as the clinic itself, or "
            "re-encrypt them with today's key (below)."
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
            "backup file and an administrator's password of that time (or the recovery key). "
            "The backup is checked completely first, the data it replaces is kept aside, and "
            "the restored clinic gets a new key."
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(lead)
        layout.addLayout(row)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(restore)
        layout.addStretch(1)

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
        self._say(
            f"Backup written and verified: {info.path} ({max(1, info.size // 1024):,} KiB).",
            ok=True,
        )

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

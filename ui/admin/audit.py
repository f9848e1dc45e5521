"""The audit log screen: recent entries, a check that the hash chain is unbroken (against this
workstation's record and, if chosen, a backup), and today's digest to write down and check later.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.audit_log import AuditRow, DigestCheck
from clinicdesk.store.audit import ChainReport
from clinicdesk.store.audit_digest import Digest
from ui.admin.backups import default_folder
from ui.context import AppContext
from ui.errors import describe
from ui.theme import icon, set_kind
from ui.widgets.dates import format_moment
from ui.widgets.table import RowsModel, read_only_rows

RECENT = 500


def readable_detail(detail: str | None) -> str:
    """'{"entries": 20, "intact": true}' -> 'entries: 20, intact: true'."""
    try:
        values = json.loads(detail or "{}")
    except ValueError:
        return detail or ""
    if not isinstance(values, dict):
        return str(values)
    return ", ".join(
        f"{key.replace('_', ' ')}: {json.dumps(value, ensure_ascii=False).strip(chr(34))}"
        for key, value in values.items()
        if value not in (None, "", [], {})
    )


class AuditTableModel(RowsModel[AuditRow]):
    HEADERS = ("#", "When", "Who", "Action", "Record", "Details")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, r: AuditRow) -> tuple[str, ...]:
        record = f"{r.entity} {r.entity_id[:8]}…" if r.entity_id else r.entity
        return (
            str(r.seq),
            format_moment(r.at, self.time_zone),
            r.actor_name,
            r.action,
            record,
            readable_detail(r.detail),
        )

    def extra(self, r: AuditRow, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.cells(r)[column]
        return None


class AuditScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = AuditTableModel(ctx.details.time_zone)
        self.table = QTableView()
        self.table.setModel(self.model)
        read_only_rows(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.verify_button = QPushButton(icon("check", "#ffffff"), "&Verify chain")
        set_kind(self.verify_button, "primary")
        self.verify_button.setToolTip(
            "Check that no entry of the audit log was altered or removed, also against what this "
            "workstation saw of it"
        )
        self.verify_button.clicked.connect(lambda: self.verify())
        self.backup_button = QPushButton("Verify against a &backup…")
        self.backup_button.setToolTip(
            "Also check that the log still holds every entry as it was when a backup was made"
        )
        self.backup_button.clicked.connect(self.verify_against_backup)
        bar = QHBoxLayout()
        bar.addWidget(self.verify_button)
        bar.addWidget(self.backup_button)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_kind(self.result, "success")
        self.result.hide()

        self.digest = QLabel("…")
        self.digest.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.digest.setAccessibleName("Today's digest")
        set_kind(self.digest, "title")
        digest_hint = QLabel(
            "Write today's digest down, or send it to yourself. Checked later, it shows whether "
            "the log was rewritten since, even by someone holding the clinic's key."
        )
        digest_hint.setWordWrap(True)
        set_kind(digest_hint, "hint")
        self.digest_input = QLineEdit()
        self.digest_input.setPlaceholderText("Entry 1234 of 7 Dec 2026: ABCD-EFGH-IJKL-MNOP")
        self.digest_input.setAccessibleName("A digest written down earlier")
        self.digest_input.returnPressed.connect(self.check_digest)
        check_label = QLabel("&Digest written down earlier:")
        check_label.setBuddy(self.digest_input)
        self.check_button = QPushButton("Check digest")
        self.check_button.clicked.connect(self.check_digest)
        check_row = QHBoxLayout()
        check_row.addWidget(check_label)
        check_row.addWidget(self.digest_input, 1)
        check_row.addWidget(self.check_button)
        self.digest_result = QLabel()
        self.digest_result.setWordWrap(True)
        set_kind(self.digest_result, "success")
        self.digest_result.hide()
        today = QHBoxLayout()
        today.addWidget(QLabel("Today's digest:"))
        today.addWidget(self.digest, 1)

        note = QLabel(f"The most recent {RECENT} entries, newest first.")
        set_kind(note, "hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(self.result)
        layout.addLayout(today)
        layout.addWidget(digest_hint)
        layout.addLayout(check_row)
        layout.addWidget(self.digest_result)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.submit(
            self.ctx.session.audit.recent,
            self.ctx.actor,
            RECENT,
            on_result=self.model.set_rows,
            on_error=lambda e: self._show(describe(e), ok=False),
            owner=self,
        )
        self.ctx.tasks.submit(
            self.ctx.session.audit.digest,
            self.ctx.actor,
            on_result=self._show_digest,
            on_error=lambda e: self.digest.setText(describe(e)),
            owner=self,
        )

    def _show_digest(self, digest: Digest | None) -> None:
        self.digest.setText(digest.text if digest else "none yet: the log is empty")

    def verify(self, against_backup: Path | None = None) -> None:
        self.verify_button.setEnabled(False)
        self.backup_button.setEnabled(False)
        self.verify_button.setText("Verifying…")
        self.ctx.tasks.submit(
            self.ctx.session.audit.verify,
            self.ctx.actor,
            against_backup,
            on_result=self._verified,
            on_error=self._verify_failed,
            owner=self,
        )

    def verify_against_backup(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Verify against a backup", default_folder(), "ClinicDesk backups (*.cdbak)"
        )
        if chosen:
            self.verify(Path(chosen))

    def _verified(self, report: ChainReport) -> None:
        self._reset_button()
        notes = "".join(f"\n{n}" for n in report.notes)
        if report.intact:
            outside = (
                f" It agrees with {report.anchors:,} record{'s' if report.anchors != 1 else ''} "
                "of the log kept outside the database."
                if report.anchors
                else ""
            )
            self._show(
                f"The audit chain is intact: {report.entries:,} entries checked.{outside}{notes}",
                ok=True,
            )
        else:
            problems = "\n".join(f"• {p}" for p in report.problems)
            self._show(
                f"The audit chain is broken ({report.entries:,} entries checked):\n{problems}"
                f"{notes}",
                ok=False,
            )
        self.refresh()

    def check_digest(self) -> None:
        self.check_button.setEnabled(False)
        self.ctx.tasks.submit(
            self.ctx.session.audit.check_digest,
            self.ctx.actor,
            self.digest_input.text(),
            on_result=self._digest_checked,
            on_error=lambda e: self._digest_said(describe(e), ok=False),
            owner=self,
        )

    def _digest_checked(self, check: DigestCheck) -> None:
        self._digest_said(check.message, ok=check.matches)
        self.refresh()

    def _digest_said(self, text: str, ok: bool) -> None:
        self.check_button.setEnabled(True)
        self.digest_result.setText(text)
        set_kind(self.digest_result, "success" if ok else "banner")
        self.digest_result.show()

    def _verify_failed(self, error: BaseException) -> None:
        self._reset_button()
        self._show(describe(error), ok=False)

    def _reset_button(self) -> None:
        self.verify_button.setEnabled(True)
        self.backup_button.setEnabled(True)
        self.verify_button.setText("&Verify chain")

    def _show(self, text: str, ok: bool) -> None:
        self.result.setText(text)
        set_kind(self.result, "success" if ok else "banner")
        self.result.show()

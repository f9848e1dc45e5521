"""The audit log screen: entries newest first in the admin's words (who, what, about whom),
filtered and paged back to the first, new ones arriving while the screen is shown; a check that
the hash chain is unbroken (against this workstation's record and, if chosen, a backup), and
today's digest to write down and check later.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
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

from clinicdesk.errors import ValidationError
from clinicdesk.services.audit_log import (
    AuditFilter,
    AuditPage,
    AuditRow,
    ChainReport,
    Digest,
    DigestCheck,
)
from ui.admin.audit_filters import AuditFilters
from ui.admin.backups import default_folder
from ui.context import AppContext
from ui.errors import describe
from ui.theme import icon, set_kind
from ui.widgets.dates import format_moment
from ui.widgets.table import RowsModel, read_only_rows

POLL_MS = 4000  # a look for new entries (one indexed max) while the screen is shown


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
    HEADERS = ("#", "When", "Who", "What", "About", "Details")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, r: AuditRow) -> tuple[str, ...]:
        return (
            str(r.seq),
            format_moment(r.at, self.time_zone),
            r.actor_name,
            r.what,
            r.record,
            readable_detail(r.detail),
        )

    def extra(self, r: AuditRow, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.action if column == 3 else self.cells(r)[column]
        return None

    def newest(self) -> int:
        return self.rows[0].seq if self.rows else 0

    def add_older(self, rows: list[AuditRow]) -> None:
        if rows:
            self.beginInsertRows(
                self.index(0, 0).parent(), len(self.rows), len(self.rows) + len(rows) - 1
            )
            self.rows += rows
            self.endInsertRows()

    def add_newer(self, rows: list[AuditRow]) -> None:
        if rows:
            self.beginInsertRows(self.index(0, 0).parent(), 0, len(rows) - 1)
            self.rows[:0] = rows
            self.endInsertRows()


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

        self.filters = AuditFilters()
        self.filters.applied.connect(self.reload)
        self.count = QLabel()
        set_kind(self.count, "hint")
        self.more_button = QPushButton("Show &older entries")
        self.more_button.clicked.connect(self.load_older)
        self.more_button.hide()
        more_row = QHBoxLayout()
        more_row.addWidget(self.count, 1)
        more_row.addWidget(self.more_button)
        self._filter = AuditFilter()
        self._query_number = 0  # answers to an earlier filter are dropped
        self._seen = 0  # the newest entry number looked at, shown or filtered out
        self._more = False
        self._looking = False
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self.look_for_new)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(self.result)
        layout.addLayout(today)
        layout.addWidget(digest_hint)
        layout.addLayout(check_row)
        layout.addWidget(self.digest_result)
        layout.addWidget(self.filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(more_row)
        self.ctx.tasks.submit(
            self.ctx.session.audit.people,
            self.ctx.actor,
            on_result=self.filters.set_people,
            on_error=lambda e: self._show(describe(e), ok=False),
            owner=self,
        )
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.poll.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.poll.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        self.reload()
        self._refresh_digest()

    def reload(self) -> None:
        """The newest page matching the filter bar; a mistyped day is said and changes nothing."""
        try:
            self._filter = self.filters.value()
        except ValidationError as exc:
            self._said(exc.message, ok=False)
            return
        self._seen = 0
        self._fetch(before=None)

    def load_older(self) -> None:
        if self.model.rows:
            self._fetch(before=self.model.rows[-1].seq)

    def _fetch(self, before: int | None) -> None:
        self._query_number += 1
        number = self._query_number
        self.more_button.setEnabled(False)
        self.ctx.tasks.submit(
            self.ctx.session.audit.page,
            self.ctx.actor,
            self._filter,
            before,
            on_result=lambda page: self._paged(number, page, older=before is not None),
            on_error=lambda e: self._said(describe(e), ok=False),
            owner=self,
        )

    def _paged(self, number: int, page: AuditPage, older: bool) -> None:
        if number != self._query_number:
            return
        if older:
            self.model.add_older(page.rows)
        else:
            self.model.set_rows(page.rows)
        self._more = page.more
        self._counted()

    def _counted(self) -> None:
        shown = len(self.model.rows)
        if not shown:
            self._said("No entry matches.", ok=True)
        else:
            older = "; older ones match too" if self._more else ""
            self._said(f"{shown:,} entr{'y' if shown == 1 else 'ies'} shown{older}.", ok=True)
        self.more_button.setVisible(self._more)

    def _said(self, text: str, ok: bool) -> None:
        """Under the table: how many entries are shown, or why the filter was not applied."""
        self.count.setText(text)
        set_kind(self.count, "hint" if ok else "banner")
        self.more_button.setEnabled(True)

    def look_for_new(self) -> None:
        """Entries written since the last look, by anyone on any desk, join the top."""
        if self._looking:
            return
        self._looking = True
        number = self._query_number
        self.ctx.tasks.submit(
            self._newer_than,
            max(self._seen, self.model.newest()),
            self._filter,
            on_result=lambda found: self._arrived(number, *found),
            on_error=lambda _e: self._arrived(number, self._seen, None),
            owner=self,
        )

    def _newer_than(self, seen: int, filters: AuditFilter) -> tuple[int, AuditPage | None]:
        """(the newest entry's number, the entries after ``seen`` matching, if there are new)."""
        audit = self.ctx.session.audit
        newest = audit.newest_seq(self.ctx.actor)
        if newest <= seen:
            return seen, None
        return newest, audit.page(self.ctx.actor, filters, after=seen)

    def _arrived(self, number: int, newest: int, page: AuditPage | None) -> None:
        self._looking = False
        if number != self._query_number:
            return
        self._seen = newest
        if page is None or not page.rows:
            return
        if page.more:  # more arrived than a page: start again from the newest
            self.reload()
            return
        self.model.add_newer(page.rows)
        self._counted()

    def _refresh_digest(self) -> None:
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

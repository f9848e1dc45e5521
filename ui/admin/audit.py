"""The audit log screen: recent entries, and a check that the hash chain is unbroken."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.services.audit_log import AuditRow
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
        self.verify_button = QPushButton(icon("check", "#ffffff"), "Verify chain")
        set_kind(self.verify_button, "primary")
        self.verify_button.setToolTip("Check that no entry of the audit log was altered or removed")
        self.verify_button.clicked.connect(self.verify)
        bar = QHBoxLayout()
        bar.addWidget(self.verify_button)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_kind(self.result, "success")
        self.result.hide()
        note = QLabel(f"The most recent {RECENT} entries, newest first.")
        set_kind(note, "hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(self.result)
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

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.verify_button.setText("Verifying…")
        self.ctx.tasks.submit(
            self.ctx.session.audit.verify,
            self.ctx.actor,
            on_result=self._verified,
            on_error=self._verify_failed,
            owner=self,
        )

    def _verified(self, report) -> None:
        self._reset_button()
        if report.intact:
            self._show(f"The audit chain is intact: {report.entries:,} entries checked.", ok=True)
        else:
            problems = "\n".join(f"• {p}" for p in report.problems)
            self._show(
                f"The audit chain is broken ({report.entries:,} entries checked):\n{problems}",
                ok=False,
            )
        self.refresh()

    def _verify_failed(self, error: BaseException) -> None:
        self._reset_button()
        self._show(describe(error), ok=False)

    def _reset_button(self) -> None:
        self.verify_button.setEnabled(True)
        self.verify_button.setText("Verify chain")

    def _show(self, text: str, ok: bool) -> None:
        self.result.setText(text)
        set_kind(self.result, "success" if ok else "banner")
        self.result.show()

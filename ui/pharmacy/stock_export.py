"""What the stock and history screens share: their tables, CSV files written on a worker, and
the line under the actions where the screen answers (green when done, red with the reason)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHeaderView, QLabel, QTableView, QWidget

from clinicdesk.store.files import storage_errors
from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_kind
from ui.widgets.table import RowsModel, read_only_rows


def records_table(model: RowsModel, name: str) -> QTableView:
    """A read-only table of ``model``, columns sized to their contents, headers to the left."""
    table = QTableView()
    table.setModel(model)
    table.setAccessibleName(name)
    read_only_rows(table)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return table


class MessageLine(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setAccessibleName("Message")
        self.hide()

    def say(self, text: str, error: bool = False) -> None:
        self.setText(text)
        set_kind(self, "banner" if error else "success")
        self.show()

    def failed(self, error: BaseException) -> None:
        self.say(describe(error), error=True)


def write_csv(path: Path, text: str) -> Path:
    """A full or read-only disk becomes a sentence staff can act on."""
    with storage_errors(path.parent):
        path.write_text(text, encoding="utf-8", newline="")
    return path


def choose_csv_file(parent: QWidget, title: str, suggested: str) -> Path | None:
    path, _filter = QFileDialog.getSaveFileName(parent, title, suggested, "CSV files (*.csv)")
    if not path:
        return None
    return Path(path) if path.lower().endswith(".csv") else Path(path + ".csv")


def export_csv(
    ctx: AppContext, owner: QWidget, path: Path, produce: Callable[[], str], say: MessageLine
) -> None:
    """Make the CSV text and write it to ``path``, both off the UI thread."""
    ctx.tasks.submit(
        lambda: write_csv(path, produce()),
        on_result=lambda done: say.say(f"Saved {done}"),
        on_error=say.failed,
        owner=owner,
    )

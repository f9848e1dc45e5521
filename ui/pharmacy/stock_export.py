"""What the stock and history screens share: their tables, CSV files written on a worker, and
the line under the actions where the screen answers (green when done, red with the reason)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QLabel, QTableView, QWidget

from ui.context import AppContext
from ui.errors import describe
from ui.frontdesk.appointment_report import _table
from ui.theme import set_kind
from ui.widgets.printing import keys_back
from ui.widgets.table import RowsModel


def records_table(model: RowsModel, name: str) -> QTableView:
    """The clinic's read-only table of records (columns sized to their contents), named."""
    table = _table(model)
    table.setAccessibleName(name)
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


def choose_csv_file(parent: QWidget, title: str, suggested: str) -> Path | None:
    path, _filter = QFileDialog.getSaveFileName(parent, title, suggested, "CSV files (*.csv)")
    keys_back(parent)
    if not path:
        return None
    return Path(path) if path.lower().endswith(".csv") else Path(path + ".csv")


def export_csv(
    ctx: AppContext, owner: QWidget, path: Path, produce: Callable[[], str], say: MessageLine
) -> None:
    """Make the CSV text and write it to ``path``, both off the UI thread."""
    ctx.tasks.submit(
        lambda: ctx.session.save_export(path, produce().encode("utf-8")),
        on_result=lambda done: say.say(f"Saved {done}"),
        on_error=say.failed,
        owner=owner,
    )

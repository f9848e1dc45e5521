"""A read-only table model over a list of rows; subclasses say how a row is shown."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class RowsModel(QAbstractTableModel, Generic[Row]):
    HEADERS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []

    def cells(self, row: Row) -> tuple[str, ...]:
        raise NotImplementedError

    def extra(self, row: Row, column: int, role: int) -> Any:
        """Roles other than display text (tool tips, colours); None by default."""
        return None

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, number: int) -> Row | None:
        return self.rows[number] if 0 <= number < len(self.rows) else None

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.cells(row)[index.column()]
        return self.extra(row, index.column(), role)


def read_only_rows(table: QTableView) -> None:
    """How every list of records behaves: whole rows, one at a time, nothing editable."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.verticalHeader().hide()


def listing(table: QTableView, name: str) -> None:
    """A read-only list whose columns fit their contents, the last taking the rest, with
    headings over the start of their columns."""
    table.setAccessibleName(name)
    read_only_rows(table)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


class SharedColumns(QObject):
    """Columns as wide as their contents while the table has the room; ``main`` takes the rest.

    Where it has not (a narrow column on a 1024 px screen), ``main`` keeps at least ``floor``
    of the width: the other columns' headers are cut short first, then the ``give_way``
    columns, in that order, down to a third of their width. Cut text is elided, never
    scrolled to sideways; give the cells their full text as a tool tip (``RowsModel.extra``).
    """

    def __init__(
        self, table: QTableView, main: int, give_way: tuple[int, ...], floor: float = 0.4
    ) -> None:
        super().__init__(table)
        self.table, self.main, self.give_way, self.floor = table, main, give_way, floor
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        model = table.model()
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted):
            signal.connect(self.fit)
        table.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        table, header = self.table, self.table.horizontalHeader()
        room = table.viewport().width()
        columns = range(header.count())
        if room <= 0 or not columns:
            return
        cells = [table.sizeHintForColumn(c) for c in columns]
        widths = [max(cells[c], header.sectionSizeHint(c)) for c in columns]
        wanted = min(widths[self.main], round(room * self.floor))
        short = wanted - (room - (sum(widths) - widths[self.main]))
        cuts = [(c, widths[c] - max(cells[c], 0)) for c in columns if c != self.main]
        cuts += [(c, max(cells[c], 0) * 2 // 3) for c in self.give_way]
        for column, most in cuts:
            cut = max(0, min(short, most))
            widths[column] -= cut
            short -= cut
        widths[self.main] = max(0, room - (sum(widths) - widths[self.main]))
        for column, width in enumerate(widths):
            header.resizeSection(column, width)

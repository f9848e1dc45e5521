"""The drug of a prescription item: free text, with the formulary's matches listed beneath as
the doctor types (searched on a worker). Down and Up move through the matches, Enter takes the
highlighted one (or the first), Escape closes the list, a click takes a match.

The list floats over the dialog as a child widget rather than a separate popup window, so the
keyboard stays in the field and the list goes away with the dialog.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QWidget

from clinicdesk.services.formulary import DrugView
from ui.context import AppContext
from ui.tasks import Task

SEARCH_MS = 120
VISIBLE_ROWS = 8
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def match_label(drug: DrugView) -> str:
    """'Co-amoxiclav (amoxicillin, clavulanic acid) · penicillin'."""
    label = drug.name
    if [i.lower() for i in drug.ingredients] != [drug.name.lower()]:
        label += f" ({', '.join(drug.ingredients)})"
    return f"{label}  ·  {drug.drug_class}" if drug.drug_class else label


class DrugField(QLineEdit):
    chosen = Signal(object)  # DrugView

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.drug: DrugView | None = None  # set while the text is a formulary drug's name
        self.matches: QListWidget | None = None  # made on the first results, over the window
        self._seq = 0
        self._task: Task | None = None
        self.setPlaceholderText("Type a drug or ingredient, e.g. amox")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_MS)
        self._timer.timeout.connect(self.search_now)
        self.textEdited.connect(self._typed)

    def showing_matches(self) -> bool:
        return self.matches is not None and self.matches.isVisible()

    def _typed(self, _text: str) -> None:
        self.drug = None
        self._seq += 1
        self._timer.start()

    def search_now(self) -> None:
        self._timer.stop()
        self._seq += 1
        seq, query = self._seq, self.text().strip()
        if self._task is not None:
            self._task.cancel()
        if len(query) < 2:
            self.hide_matches()
            return
        self._task = self.ctx.tasks.submit(
            self.ctx.session.formulary.search,
            self.ctx.actor,
            query,
            on_result=lambda rows: self._found(seq, rows),
            on_error=lambda _e: None,  # free text still works; the next keystroke asks again
            owner=self,
        )

    def _found(self, seq: int, rows: list[DrugView]) -> None:
        if seq != self._seq:
            return
        self._task = None
        if not rows or not self.hasFocus():
            self.hide_matches()
            return
        matches = self._list()
        matches.clear()
        for drug in rows:
            item = QListWidgetItem(match_label(drug))
            item.setData(Qt.ItemDataRole.UserRole, drug)
            matches.addItem(item)
        matches.setCurrentRow(0)
        self._place(len(rows))

    def _list(self) -> QListWidget:
        if self.matches is None:
            self.matches = QListWidget(self.window())
            self.matches.setAccessibleName("Matching drugs")
            self.matches.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.matches.setFrameShape(QFrame.Shape.StyledPanel)
            self.matches.setStyleSheet("QListWidget { background: #ffffff; }")
            self.matches.itemClicked.connect(self._take)
        return self.matches

    def _place(self, count: int) -> None:
        matches = self._list()
        top_left = self.mapTo(self.window(), QPoint(0, self.height() + 2))
        row = matches.sizeHintForRow(0) if matches.count() else 24
        height = min(count, VISIBLE_ROWS) * row + 2 * matches.frameWidth() + 6
        matches.setGeometry(top_left.x(), top_left.y(), max(self.width(), 420), height)
        matches.raise_()
        matches.show()

    def hide_matches(self) -> None:
        if self.matches is not None:
            self.matches.hide()

    def _take(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        drug: DrugView = item.data(Qt.ItemDataRole.UserRole)
        self.hide_matches()
        self.setText(drug.name)
        self.drug = drug
        self.chosen.emit(drug)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.showing_matches():
            super().keyPressEvent(event)
            return
        matches, key = self.matches, event.key()
        if key == Qt.Key.Key_Down:
            matches.setCurrentRow(min(matches.currentRow() + 1, matches.count() - 1))
        elif key == Qt.Key.Key_Up:
            matches.setCurrentRow(max(matches.currentRow() - 1, 0))
        elif key in _ENTER:
            self._take(matches.currentItem() or matches.item(0))
        elif key == Qt.Key.Key_Escape:
            self.hide_matches()
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        if self.matches is None or not self.matches.underMouse():
            self.hide_matches()  # the doctor has moved on (a click on a match is still taken)
        super().focusOutEvent(event)

"""The pharmacy's stock: drugs with their batches, receiving, adjustments, alerts, CSV export.

The alerts strip on top counts what needs doing (drugs low on stock, batches near expiry,
expired batches still on the shelf); a click on one shows only the drugs it is about, and the
line under the list then says how many drugs that filter hides, beside "Show all drugs". The
selected drug's batches are listed below, and a batch's movements open on request. Reading
needs dispensing or stock-keeping rights; changing stock needs stock-keeping rights, and the
actions are hidden without them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.permissions import P
from clinicdesk.services.inventory import Alerts, BatchView, StockLine
from clinicdesk.text import fold
from ui.context import AppContext
from ui.pharmacy.batch_dialogs import AdjustDialog, MovementsDialog, ReorderDialog
from ui.pharmacy.receive_dialog import ReceiveDialog
from ui.pharmacy.stock_export import MessageLine, choose_csv_file, export_csv, records_table
from ui.pharmacy.stock_models import (
    EXPIRED,
    LOW,
    NEAR,
    BatchModel,
    StockModel,
    alert_phrases,
    drugs_with,
    listing_text,
    shelf_text,
    shown_text,
)
from ui.tasks import Refresher
from ui.theme import icon, set_kind

ALERT_STYLES = {
    LOW: "color: #a1231b; font-weight: 600;",
    NEAR: "color: #8a5200; font-weight: 600;",
    EXPIRED: "color: #a1231b; font-weight: 600;",
}
STRIP = "#StockAlerts {{ background: {}; border: 1px solid {}; border-radius: 6px; }}"
STRIP_STYLE = STRIP.format("#fdf6e7", "#ecd29a")
QUIET_STRIP_STYLE = STRIP.format("#f1f5f8", "#d3dbe2")
RECEIVE_KEY = QKeySequence("Ctrl+N")


def _button(text: str, slot, kind: str | None = None) -> QPushButton:
    button = QPushButton(text)
    button.setAutoDefault(False)
    button.clicked.connect(slot)
    if kind:
        set_kind(button, kind)
    return button


class AlertsStrip(QWidget):
    """'2 low on stock · 3 batches expire within 90 days · 1 expired batch still on the shelf';
    each part a link that shows only those drugs."""

    def __init__(self, choose) -> None:
        super().__init__()
        self.setObjectName("StockAlerts")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(10, 6, 10, 6)
        self.title = QLabel()
        self.row.addWidget(self.title)
        self.links: dict[str, QPushButton] = {}
        self.dots: dict[str, QLabel] = {}  # the dot before each link but the first
        for kind in (LOW, NEAR, EXPIRED):
            self.dots[kind] = QLabel("·")
            self.row.addWidget(self.dots[kind])
            link = QPushButton()
            set_kind(link, "link")
            link.setStyleSheet(ALERT_STYLES[kind])
            link.setAutoDefault(False)
            link.clicked.connect(lambda _checked=False, k=kind: choose(k))
            self.links[kind] = link
            self.row.addWidget(link)
        self.row.addStretch(1)

    def show_alerts(self, alerts: Alerts) -> None:
        phrases = alert_phrases(alerts)
        self.title.setText("Stock alerts:" if phrases else "No stock alerts.")
        self.setStyleSheet(STRIP_STYLE if phrases else QUIET_STRIP_STYLE)
        for kind, link in self.links.items():
            text = phrases.get(kind, "")
            link.setText(text)
            link.setVisible(bool(text))
            link.setToolTip(f"Show only these drugs ({text})" if text else "")
            self.dots[kind].setVisible(bool(text) and kind != next(iter(phrases)))

    def text(self) -> str:
        return " · ".join(link.text() for link in self.links.values() if link.isVisible())


class StockView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.lines: list[StockLine] = []
        self.alerts = Alerts((), (), ())
        self.showing: str | None = None  # an alert kind, or every drug
        self.dialog: QDialog | None = None
        self._batch_seq = 0
        self._select_drug: str | None = None  # to select when the next answer is in
        self._select_batch: str | None = None
        may_change = ctx.actor.can(P.INVENTORY_MANAGE)

        self.strip = AlertsStrip(self.show_only)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a drug")
        self.search.setAccessibleName("Find a drug")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search", "#5b6b79"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(lambda _t: self._show_lines())
        self.every_drug = QCheckBox("Show drugs &never stocked")
        self.every_drug.setToolTip("The whole formulary, with the drugs the pharmacy never held")
        self.every_drug.toggled.connect(lambda _on: self._show_lines())
        self.receive_button = _button("Receive stock…  (Ctrl+N)", self.receive, "primary")
        self.reorder_button = _button("Reorder &level…", self.set_reorder_level)
        self.export_button = _button("&Export CSV…", self.choose_export_file)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)  # the checkbox sits under the list: room to type at 1024 px
        for button in (self.receive_button, self.reorder_button, self.export_button):
            bar.addWidget(button)
        self.message = MessageLine()

        self.model = StockModel(ctx.details.currency)
        self.table = records_table(self.model, "Drugs in stock")
        self.table.selectionModel().currentRowChanged.connect(self._drug_changed)
        self.table.activated.connect(lambda _index: self.batch_table.setFocus())
        self.count = QLabel()
        set_kind(self.count, "hint")
        self.show_all = _button("Show all &drugs", lambda: self.show_only(None))
        self.show_all.setToolTip("Clear the filter: list every drug again (Alt+D)")
        self.show_all.hide()
        count_row = QHBoxLayout()
        count_row.addWidget(self.count)
        count_row.addWidget(self.show_all)
        count_row.addStretch(1)
        count_row.addWidget(self.every_drug)

        self.batches_title = QLabel("BATCHES")
        set_kind(self.batches_title, "section")
        self.shelf = QLabel()  # the selected drug on the shelf, strength by strength
        self.shelf.setWordWrap(True)
        self.shelf.setAccessibleName("On the shelf")
        self.show_empty = QCheckBox("Show &used-up batches")
        self.show_empty.toggled.connect(lambda _on: self.load_batches())
        self.adjust_button = _button("&Adjust…", self.adjust)
        self.movements_button = _button("&Movements…", self.show_movements)
        batch_bar = QHBoxLayout()
        batch_bar.addWidget(self.batches_title, 1)
        for widget in (self.show_empty, self.movements_button, self.adjust_button):
            batch_bar.addWidget(widget)
        self.batch_model = BatchModel(ctx.details.currency)
        self.batch_table = records_table(self.batch_model, "Batches")
        self.batch_table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.batch_table.activated.connect(self.show_movements)  # Enter or a double click

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.strip)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 3)
        layout.addLayout(count_row)
        layout.addLayout(batch_bar)
        layout.addWidget(self.shelf)
        layout.addWidget(self.batch_table, 2)

        for button in (self.receive_button, self.reorder_button, self.adjust_button):
            button.setVisible(may_change)
        self.may_change = may_change
        self.loader = Refresher(ctx.tasks, self._load, self._loaded, self.message.failed, self)
        self._update_buttons()

    # ---- Ctrl+N ----

    def _receive_key(self, event: QEvent) -> bool:
        return self.may_change and QKeySequence(event.keyCombination()) == RECEIVE_KEY

    def event(self, event: QEvent) -> bool:
        """Staff who also work the front desk have Ctrl+N for a new patient in the menu; while
        the keyboard is in this view the key is claimed here and receives stock. (Two shortcuts
        on one key would take turns: every other press would do nothing.)"""
        if event.type() == QEvent.Type.ShortcutOverride and self._receive_key(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._receive_key(event):
            self.receive()
        else:
            super().keyPressEvent(event)

    # ---- loading ----

    def refresh(self) -> None:
        """Reload from the services (called when the view is shown)."""
        self.loader.reload()

    def focus_view(self) -> None:
        self.search.setFocus()

    def _load(self) -> tuple[list[StockLine], Alerts]:
        inventory, actor = self.ctx.session.inventory, self.ctx.actor
        return inventory.stock(actor), inventory.alerts(actor)

    def _loaded(self, data: tuple[list[StockLine], Alerts]) -> None:
        self.lines, self.alerts = data
        self._show_lines()

    def show_only(self, kind: str | None) -> None:
        """Only the drugs of one alert (None: every drug)."""
        self.showing = kind
        self._show_lines()
        self.table.setFocus()

    def _show_lines(self) -> None:
        current = self.selected_line()
        keep = self._select_drug or (current.drug_id if current else None)
        self._select_drug = None
        query = fold(self.search.text().strip())
        found = [line for line in self.lines if query in fold(line.drug_name)]
        matching = [
            line
            for line in found
            if line.batches or line.reorder_level or self.every_drug.isChecked()
        ]
        wanted = drugs_with(self.alerts, self.showing) if self.showing else None
        rows = [line for line in matching if wanted is None or line.drug_id in wanted]
        self.model.near = drugs_with(self.alerts, NEAR)
        self.model.set_rows(rows)
        self.strip.show_alerts(self.alerts)
        ids = [line.drug_id for line in rows]
        if rows:
            self.table.selectRow(ids.index(keep) if keep in ids else 0)
        else:
            self.batch_model.set_rows([])
        if self.showing is None:
            self.count.setText(listing_text(rows, len(found) - len(matching)))
        else:
            self.count.setText(shown_text(len(rows), len(matching) - len(rows), self.showing))
        self.show_all.setVisible(self.showing is not None)
        self._update_buttons()

    def selected_line(self) -> StockLine | None:
        return self.model.row(self.table.currentIndex().row())

    def selected_batch(self) -> BatchView | None:
        return self.batch_model.row(self.batch_table.currentIndex().row())

    def _drug_changed(self, *_args) -> None:
        self.load_batches()
        self._update_buttons()

    def load_batches(self) -> None:
        line = self.selected_line()
        select_batch, self._select_batch = self._select_batch, None
        self._batch_seq += 1
        seq = self._batch_seq
        if line is None:
            self.batch_model.set_rows([])
            self.batches_title.setText("BATCHES")
            self.shelf.clear()
            return
        self.batches_title.setText(f"BATCHES OF {line.drug_name.upper()}")
        self.shelf.setText(shelf_text(line))

        def loaded(rows: list[BatchView]) -> None:
            if seq != self._batch_seq:  # another drug was chosen meanwhile
                return
            self.batch_model.set_rows(rows)
            ids = [b.id for b in rows]
            if rows:
                self.batch_table.selectRow(ids.index(select_batch) if select_batch in ids else 0)
            self._update_buttons()

        self.ctx.tasks.submit(
            self.ctx.session.inventory.batches,
            self.ctx.actor,
            line.drug_id,
            include_empty=self.show_empty.isChecked(),
            on_result=loaded,
            on_error=self.message.failed,
            owner=self,
        )

    def _update_buttons(self, *_args) -> None:
        self.reorder_button.setEnabled(self.selected_line() is not None)
        batch = self.selected_batch()
        self.adjust_button.setEnabled(batch is not None)
        self.movements_button.setEnabled(batch is not None)

    # ---- actions ----

    def _open(self, dialog: QDialog, done) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: done(dialog.result_info))
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _r: self.window().activateWindow())
        dialog.open()

    def _changed(self, drug_id: str, text: str, batch_id: str | None = None) -> None:
        self.message.say(text)
        self._select_drug, self._select_batch = drug_id, batch_id
        self.refresh()

    def receive(self) -> None:
        if not self.ctx.actor.can(P.INVENTORY_MANAGE):
            return

        def done(batch: BatchView) -> None:
            self._changed(
                batch.drug_id,
                f"Received: {batch.description}, batch {batch.batch_number}; "
                f"{batch.on_hand} on hand, expires {batch.expiry:%d/%m/%Y}.",
                batch.id,
            )

        self._open(ReceiveDialog(self.ctx, self), done)

    def adjust(self) -> None:
        batch = self.selected_batch()
        if batch is None:
            return

        def done(changed: BatchView) -> None:
            self._changed(
                changed.drug_id,
                f"Batch {changed.batch_number} adjusted: {changed.on_hand} on hand.",
                changed.id,
            )

        self._open(AdjustDialog(self.ctx, batch, self), done)

    def set_reorder_level(self) -> None:
        line = self.selected_line()
        if line is None:
            return
        dialog = ReorderDialog(self.ctx, line, self)

        def done(_none: None) -> None:
            level = dialog.level.text().strip()
            self._changed(line.drug_id, f"{line.drug_name}: reorder at {level} units.")

        self._open(dialog, done)

    def show_movements(self, *_args) -> None:
        batch = self.selected_batch()
        if batch is not None:
            dialog = MovementsDialog(self.ctx, batch, self)
            dialog.finished.connect(dialog.deleteLater)
            dialog.finished.connect(lambda _r: self.window().activateWindow())
            self.dialog = dialog
            dialog.open()

    def choose_export_file(self) -> None:
        suggested = f"stock-{self.ctx.clinic_today():%Y-%m-%d}.csv"
        path = choose_csv_file(self, "Export stock", suggested)
        if path is not None:
            self.export_to(path)

    def export_to(self, path) -> None:
        """Every batch on the shelf, written to ``path`` off the UI thread."""
        inventory, actor = self.ctx.session.inventory, self.ctx.actor
        export_csv(self.ctx, self, path, lambda: inventory.stock_csv(actor), self.message)

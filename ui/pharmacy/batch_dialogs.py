"""Changing a batch or a drug's stock settings: an adjustment with its reason, the reorder
level; and a batch's movements, newest first."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QWidget

from clinicdesk.errors import ValidationError
from clinicdesk.services.inventory import BatchView, StockLine
from ui.context import AppContext
from ui.pharmacy.receive_dialog import whole_number
from ui.pharmacy.stock_export import MessageLine, records_table
from ui.pharmacy.stock_models import MovementModel
from ui.widgets.dialogs import titled_layout
from ui.widgets.form_dialog import FormDialog


class AdjustDialog(FormDialog):
    def __init__(self, ctx: AppContext, batch: BatchView, parent: QWidget | None = None) -> None:
        title = f"Adjust batch {batch.batch_number}"
        super().__init__(ctx, title, "Adjust", parent)
        self.batch = batch
        self.change = QLineEdit(placeholderText="e.g. -2 or +10")
        self.reason = QLineEdit(placeholderText="e.g. count, breakage, expired, returned")
        self.form.add(
            "change",
            "&Change in units *",
            self.change,
            0,
            0,
            hint=f"{batch.description}: {batch.on_hand} on hand.",
        )
        self.form.add("reason", "&Reason *", self.reason, 0, 1)
        self.finish_layout()
        self.change.setFocus()

    def call(self) -> Callable[[], BatchView]:
        change = whole_number(self.change.text())
        if change is None:
            raise ValidationError({"change": "must be a whole number: - to remove, + to add"})
        inventory = self.ctx.session.inventory
        return partial(inventory.adjust, self.ctx.actor, self.batch.id, change, self.reason.text())


class ReorderDialog(FormDialog):
    def __init__(self, ctx: AppContext, line: StockLine, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Reorder level of {line.drug_name}", "Save", parent)
        self.line = line
        self.level = QLineEdit(str(line.reorder_level))
        self.level.selectAll()
        self.form.add(
            "reorder_level",
            "&Reorder at *",
            self.level,
            0,
            0,
            hint="The drug shows as low on stock at or below this many units; 0 for never.",
        )
        self.finish_layout()
        self.level.setFocus()

    def call(self) -> Callable[[], None]:
        level = whole_number(self.level.text())
        if level is None:
            raise ValidationError({"reorder_level": "must be a whole number of units"})
        inventory = self.ctx.session.inventory
        return partial(inventory.set_reorder_level, self.ctx.actor, self.line.drug_id, level)


class MovementsDialog(QDialog):
    """Every change to one batch: received, dispensed, adjusted; who, when and why."""

    def __init__(self, ctx: AppContext, batch: BatchView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = f"Batch {batch.batch_number} · {batch.description}"
        self.setWindowTitle(title)
        self.setMinimumSize(720, 420)
        layout, _heading = titled_layout(self, title)
        self.model = MovementModel(ctx.details.time_zone)
        self.table = records_table(self.model, "Movements")
        layout.addWidget(self.table, 1)
        self.message = MessageLine()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        ctx.tasks.submit(
            ctx.session.inventory.movements,
            ctx.actor,
            batch.id,
            on_result=self._loaded,
            on_error=self.message.failed,
            owner=self,
        )

    def _loaded(self, rows) -> None:
        self.model.set_rows(rows)
        self.table.setFocus()

"""The formulary screen (admins): the clinic's drugs, added, corrected, withdrawn or reinstated.

Prescribers are offered only the drugs in use; a withdrawn drug stays on old prescriptions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import Conflict
from clinicdesk.rx.directions import ROUTES
from clinicdesk.services.formulary import DrugInput, DrugView
from clinicdesk.text import fold, plural
from ui.context import AppContext
from ui.errors import describe
from ui.theme import icon, set_kind
from ui.widgets.form_dialog import FormDialog
from ui.widgets.table import RowsModel, read_only_rows


class DrugTableModel(RowsModel[DrugView]):
    HEADERS = ("Drug", "Status", "Active ingredients", "Class", "Forms", "Strengths", "Route")

    def cells(self, d: DrugView) -> tuple[str, ...]:
        return (
            d.name,
            "In use" if d.active else "Withdrawn",
            ", ".join(d.ingredients),
            d.drug_class,
            ", ".join(d.forms),
            ", ".join(d.strengths),
            d.route,
        )

    def extra(self, d: DrugView, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ToolTipRole and column in (2, 5):
            return self.cells(d)[column]
        if role == Qt.ItemDataRole.ForegroundRole and not d.active:
            return QColor("#8d9aa5")
        return None


def matches(drug: DrugView, text: str) -> bool:
    """The search box: any word of the name, an ingredient or the class starting with it."""
    query = fold(text.strip())
    if not query:
        return True
    words = fold(" ".join((drug.name, drug.drug_class, *drug.ingredients))).replace(",", " ")
    return fold(drug.name).startswith(query) or any(w.startswith(query) for w in words.split())


class DrugDialog(FormDialog):
    """Add a drug, or correct one (``drug`` given)."""

    def __init__(
        self, ctx: AppContext, drug: DrugView | None = None, parent: QWidget | None = None
    ) -> None:
        title = f"Edit {drug.name}" if drug else "Add drug"
        super().__init__(ctx, title, "Save" if drug else "Add drug", parent)
        self.drug = drug
        self.name = QLineEdit(placeholderText="e.g. Amoxicillin")
        self.ingredients = QLineEdit(placeholderText="e.g. amoxicillin, clavulanic acid")
        self.drug_class = QLineEdit(placeholderText="e.g. penicillin")
        self.forms = QLineEdit(placeholderText="e.g. tablet, oral suspension")
        self.strengths = QLineEdit(placeholderText="e.g. 250 mg, 500 mg")
        self.route = QLineEdit("by mouth")
        self.route.setToolTip("Usual routes: " + ", ".join(ROUTES))
        self.form.add("name", "&Name *", self.name, 0, 0)
        self.form.add("drug_class", "&Class", self.drug_class, 0, 1)
        self.form.add(
            "ingredients",
            "Active &ingredients *",
            self.ingredients,
            1,
            0,
            2,
            hint="Separated by commas; allergy and duplicate warnings compare them.",
        )
        self.form.add("forms", "&Forms", self.forms, 2, 0, hint="Separated by commas.")
        self.form.add("strengths", "&Strengths", self.strengths, 2, 1, hint="Separated by commas.")
        self.form.add("route", "&Route *", self.route, 3, 0, hint=f"e.g. {', '.join(ROUTES[:3])}")
        if drug is not None:
            self.name.setText(drug.name)
            self.ingredients.setText(", ".join(drug.ingredients))
            self.drug_class.setText(drug.drug_class)
            self.forms.setText(", ".join(drug.forms))
            self.strengths.setText(", ".join(drug.strengths))
            self.route.setText(drug.route)
        self.finish_layout()

    def call(self) -> Callable[[], DrugView]:
        data = DrugInput(
            self.name.text(),
            self.ingredients.text(),
            self.drug_class.text(),
            self.forms.text(),
            self.strengths.text(),
            self.route.text(),
        )
        formulary, actor = self.ctx.session.formulary, self.ctx.actor
        if self.drug is None:
            return partial(formulary.add, actor, data)
        return partial(formulary.update, actor, self.drug.id, self.drug.version, data)

    def refused(self, error: BaseException) -> None:
        if isinstance(error, Conflict) and "already in the formulary" in error.message:
            self.form.set_error("name", error.message)
            self.name.setFocus()
            return
        super().refused(error)


class FormularyScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.drugs: list[DrugView] = []
        self.model = DrugTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        read_only_rows(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        for column, width in ((2, 190), (5, 170)):  # long lists: elided, the rest in a tip
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self.edit_drug)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a drug, an ingredient or a class")
        self.search.setAccessibleName("Find a drug")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search", "#5b6b79"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self._filter)
        self.add_button = QPushButton(icon("plus", "#ffffff"), "Add drug…")
        set_kind(self.add_button, "primary")
        self.add_button.clicked.connect(self.add_drug)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit_drug)
        self.active_button = QPushButton("Withdraw")
        self.active_button.clicked.connect(self.toggle_active)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        for button in (self.add_button, self.edit_button, self.active_button):
            bar.addWidget(button)
        self.count = QLabel()
        set_kind(self.count, "hint")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        self._update_buttons()
        self.refresh()

    def refresh(self, select_id: str | None = None) -> None:
        def loaded(drugs: list[DrugView]) -> None:
            self.drugs = drugs
            self._filter(select_id=select_id)

        self.ctx.tasks.submit(
            self.ctx.session.formulary.all,
            self.ctx.actor,
            on_result=loaded,
            on_error=self._failed,
            owner=self,
        )

    def _filter(self, *_args, select_id: str | None = None) -> None:
        current = self.selected()
        keep = select_id or (current.id if current else None)
        rows = [d for d in self.drugs if matches(d, self.search.text())]
        self.model.set_rows(rows)
        ids = [d.id for d in rows]
        if rows:
            self.table.selectRow(ids.index(keep) if keep in ids else 0)
        withdrawn = sum(not d.active for d in self.drugs)
        self.count.setText(
            f"{len(rows)} of {plural(len(self.drugs), 'drug')} shown; {withdrawn} withdrawn "
            "(kept on old prescriptions, no longer offered to prescribers)."
        )
        self._update_buttons()

    def selected(self) -> DrugView | None:
        return self.model.row(self.table.currentIndex().row())

    def _update_buttons(self, *_args) -> None:
        drug = self.selected()
        self.edit_button.setEnabled(drug is not None)
        self.active_button.setEnabled(drug is not None)
        self.active_button.setText("Reinstate" if drug and not drug.active else "Withdraw")
        set_kind(self.active_button, "danger" if drug is None or drug.active else None)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.show()

    def _failed(self, error: BaseException) -> None:
        self._say(describe(error), error=True)

    def _open(self, dialog: DrugDialog, verb: str) -> None:
        self.drug_dialog = dialog

        def done() -> None:
            drug = dialog.result_info
            if drug is not None:
                self._say(f"{drug.name}: {verb}.")
                self.refresh(drug.id)

        dialog.accepted.connect(done)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def add_drug(self) -> None:
        self._open(DrugDialog(self.ctx, None, self), "added to the formulary")

    def edit_drug(self, *_args) -> None:
        drug = self.selected()
        if drug is not None:
            self._open(DrugDialog(self.ctx, drug, self), "saved")

    def toggle_active(self) -> None:
        drug = self.selected()
        if drug is None:
            return

        def done(changed: DrugView) -> None:
            self._say(
                f"{changed.name} is offered to prescribers again."
                if changed.active
                else f"{changed.name} is withdrawn: no longer offered to prescribers; "
                "prescriptions already written keep it."
            )
            self.refresh(changed.id)

        self.ctx.tasks.submit(
            self.ctx.session.formulary.set_active,
            self.ctx.actor,
            drug.id,
            not drug.active,
            on_result=done,
            on_error=self._failed,
            owner=self,
        )

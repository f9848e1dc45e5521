"""Writing a prescription during a visit, keyboard first.

Items on the left (Ctrl+N or Insert adds one, Delete removes the highlighted one), the chosen
item's form on the right. Allergy and duplicate-ingredient warnings are checked as the doctor
types. Ctrl+Enter signs; a warning needs a reason first. Once signed, the dialog shows the
reference number and offers printing (Ctrl+P) and saving as PDF.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QIcon, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.services.prescription_checks import (
    MAX_ITEMS,
    ItemInput,
    NeedsAcknowledgement,
    RxWarning,
)
from clinicdesk.services.prescription_views import PrescriptionView
from clinicdesk.services.prescriptions import DEFAULT_VALID_DAYS, MAX_VALID_DAYS
from clinicdesk.services.visits import VisitView
from ui.changes import ALLERGIES, FollowPatient
from ui.context import AppContext
from ui.doctor.acknowledge_dialog import ALLERGY, AcknowledgeDialog
from ui.doctor.allergy_banner import AllergyBanner
from ui.doctor.print_prescription import print_prescription, save_prescription_pdf
from ui.doctor.rx_item_editor import ItemEditor
from ui.errors import describe
from ui.tasks import Task
from ui.theme import icon, set_kind
from ui.widgets.form_dialog import FormDialog
from ui.widgets.forms import sentence

CHECK_MS = 300
_ITEM_FIELD = re.compile(r"^item_(\d+)_(\w+)$")


def _note(kind: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    set_kind(label, kind)
    label.hide()
    return label


class PrescriptionDialog(FormDialog):
    """Emits ``submitted`` with the PrescriptionView once signed and stored, then shows it."""

    sending_text = "Signing…"

    def __init__(self, ctx: AppContext, visit: VisitView, parent: QWidget | None = None) -> None:
        title = f"Prescription for {visit.patient_name}"
        super().__init__(ctx, title, "Sign prescription", parent, min_width=980)
        self.ctx: AppContext = ctx
        self.visit = visit
        self.prescription: PrescriptionView | None = None
        self.acknowledged: dict[str, str] = {}
        self.flagged: set[int] = set()  # rows whose fields the last signing refused
        self._check_task: Task | None = None
        self._check_seq = 0
        self.setMinimumHeight(560)
        self.form.hide()  # each item has a form of its own
        self.pages = QStackedWidget()
        self.pages.addWidget(self._writing_page())
        self.pages.addWidget(self._signed_page())
        self.layout_.addWidget(self.pages, 1)

        self._checker = QTimer(self)
        self._checker.setSingleShot(True)
        self._checker.setInterval(CHECK_MS)
        self._checker.timeout.connect(self.check_now)
        self._shortcuts()
        self.add_item()
        self._allergies_task: Task | None = None
        FollowPatient(  # loads the allergies as the dialog opens, then follows them
            self, ctx, lambda: visit.patient_id, self._allergies_changed, ALLERGIES
        )

    # ---- layout ----

    def _writing_page(self) -> QWidget:
        page = QWidget()
        subtitle = QLabel(f"Written by {self.visit.doctor_name}. Up to {MAX_ITEMS} items.")
        set_kind(subtitle, "muted")

        self.item_list = QListWidget()
        self.item_list.setAccessibleName("Items")
        self.item_list.setFixedWidth(250)
        self.item_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.item_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.item_list.currentRowChanged.connect(self._show_item)
        self.add_button = QPushButton(icon("plus"), "Add item")
        self.add_button.setToolTip("Ctrl+N or Insert")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_item)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Delete, in the list of items")
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self.remove_item)
        left = QVBoxLayout()
        items_title = QLabel("ITEMS")
        set_kind(items_title, "section")
        left.addWidget(items_title)
        left.addWidget(self.item_list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)

        self.editors = QStackedWidget()
        right = QVBoxLayout()
        self.item_title = QLabel("ITEM 1")
        set_kind(self.item_title, "section")
        right.addWidget(self.item_title)
        right.addWidget(self.editors, 1)
        self.warnings = QVBoxLayout()
        self.warnings.setSpacing(6)
        right.addLayout(self.warnings)

        body = QHBoxLayout()
        body.setSpacing(18)
        body.addLayout(left)
        body.addLayout(right, 1)

        self.valid_days = QSpinBox()
        self.valid_days.setRange(1, MAX_VALID_DAYS)
        self.valid_days.setValue(DEFAULT_VALID_DAYS)
        self.valid_days.setSuffix(" days")
        self.valid_days.setAccessibleName("Valid for")
        valid_label = QLabel("&Valid for")
        valid_label.setBuddy(self.valid_days)
        self.valid_error = _note("fieldError")
        # Enter moves on within an item; only Ctrl+Enter signs
        self.save.setToolTip("Ctrl+Enter")
        self.save.setAutoDefault(False)
        footer = QHBoxLayout()
        footer.addWidget(valid_label)
        footer.addWidget(self.valid_days)
        footer.addWidget(self.valid_error)
        footer.addStretch(1)
        hint = QLabel("Ctrl+Enter signs")
        set_kind(hint, "hint")
        footer.addWidget(hint)
        footer.addWidget(self.buttons)

        self.banner = AllergyBanner()  # before any drug is chosen, and kept current

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(subtitle)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        layout.addLayout(footer)
        return page

    def _signed_page(self) -> QWidget:
        page = QWidget()
        self.signed_title = QLabel("Signed")
        set_kind(self.signed_title, "success")
        self.reference = QLabel()
        self.reference.setObjectName("RxReference")
        self.reference.setStyleSheet("font-size: 24pt; font-weight: 600; letter-spacing: 2px;")
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reference.setAccessibleName("Reference number")
        self.signed_items = QLabel()
        self.signed_items.setWordWrap(True)
        self.signed_items.setTextFormat(Qt.TextFormat.PlainText)
        self.saved = _note("success")
        self.print_button = QPushButton("Print…")
        self.print_button.setToolTip("Ctrl+P")
        set_kind(self.print_button, "primary")
        self.print_button.clicked.connect(self.print_it)
        self.save_button = QPushButton("Save as PDF…")
        self.save_button.clicked.connect(self.save_pdf)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.print_button, self.save_button, close):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(self.signed_title)
        caption = QLabel("Reference number (for the pharmacy if the code will not scan)")
        set_kind(caption, "muted")
        layout.addWidget(caption)
        layout.addWidget(self.reference)
        layout.addWidget(self.signed_items)
        layout.addStretch(1)
        layout.addWidget(self.saved)
        layout.addLayout(buttons)
        return page

    def _shortcuts(self) -> None:
        def on(keys, slot, widget: QWidget | None = None) -> None:
            shortcut = QShortcut(QKeySequence(keys), widget or self)
            if widget is not None:
                shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

        on("Ctrl+N", self.add_item)
        on(Qt.Key.Key_Insert, self.add_item)
        on(Qt.Key.Key_Delete, self.remove_item, self.item_list)
        on("Ctrl+Return", self._sign_key)
        on("Ctrl+Enter", self._sign_key)
        on("Ctrl+P", self._print_key)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.save.setDefault(False)  # the button box makes it the default as it is shown

    # ---- items ----

    def item_editors(self) -> list[ItemEditor]:
        return [self.editors.widget(i) for i in range(self.editors.count())]

    def add_item(self) -> None:
        if self.prescription is not None:
            return
        if self.editors.count() >= MAX_ITEMS:
            self.say(f"A prescription holds at most {MAX_ITEMS} items.")
            return
        editor = ItemEditor(self.ctx)
        editor.changed.connect(lambda: self._item_changed(editor))
        self.editors.addWidget(editor)
        self.item_list.addItem(self._list_text(self.editors.count(), editor))
        self.item_list.setCurrentRow(self.editors.count() - 1)
        self._update_buttons()
        editor.setFocus()

    def remove_item(self) -> None:
        row = self.item_list.currentRow()
        if self.prescription is not None or row < 0 or self.editors.count() <= 1:
            return
        editor = self.editors.widget(row)
        self.editors.removeWidget(editor)
        editor.deleteLater()
        self.item_list.takeItem(row)
        self.flagged = {r - (r > row) for r in self.flagged if r != row}
        self._renumber()
        self._update_buttons()
        self._checker.start()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.editors.count() > 1)
        self.add_button.setEnabled(self.editors.count() < MAX_ITEMS)

    def _list_text(self, line: int, editor: ItemEditor) -> str:
        return f"{line}.  {editor.summary()}"

    def _renumber(self) -> None:
        for row, editor in enumerate(self.item_editors()):
            item = self.item_list.item(row)
            item.setText(self._list_text(row + 1, editor))
            item.setIcon(icon("warning", "#b3261e") if row in self.flagged else QIcon())
        self.item_title.setText(f"ITEM {self.item_list.currentRow() + 1}")

    def _show_item(self, row: int) -> None:
        if row >= 0:
            self.editors.setCurrentIndex(row)
            self.item_title.setText(f"ITEM {row + 1}")

    def _item_changed(self, editor: ItemEditor) -> None:
        row = self.item_editors().index(editor)
        item = self.item_list.item(row)
        item.setText(self._list_text(row + 1, editor))
        item.setToolTip(editor.directions.text())
        self._checker.start()

    def items(self) -> list[ItemInput]:
        return [editor.item() for editor in self.item_editors()]

    # ---- live warnings ----

    def load_allergies(self) -> None:
        if self._allergies_task is not None:
            self._allergies_task.cancel()
        self._allergies_task = self.ctx.tasks.submit(
            self.ctx.session.chart.allergies,
            self.ctx.actor,
            self.visit.patient_id,
            on_result=self.banner.set_allergies,
            on_error=lambda e: self.banner.setText(f"Allergies could not be read: {describe(e)}"),
            owner=self,
        )

    def _allergies_changed(self) -> None:
        """An allergy was added, changed or removed meanwhile: the banner and the warnings
        follow it (signing checks again in any case)."""
        self.load_allergies()
        if self.prescription is None:
            self.check_now()

    def check_now(self) -> None:
        """Allergies and duplicates for the drugs typed so far.

        An item with no drug yet stands in under a name that matches nothing, so that the
        warnings keep the item numbers the doctor sees.
        """
        self._checker.stop()
        self._check_seq += 1
        seq = self._check_seq
        items = [
            i if i.drug else replace(i, drug=f"item {n} without a drug yet")
            for n, i in enumerate(self.items(), start=1)
        ]
        if self._check_task is not None:
            self._check_task.cancel()
        if not any(i.drug for i in self.items()):
            self.show_warnings([])
            return
        self._check_task = self.ctx.tasks.submit(
            self.ctx.session.prescriptions.check,
            self.ctx.actor,
            self.visit.patient_id,
            items,
            on_result=lambda found: seq == self._check_seq and self.show_warnings(found),
            on_error=lambda _e: None,  # signing checks again and says why
            owner=self,
        )

    def show_warnings(self, warnings: list[RxWarning]) -> None:
        """Allergies in red, duplicates in amber; the line numbers are of the typed items."""
        while self.warnings.count():
            self.warnings.takeAt(0).widget().deleteLater()
        for warning in warnings:
            label = QLabel(("⚠ " if warning.kind == ALLERGY else "") + warning.message)
            label.setWordWrap(True)
            label.setAccessibleName("Warning")
            if warning.kind == ALLERGY:
                set_kind(label, "banner")
            else:
                label.setStyleSheet(
                    "color: #6b4700; background: #fdf1d6; border: 1px solid #ecd29a;"
                    " border-radius: 6px; padding: 8px 10px;"
                )
            self.warnings.addWidget(label)

    def warning_texts(self) -> list[str]:
        return [
            self.warnings.itemAt(i).widget().text().removeprefix("⚠ ")
            for i in range(self.warnings.count())
        ]

    # ---- signing ----

    def _sign_key(self) -> None:
        if self.prescription is None:
            self.submit()

    def call(self) -> Callable[[], PrescriptionView]:
        self.valid_error.hide()
        for editor in self.item_editors():
            editor.form.clear_errors()
        write, actor, visit_id = self.ctx.session.prescriptions.write, self.ctx.actor, self.visit.id
        items, acknowledged = self.items(), dict(self.acknowledged)
        valid_days = self.valid_days.value()
        return lambda: write(
            actor, visit_id, items, acknowledgements=acknowledged, valid_days=valid_days
        )

    def refused(self, error: BaseException) -> None:
        if isinstance(error, NeedsAcknowledgement):
            self.show_warnings(error.warnings)
            self.ask_reasons(error.warnings)
        elif isinstance(error, ValidationError):
            self.show_problems(error.fields)
        else:
            super().refused(error)

    def ask_reasons(self, warnings: list[RxWarning]) -> None:
        dialog = AcknowledgeDialog(self.ctx, warnings, self.acknowledged, self)
        self.acknowledge_dialog = dialog

        def given() -> None:
            self.acknowledged.update(dialog.acknowledgements())
            self.submit()

        dialog.accepted.connect(given)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self.activateWindow)  # the keyboard comes back here
        dialog.open()

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each item's problems at its fields; the first bad item is shown and focused."""
        per_item: dict[int, dict[str, str]] = {}
        general = []
        for key, reason in problems.items():
            match = _ITEM_FIELD.match(key)
            if match and 1 <= int(match.group(1)) <= self.editors.count():
                per_item.setdefault(int(match.group(1)) - 1, {})[match.group(2)] = reason
            elif key == "valid_for":
                self.valid_error.setText(sentence("Validity", reason))
                self.valid_error.show()
            else:
                general.append(sentence("Items", reason) if key == "items" else reason)
        self.flagged = set(per_item)
        self._renumber()
        if per_item:
            first = min(per_item)
            self.item_list.setCurrentRow(first)
            for row, found in per_item.items():
                leftover = self.item_editors()[row].form.show_errors(found, focus=row == first)
                general.extend(leftover.values())
            lines = ", ".join(str(r + 1) for r in sorted(per_item))
            general.insert(0, f"Check item{'s' if len(per_item) > 1 else ''} {lines}")
        if general:
            self.say(". ".join(g.rstrip(".") for g in general) + ".")

    def succeeded(self, view: PrescriptionView) -> None:
        """Signed: the reference number and printing, in place of the form."""
        self.prescription = view
        self.setWindowTitle(f"Prescription {view.reference_grouped}")
        self.heading.setText(f"Prescription for {view.patient_name}")
        self.signed_title.setText(
            f"Signed by {view.doctor_name} on {view.issued_on:%d/%m/%Y}; "
            f"valid until {view.valid_until:%d/%m/%Y}."
        )
        self.reference.setText(view.reference_grouped)
        self.signed_items.setText(
            "\n".join(
                f"{i.line}. {' '.join(p for p in (i.drug, i.strength) if p)} — {i.directions}"
                for i in view.items
            )
        )
        self.pages.setCurrentIndex(1)
        self.print_button.setFocus()

    def reject(self) -> None:
        if self.sending:
            return
        typed = any(e.item().drug or e.item().dose for e in self.item_editors())
        if self.prescription is None and typed and self.isVisible():
            answer = QMessageBox.question(
                self,
                "Discard prescription?",
                "This prescription is not signed. Discard what you typed?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()

    # ---- after signing ----

    def _print_key(self) -> None:
        if self.prescription is not None:
            self.print_it()

    def print_it(self) -> None:
        if self.prescription is not None:
            print_prescription(self.ctx, self, self.prescription.id)

    def save_pdf(self) -> None:
        if self.prescription is not None:
            save_prescription_pdf(self.ctx, self, self.prescription.id, on_saved=self._saved)

    def _saved(self, path: Path) -> None:
        self.saved.setText(f"Saved to {path}")
        self.saved.show()

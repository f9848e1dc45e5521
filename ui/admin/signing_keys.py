"""The signing keys screen (admins): the clinic's prescription signing keys and the keys of
other clinics it trusts; rotate, revoke, and trust files to carry public keys between clinics."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.rx.keys import ACTIVE, REVOKED
from clinicdesk.services.signing import KeyView, TrustFile
from clinicdesk.text import plural
from ui.admin.trust_import import TrustImportDialog
from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_kind
from ui.widgets.dates import format_moment
from ui.widgets.form_dialog import FormDialog
from ui.widgets.table import RowsModel, read_only_rows

TRUST_FILTER = "ClinicDesk trust files (*.cdtrust *.json)"
ROTATE_TEXT = (
    "Make a new signing key for this clinic's prescriptions from now on?\n\n"
    "The current key is retired, not revoked: prescriptions already signed with it stay valid, "
    "here and at every pharmacy that trusts this clinic. Pharmacies outside the clinic need a "
    "new trust file to check the prescriptions signed with the new key."
)


class KeyTableModel(RowsModel[KeyView]):
    HEADERS = ("Fingerprint", "Clinic", "Whose", "Status", "Created", "Changed")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, k: KeyView) -> tuple[str, ...]:
        return (
            k.fingerprint,
            k.clinic_name,
            "This clinic" if k.own else "Imported",
            k.status_label,
            format_moment(k.created_at, self.time_zone),
            format_moment(k.changed_at, self.time_zone),
        )

    def extra(self, k: KeyView, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.ForegroundRole:
            if k.status == REVOKED:
                return QColor("#a1231b")
            if k.status != ACTIVE:
                return QColor("#5b6b79")
        if role == Qt.ItemDataRole.FontRole and column == 0:
            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        return None


class RevokeDialog(FormDialog):
    """A reason is required: revoking makes every prescription signed with the key refused."""

    def __init__(self, ctx: AppContext, key: KeyView, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Revoke key {key.kid}", "Revoke key", parent)
        set_kind(self.save, "danger")
        whose = "this clinic's" if key.own else f"{key.clinic_name}'s"
        warning = QLabel(
            f"Prescriptions signed with {whose} key {key.kid} will be refused when scanned, "
            "here and wherever the revocation reaches, even those not yet dispensed. Revoke only "
            "a key that may be in the wrong hands."
            + (" The clinic goes on prescribing with a new key." if key.status == ACTIVE else "")
        )
        warning.setWordWrap(True)
        set_kind(warning, "banner")
        self.form.grid.addWidget(warning, 0, 0, 1, 2)
        self.key = key
        self.reason = QLineEdit(placeholderText="e.g. the computer holding a copy was stolen")
        self.form.add("reason", "&Reason *", self.reason, 1, 0, 2)
        self.finish_layout()
        self.reason.setFocus()

    def call(self) -> Callable[[], KeyView]:
        return partial(
            self.ctx.session.signing_keys.revoke, self.ctx.actor, self.key.kid, self.reason.text()
        )


class SigningKeysScreen(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = KeyTableModel(ctx.details.time_zone)
        self.table = QTableView()
        self.table.setModel(self.model)
        read_only_rows(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)

        self.rotate_button = QPushButton("Rotate key…")
        self.rotate_button.setToolTip("A new key for new prescriptions; old ones stay valid.")
        self.rotate_button.clicked.connect(self.rotate)
        self.revoke_button = QPushButton("Revoke…")
        set_kind(self.revoke_button, "danger")
        self.revoke_button.clicked.connect(self.revoke)
        self.export_button = QPushButton("Export trust file…")
        self.export_button.setToolTip(
            "This clinic's public keys, for pharmacies outside the clinic to check its codes."
        )
        self.export_button.clicked.connect(self.export)
        self.import_button = QPushButton("Import trust file…")
        self.import_button.setToolTip("Trust another clinic's prescriptions.")
        self.import_button.clicked.connect(self.import_)
        bar = QHBoxLayout()
        for button in (self.rotate_button, self.revoke_button):
            bar.addWidget(button)
        bar.addStretch(1)
        for button in (self.export_button, self.import_button):
            bar.addWidget(button)
        explain = QLabel(
            "Prescriptions are signed with the key in use; their codes are checked against every "
            "key listed here. A retired key stays trusted until the last prescription it could "
            "have signed runs out; revoked keys are refused. Read a fingerprint out to a "
            "pharmacy importing this clinic's trust file, so they can check it."
        )
        explain.setWordWrap(True)
        set_kind(explain, "hint")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(explain)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        def loaded(keys: list[KeyView]) -> None:
            current = self.selected()
            self.model.set_rows(keys)
            kids = [k.kid for k in keys]
            if keys:
                keep = current.kid if current else None
                self.table.selectRow(kids.index(keep) if keep in kids else 0)
            self._update_buttons()

        self.ctx.tasks.submit(
            self.ctx.session.signing_keys.list,
            self.ctx.actor,
            on_result=loaded,
            on_error=self._failed,
            owner=self,
        )

    def selected(self) -> KeyView | None:
        return self.model.row(self.table.currentIndex().row())

    def _update_buttons(self, *_args) -> None:
        key = self.selected()
        self.revoke_button.setEnabled(key is not None and key.status != REVOKED)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.show()

    def _failed(self, error: BaseException) -> None:
        self._say(describe(error), error=True)

    def _run(self, fn: Callable, *args, done: Callable[[object], str]) -> None:
        def finished(value: object) -> None:
            self._say(done(value))
            self.refresh()

        self.ctx.tasks.submit(
            fn, self.ctx.actor, *args, on_result=finished, on_error=self._failed, owner=self
        )

    # ---- actions ----

    def rotate(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Rotate signing key", ROTATE_TEXT, parent=self)
        yes = box.addButton("Rotate key", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(yes)
        self.confirm_box = box

        def answered() -> None:
            if box.clickedButton() is yes:
                self._run(
                    self.ctx.session.signing_keys.rotate,
                    done=lambda key: (
                        f"New key {key.kid} in use. The old key is retired: its prescriptions "
                        "stay valid until they run out. Export a new trust file for "
                        "pharmacies outside the clinic."
                    ),
                )

        box.finished.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()

    def revoke(self) -> None:
        key = self.selected()
        if key is None or key.status == REVOKED:
            return
        dialog = RevokeDialog(self.ctx, key, self)
        self.revoke_dialog = dialog

        def done() -> None:
            if dialog.result_info is not None:
                self._say(
                    f"Key {key.kid} revoked: prescriptions signed with it are refused from now."
                )
                self.refresh()

        dialog.accepted.connect(done)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def export(self) -> None:
        suggested = str(Path.home() / f"{self.ctx.details.name} signing keys.cdtrust")
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export trust file", suggested, TRUST_FILTER
        )
        if not path:
            return
        target = Path(path)
        self._run(
            self.ctx.session.signing_keys.export_trust_file,
            target,
            done=lambda count: (
                f"Trust file with {plural(count, 'key')} written "
                f"to {target}. Give it to pharmacies outside the clinic (it holds no secrets)."
            ),
        )

    def import_(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import another clinic's trust file", str(Path.home()), TRUST_FILTER
        )
        if not path:
            return
        self.ctx.tasks.submit(
            self.ctx.session.signing_keys.read_trust_file,
            self.ctx.actor,
            Path(path),
            on_result=self._confirm_import,
            on_error=self._failed,
            owner=self,
        )

    def _confirm_import(self, trust: TrustFile) -> None:
        """Nothing is imported until the admin has checked every fingerprint."""
        dialog = TrustImportDialog(self.ctx, trust, self)
        self.trust_dialog = dialog

        def imported(keys: list[KeyView]) -> None:
            self._say(_imported_text(keys))
            self.refresh()

        dialog.submitted.connect(imported)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()


def _imported_text(keys: list[KeyView]) -> str:
    if not keys:
        return "Nothing new in that trust file: its keys were already known here."
    clinics = ", ".join(sorted({k.clinic_name for k in keys}))
    return f"{plural(len(keys), 'key')} of {clinics} now known here."

"""Confirming another clinic's trust file before it is imported: the clinic it names and each
key's fingerprint, to be checked group by group against the fingerprints that clinic reads out
from its own Admin → Signing keys screen (by phone, or in person). Import stays disabled until
the admin says every fingerprint matched; Enter alone never imports."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QWidget,
)

from clinicdesk.services.signing import TrustFile
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout


class TrustImportDialog(QDialog):
    def __init__(self, trust: TrustFile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trust = trust
        self.setWindowTitle("Import trust file")
        self.setMinimumWidth(560)
        layout, _heading = titled_layout(self, f"Trust {trust.clinic_name}?", spacing=12)
        known = (
            "This clinic is trusted here already; the file adds or retires its keys."
            if trust.known_clinic
            else "This clinic is not trusted here yet."
        )
        about = QLabel(
            f"{trust.file_name} names the clinic <b>{_escape(trust.clinic_name)}</b> "
            f"(clinic id {_escape(trust.clinic_id)}). {known}"
        )
        about.setWordWrap(True)
        layout.addWidget(about)
        steps = QLabel(
            f"Call {_escape(trust.clinic_name)} on a number you already know (not one given "
            "with the file) and ask them to read out the fingerprints on their Admin → Signing "
            "keys screen. Check every group of four. If any group differs, do not import: the "
            "file may not come from them."
        )
        steps.setWordWrap(True)
        set_kind(steps, "hint")
        layout.addWidget(steps)

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() * 1.25)
        for row, key in enumerate(trust.keys):
            print_ = QLabel(key.fingerprint)
            print_.setFont(mono)
            print_.setAccessibleName(f"Fingerprint of key {row + 1}")
            grid.addWidget(print_, row, 0)
            grid.addWidget(QLabel(key.status_label), row, 1)
        layout.addLayout(grid)

        self.checked = QCheckBox(
            f"&Every fingerprint matches what {trust.clinic_name} read out to me"
        )
        layout.addWidget(self.checked)
        buttons = QDialogButtonBox(self)
        self.import_button = buttons.addButton("&Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.import_button.setAutoDefault(False)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        self.checked.toggled.connect(self.import_button.setEnabled)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.checked.setFocus()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

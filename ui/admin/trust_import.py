"""Confirming another clinic's trust file before it is imported: the clinic it names and each
key's fingerprint, to be checked group by group against the fingerprints that clinic reads out
from its own Admin → Signing keys screen (by phone, or in person). Import stays disabled until
the admin says every fingerprint matched; Enter alone never imports."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QWidget

from clinicdesk.services.signing import KeyView, TrustFile
from ui.context import AppContext
from ui.theme import set_kind
from ui.widgets.form_dialog import FormDialog


class TrustImportDialog(FormDialog):
    def __init__(self, ctx: AppContext, trust: TrustFile, parent: QWidget | None = None) -> None:
        super().__init__(
            ctx, f"Trust {trust.clinic_name}?", "&Import", parent, columns=1, min_width=560
        )
        self.trust = trust
        self.setWindowTitle("Import trust file")
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
        steps = QLabel(
            f"Call {_escape(trust.clinic_name)} on a number you already know (not one given "
            "with the file) and ask them to read out the fingerprints on their Admin → Signing "
            "keys screen. Check every group of four. If any group differs, do not import: the "
            "file may not come from them."
        )
        steps.setWordWrap(True)
        set_kind(steps, "hint")
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
        at = self.layout_.indexOf(self.form)
        self.layout_.insertWidget(at, about)
        self.layout_.insertWidget(at + 1, steps)
        self.layout_.insertLayout(at + 2, grid)

        self.checked = QCheckBox(
            f"&Every fingerprint matches what {trust.clinic_name} read out to me"
        )
        self.form.add("checked", "Fingerprints checked", self.checked, 0)
        # Enter alone never imports: Cancel is the default until the box is ticked
        self.import_button = self.save
        self.save.setEnabled(False)
        self.save.setDefault(False)
        self.save.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.checked.toggled.connect(self.save.setEnabled)
        self.finish_layout()
        self.checked.setFocus()

    def call(self) -> Callable[[], list[KeyView]]:
        return partial(self.ctx.session.signing_keys.import_trust_file, self.ctx.actor, self.trust)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

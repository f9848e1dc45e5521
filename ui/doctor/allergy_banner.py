"""The allergy banner at the top of every chart and visit: never hidden, severe ones in bold."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QLabel

from clinicdesk.services.chart import ChartEntry
from clinicdesk.services.chart_sections import SEVERITIES
from ui.theme import set_kind

SERIOUS = ("severe", "life-threatening")


def allergy_text(entry: ChartEntry) -> str:
    """'Penicillin (hives; Severe)' as rich text, the serious ones bold and upper-case."""
    values = entry.values
    severity = SEVERITIES.get(values["severity"], values["severity"])
    details = "; ".join(x for x in (values.get("reaction") or "", severity) if x)
    substance = escape(values["substance"])
    if values["severity"] in SERIOUS:
        substance = f"<b>{substance.upper()}</b>"
    return f"{substance} ({escape(details)})"


class AllergyBanner(QLabel):
    """Allergies: the serious first; "No known allergies recorded" when there are none."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("AllergyBanner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.set_allergies(None)

    def set_allergies(self, entries: list[ChartEntry] | None) -> None:
        """None while nothing is loaded yet."""
        if entries is None:
            self.setText("Allergies: loading…")
            set_kind(self, "none")
        elif not entries:
            self.setText("No known allergies recorded")
            set_kind(self, "none")
        else:
            ordered = sorted(entries, key=lambda e: e.values["severity"] not in SERIOUS)
            serious = any(e.values["severity"] in SERIOUS for e in entries)
            label = "⚠ ALLERGIES" if serious else "Allergies"
            self.setText(f"{label}: " + " · ".join(allergy_text(e) for e in ordered))
            set_kind(self, "serious" if serious else "present")
        self.setAccessibleName(self.plain_text())

    def plain_text(self) -> str:
        return QTextDocumentFragment.fromHtml(self.text()).toPlainText()

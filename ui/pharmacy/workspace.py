"""The pharmacy workspace: the counter (scan, verdict, dispense), stock and history.

Counter (F2), Stock (F3) and History (F4) under one switch; F2-F4 are the main window's keys,
which come here while this workspace is shown (see ``FRONT_DESK_KEYS``). While it is shown, a
prescription scanned with the USB scanner is caught wherever the focus is and opens on the
counter.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QTabBar, QVBoxLayout, QWidget

from clinicdesk.permissions import P
from clinicdesk.services.pharmacy_views import SCANNER
from ui.context import AppContext
from ui.pharmacy.counter import CounterView
from ui.pharmacy.history_view import HistoryView
from ui.pharmacy.stock_view import StockView
from ui.pharmacy.wedge import WedgeCatcher
from ui.widgets.stacks import CurrentPageStack

VIEWS = (("Counter", "F2"), ("Stock", "F3"), ("History", "F4"))
COUNTER, STOCK, HISTORY = range(3)


class PharmacyWorkspace(QWidget):
    # the main window's F2-F4, as this workspace understands them
    FRONT_DESK_KEYS: ClassVar[dict[str, str]] = {
        "show_patients": "show_counter",
        "show_calendar": "show_stock",
        "show_queue": "show_history",
    }

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.counter = CounterView(ctx)
        self.stock = StockView(ctx)
        self.history = HistoryView(ctx)
        self.views = QTabBar(objectName="ViewSwitch")
        self.views.setExpanding(False)
        self.views.setDrawBase(False)
        self.views.setUsesScrollButtons(False)
        self.views.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # F2-F4 switch; the keys stay in a view
        for title, key in VIEWS:
            index = self.views.addTab(f"{title}  {key}")
            self.views.setTabToolTip(index, f"{title} ({key})")
        if not ctx.actor.can(P.DISPENSE):  # every patient's medicines: for those who dispense
            self.views.setTabEnabled(HISTORY, False)
            self.views.setTabToolTip(HISTORY, "Shown only to those who dispense.")
        self.stack = CurrentPageStack()
        for page in (self.counter, self.stock, self.history):
            self.stack.addWidget(page)
        self.views.currentChanged.connect(self._view_changed)

        self.wedge = WedgeCatcher(self)
        self.wedge.scanned.connect(self._scanned)
        self.wedge.referenceScanned.connect(self._reference_scanned)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 12, 24, 16)
        layout.setSpacing(12)
        layout.addWidget(self.views)
        layout.addWidget(self.stack, 1)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.wedge.install()
        self.stack.currentWidget().refresh()
        QTimer.singleShot(0, self._focus_view)

    def hideEvent(self, event) -> None:
        self.wedge.remove()
        super().hideEvent(event)

    # ---- views ----

    def show_view(self, index: int) -> None:
        self.views.setCurrentIndex(index)
        self._focus_view()

    def show_counter(self) -> None:
        self.show_view(COUNTER)

    def show_stock(self) -> None:
        self.show_view(STOCK)

    def show_history(self) -> None:
        if self.views.isTabEnabled(HISTORY):
            self.show_view(HISTORY)

    def _view_changed(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        self.stack.currentWidget().refresh()
        self._focus_view()

    def _focus_view(self) -> None:
        view = self.stack.currentWidget()
        focus = getattr(view, "focus_view", None)
        if focus is not None:
            focus()
        elif not view.isAncestorOf(self.focusWidget()):
            view.setFocus()

    # ---- the scanner ----

    def _scanned(self, code: str) -> None:
        self.show_counter()
        self.counter.scan(code, SCANNER)

    def _reference_scanned(self, digits: str) -> None:
        self.show_counter()
        self.counter.look_up(digits)

"""The pharmacy workspace: the counter (scan, verdict, dispense), stock and history.

Counter, Stock and History under one switch (keys in ``pages.py``); the page keys are the main
window's, which come here while this workspace is shown. While it is shown, a prescription
scanned with the USB scanner is caught wherever the focus is and opens on the counter.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from clinicdesk.permissions import P
from clinicdesk.services.pharmacy_views import SCANNER
from ui.context import AppContext
from ui.pharmacy.counter import CounterView
from ui.pharmacy.history_view import HistoryView
from ui.pharmacy.pages import COUNTER, HISTORY, PAGES, STOCK
from ui.pharmacy.stock_view import StockView
from ui.pharmacy.wedge import WedgeCatcher
from ui.widgets.pages import Page, PageSwitch
from ui.widgets.stacks import CurrentPageStack


class PharmacyWorkspace(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.counter = CounterView(ctx)
        self.stock = StockView(ctx)
        self.history = HistoryView(ctx)
        self.views = PageSwitch(PAGES)
        if not self.has_history:  # every patient's medicines: for those who dispense
            self.views.setTabEnabled(PAGES.index(HISTORY), False)
            self.views.setTabToolTip(PAGES.index(HISTORY), "Shown only to those who dispense.")
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

    @property
    def has_history(self) -> bool:
        return self.ctx.actor.can(P.DISPENSE)

    def available_pages(self) -> tuple[Page, ...]:
        return tuple(p for p in PAGES if p is not HISTORY or self.has_history)

    def show_page(self, page: Page) -> None:
        if page in self.available_pages():
            self.views.setCurrentIndex(PAGES.index(page))
            self._focus_view()

    def show_counter(self) -> None:
        self.show_page(COUNTER)

    def show_stock(self) -> None:
        self.show_page(STOCK)

    def show_history(self) -> None:
        self.show_page(HISTORY)

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

"""Catching a keyboard-wedge barcode scanner wherever the focus is.

A USB scanner "types" what it reads: a burst of keys a few milliseconds apart, ending in Enter
(``RX1`` and hundreds of digits for a prescription, 12 digits for a reference barcode). While
installed, ``WedgeCatcher`` holds back keys that could start such a burst. Keys that turn out
not to be one (a pause longer than ``GAP`` or a key that breaks the pattern) are handed on to
the widget they were meant for, in order, so people typing are unaffected; a burst that is a
code is taken away from that widget and emitted instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from clinicdesk.rx import reference
from clinicdesk.rx.code_text import PREFIX, looks_like_code
from clinicdesk.rx.reference import LENGTH as REFERENCE_DIGITS

GAP = 0.05  # seconds between two keys of one burst; scanners type a key every 1-10 ms
MIN_CODE = 20  # characters of a prescription code at the least
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_TYPING = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
MODIFIER_KEYS = (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta)


@dataclass(frozen=True)
class _Held:
    key: int
    modifiers: Qt.KeyboardModifier
    text: str


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _could_be_code(text: str) -> bool:
    """Whether ``text`` can still grow into a prescription code or a reference."""
    if _digits(text):
        return len(text) <= REFERENCE_DIGITS
    rest = text[len(PREFIX) :]
    return PREFIX.startswith(text[: len(PREFIX)].upper()) and (not rest or _digits(rest))


class WedgeCatcher(QObject):
    """An application event filter for the keys typed inside ``area`` while it is shown."""

    scanned = Signal(str)  # a prescription code
    referenceScanned = Signal(str)  # a reference number (12 digits)

    def __init__(
        self, area: QWidget, clock: Callable[[], float] = time.monotonic, gap: float = GAP
    ) -> None:
        super().__init__(area)
        self.area = area
        self.clock = clock
        self.gap = gap
        self.held: list[_Held] = []
        self.target: QWidget | None = None
        self.last = 0.0
        self._replaying = False
        # a poll for the end of a pause; whether the pause is long enough is the clock's to say
        self._timer = QTimer(self, singleShot=True, interval=round(gap * 1000) + 5)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._paused)

    def install(self) -> None:
        QApplication.instance().installEventFilter(self)

    def remove(self) -> None:
        QApplication.instance().removeEventFilter(self)
        self.release()

    # ---- the filter ----

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if self._replaying or kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        if not self._inside(watched):
            return False
        text = event.text()
        now = self.clock()
        if self.held and now - self.last > self.gap:
            self.release()
        if kind == QEvent.Type.ShortcutOverride:
            if self._would_hold(text, event) or (self.held and event.key() in ENTER_KEYS):
                event.accept()  # no shortcut fires in the middle of a burst
                return True
            return False
        if event.key() in MODIFIER_KEYS:
            return False  # scanners press Shift for capitals
        if event.key() in ENTER_KEYS and self.held:
            return self._enter()
        if not self._would_hold(text, event):
            self.release()
            return False
        if not _could_be_code(self._typed() + text):
            self.release()  # and this key may start a burst of its own
        if not self.held:
            self.target = watched
        self.held.append(_Held(event.key(), event.modifiers(), text))
        self.last = now
        self._timer.start()
        return True

    def _inside(self, watched: QObject) -> bool:
        if not isinstance(watched, QWidget) or not self.area.isVisible():
            return False
        focus = QApplication.focusWidget()
        if focus is not None and watched is not focus:
            return False  # the same key again, passed on to a parent: seen already
        return watched is self.area or self.area.isAncestorOf(watched)

    def _would_hold(self, text: str, event: QKeyEvent) -> bool:
        """A plain key that continues the burst held so far, or may begin a new one."""
        if not text or event.modifiers() & ~_TYPING or event.isAutoRepeat():
            return False
        return _could_be_code(self._typed() + text) or _could_be_code(text)

    def _typed(self) -> str:
        return "".join(h.text for h in self.held)

    def _enter(self) -> bool:
        typed = self._typed()
        if _digits(typed) and reference.is_valid(typed):  # not a pack's 12-digit UPC barcode
            self._take()
            self.referenceScanned.emit(typed)
            return True
        if len(typed) >= MIN_CODE and looks_like_code(typed):
            self._take()
            self.scanned.emit(typed)
            return True
        self.release()
        return False

    def _take(self) -> None:
        self._timer.stop()
        self.held = []
        self.target = None

    def _paused(self) -> None:
        if self.clock() - self.last > self.gap:
            self.release()
        else:
            self._timer.start()

    def release(self) -> None:
        """Hand the held keys to the widget they were typed into, as if never held."""
        self._timer.stop()
        held, target = self.held, self.target
        self._take()
        if target is None or not held or not shiboken6.isValid(target):
            return
        self._replaying = True
        try:
            for h in held:
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(target, QKeyEvent(kind, h.key, h.modifiers, h.text))
        finally:
            self._replaying = False

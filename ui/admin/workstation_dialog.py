"""Admin -> Sync -> Add a workstation: the new PC's name, then its one-time join code.

The code is shown large, in groups of four to read out, and as a QR that a barcode scanner on
the new PC types into its set-up (the QR also carries the server's address and certificate
fingerprint, so a scanned code needs nothing else). The time left counts down; once it runs out
the code is struck through and the dialog says so.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QWidget

from clinicdesk.sync.join import NewCode
from ui.context import AppContext
from ui.theme import set_kind
from ui.widgets.form_dialog import FormDialog
from ui.widgets.qr import qr_pixmap

QR_SIDE = 260


def time_left(expires_at: datetime, now: datetime) -> str:
    seconds = int((expires_at - now).total_seconds())
    if seconds <= 0:
        return "This code has expired: make a new one (close, then Add a workstation again)."
    minutes, rest = divmod(seconds, 60)
    return f"Valid for {minutes} min {rest:02d} s more, for one workstation only."


class AddWorkstationDialog(FormDialog):
    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(ctx, "Add a workstation", "Make &code", parent, columns=1)
        self.clock = clock
        self.code: NewCode | None = None
        self.device = self.form.add(
            "device",
            "New workstation's &name *",
            QLineEdit(),
            0,
            hint="As the clinic's devices list will show it, such as Consulting room 2.",
        )
        self.device.setPlaceholderText(f"e.g. {socket.gethostname()}")
        self.shown = QWidget()
        self.shown.hide()
        self.layout_.addWidget(self.shown)
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self._tick)
        self.finish_layout()

    def call(self):
        sync, actor = self.ctx.session.sync, self.ctx.actor
        return partial(sync.make_join_code, actor, self.device.text())

    def succeeded(self, result: NewCode) -> None:
        """Shows the code (the dialog stays open until the admin closes it)."""
        self.code = result
        self.form.hide()
        self.save.hide()
        self.cancel_button.setText("Close")
        self.cancel_button.setDefault(True)
        grid = QGridLayout(self.shown)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(20)
        lead = QLabel(
            f"On <b>{result.device_name}</b>, start ClinicDesk and choose <b>Join a clinic</b>. "
            "Scan the QR code or type the server's address and the code:"
        )
        lead.setWordWrap(True)
        grid.addWidget(lead, 0, 0, 1, 2)
        self.qr = QLabel()
        self.qr.setPixmap(qr_pixmap(result.uri, QR_SIDE))
        self.qr.setAccessibleName("QR code of the join code")
        grid.addWidget(self.qr, 1, 0, 4, 1, Qt.AlignmentFlag.AlignTop)
        self.code_label = QLabel(_lines(result.code))
        self.code_label.setObjectName("JoinCode")
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setAccessibleName("Join code")
        grid.addWidget(self.code_label, 1, 1)
        self.server = QLabel(f"Server: <b>{result.server}</b>")
        self.server.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.server, 2, 1)
        pairs = result.fingerprint.split(":")
        half = len(pairs) // 2
        self.fingerprint = fingerprint = QLabel(
            f"Certificate fingerprint:\n{':'.join(pairs[:half])}\n{':'.join(pairs[half:])}"
            if result.fingerprint
            else "The server has no certificate of its own (plain HTTP on this PC)."
        )
        fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_kind(fingerprint, "hint")
        grid.addWidget(fingerprint, 3, 1)
        self.left = QLabel()
        self.left.setWordWrap(True)
        grid.addWidget(self.left, 4, 1)
        grid.setRowStretch(5, 1)
        self.shown.show()
        self._tick()
        self.countdown.start()
        self.adjustSize()

    def _tick(self) -> None:
        assert self.code is not None
        text = time_left(self.code.expires_at, self.clock())
        self.left.setText(text)
        expired = self.code.expires_at <= self.clock()
        set_kind(self.left, "banner" if expired else "success")
        if expired:
            self.countdown.stop()
            font = self.code_label.font()
            font.setStrikeOut(True)
            self.code_label.setFont(font)
            self.code_label.setEnabled(False)


def _lines(code: str) -> str:
    """Six groups of four, three to a line, so it reads out in two breaths."""
    groups = code.split("-")
    return "  ".join(groups[:3]) + "\n" + "  ".join(groups[3:])

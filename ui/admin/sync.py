"""Admin -> Sync: connect this clinic to a sync server, see its devices, remove one.

Connecting checks the server first: its certificate's fingerprint is shown so the admin can
compare it with the one the server's operator reads out; only that certificate is trusted
afterwards. Every call to the server runs off the UI thread.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.errors import ValidationError
from clinicdesk.services.sync import Device, ServerCertificate
from clinicdesk.sync.runner import SyncStatus
from ui.admin.workstation_dialog import AddWorkstationDialog
from ui.context import AppContext
from ui.errors import describe
from ui.theme import set_kind
from ui.widgets.dates import format_moment
from ui.widgets.form_dialog import FormDialog
from ui.widgets.reason_dialog import ask_reason
from ui.widgets.table import RowsModel, listing


class DeviceModel(RowsModel[Device]):
    HEADERS = ("Device", "Last seen", "Not yet received", "State")

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.time_zone = time_zone

    def cells(self, d: Device) -> tuple[str, ...]:
        name = f"{d.name} (this desk)" if d.this_desk else d.name
        seen = format_moment(d.last_seen, self.time_zone) if d.last_seen else "never"
        state = f"Removed: {d.revoked}" if d.revoked is not None else "Active"
        return (name, seen, f"{d.behind:,}", state)


class ConnectDialog(FormDialog):
    """The server's address, its certificate checked, the operator's token, this PC's name."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Connect to a sync server", "Connect", parent, columns=1)
        self.server: ServerCertificate | None = None
        self.address = self.form.add(
            "address", "Server &address *", QLineEdit(), 0, hint="For example clinic-server:8443"
        )
        self.fingerprint = QLabel("Check the server to see its certificate's fingerprint.")
        self.fingerprint.setWordWrap(True)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_kind(self.fingerprint, "hint")
        self.form.grid.addWidget(self.fingerprint, 1, 0)
        token = QLineEdit()
        token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token = self.form.add("token", "Operator's &token *", token, 2)
        self.device = self.form.add("device", "This &PC's name *", QLineEdit(), 3)
        self.device.setText(socket.gethostname())
        self.check_button = self.add_action("Chec&k server", self.check)
        self.address.textEdited.connect(self._forget_server)
        self.finish_layout()

    def _forget_server(self) -> None:
        self.server = None
        self.fingerprint.setText("Check the server to see its certificate's fingerprint.")

    def check(self) -> None:
        self.say("")
        self.form.clear_errors()
        self.check_button.setEnabled(False)

        def checked(server: ServerCertificate) -> None:
            self.check_button.setEnabled(True)
            self.server = server
            pairs = server.fingerprint.split(":")
            half = len(pairs) // 2
            self.fingerprint.setText(
                "The server's certificate fingerprint is\n"
                f"{':'.join(pairs[:half])}\n{':'.join(pairs[half:])}\n"
                "Compare it with the one the server's operator reads out before you connect."
            )
            self.adjustSize()  # room for the lines now shown
            self.token.setFocus()

        def failed(error: BaseException) -> None:
            self.check_button.setEnabled(True)
            self.refused(error)

        self.tasks.submit(
            self.ctx.session.sync.fetch_certificate,
            self.ctx.actor,
            self.address.text(),
            on_result=checked,
            on_error=failed,
            owner=self,
        )

    def call(self) -> Callable[[], None]:
        if self.server is None:
            raise ValidationError(
                {"address": "Check the server first, and compare its certificate's fingerprint."}
            )
        sync, actor = self.ctx.session.sync, self.ctx.actor
        return partial(sync.connect, actor, self.server, self.token.text(), self.device.text())


class SyncScreen(QWidget):
    status_changed = Signal(object)  # SyncStatus, emitted on a sync thread

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.state = QLabel()
        self.state.setWordWrap(True)
        set_kind(self.state, "subtitle")
        explain = QLabel(
            "With a sync server, the clinic's PCs (reception, the consulting rooms, the pharmacy) "
            "are one clinic: each keeps working on its own encrypted copy when the network is "
            "down, and changes travel through the server, which never holds the clinic's key."
        )
        explain.setWordWrap(True)
        set_kind(explain, "hint")
        self.connect_button = QPushButton(
            "C&onnect to a sync server…"
        )  # Alt+C is the ClinicDesk menu
        set_kind(self.connect_button, "primary")
        self.connect_button.clicked.connect(self.open_connect)
        self.add_button = QPushButton("&Add a workstation…")
        set_kind(self.add_button, "primary")
        self.add_button.setToolTip(
            "A one-time code with which another PC joins this clinic and receives all of it"
        )
        self.add_button.clicked.connect(self.open_add_workstation)
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.revoke_button = QPushButton("Re&move device…")
        set_kind(self.revoke_button, "danger")
        self.revoke_button.clicked.connect(self.revoke)
        bar = QHBoxLayout()
        bar.addWidget(self.connect_button)
        bar.addWidget(self.add_button)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        bar.addWidget(self.revoke_button)
        self.model = DeviceModel(ctx.details.time_zone)
        self.table = QTableView()
        self.table.setModel(self.model)
        listing(self.table, "Devices")
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(self.state)
        layout.addWidget(explain)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 100)
        layout.addStretch(1)  # keeps the words together when there is no table
        self.status_changed.connect(self.show_status)
        stop = ctx.session.on_sync_status(self.status_changed.emit)
        self.destroyed.connect(lambda _=None: stop())
        self.show_status(ctx.session.sync.status(ctx.actor))

    def show_status(self, status: SyncStatus) -> None:
        if not status.enabled:
            self.state.setText("Not connected: this desk works alone.")
        else:
            self.state.setText(status.text())
        self.connect_button.setVisible(not status.enabled)
        for widget in (self.add_button, self.refresh_button, self.table, self.revoke_button):
            widget.setVisible(status.enabled)
        self._update_buttons()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.ctx.session.sync.status(self.ctx.actor).enabled:
            self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        set_kind(self.message, "banner" if error else "success")
        self.message.setVisible(bool(text))

    def refresh(self) -> None:
        self.ctx.tasks.submit(
            self.ctx.session.sync.devices,
            self.ctx.actor,
            on_result=self._show_devices,
            on_error=lambda error: self._say(describe(error), error=True),
            owner=self,
        )

    def _show_devices(self, devices: list[Device]) -> None:
        self.model.set_rows(devices)
        if devices:
            self.table.selectRow(0)
        self._update_buttons()

    def selected(self) -> Device | None:
        return self.model.row(self.table.currentIndex().row())

    def _update_buttons(self, *_args) -> None:
        device = self.selected()
        self.revoke_button.setEnabled(
            device is not None and not device.this_desk and device.revoked is None
        )

    def open_connect(self) -> None:
        dialog = ConnectDialog(self.ctx, self)
        self.connect_dialog = dialog

        def connected(_none: None) -> None:
            self._say("Connected: this desk now syncs with the server.")
            self.show_status(self.ctx.session.sync.status(self.ctx.actor))
            self.refresh()

        dialog.submitted.connect(connected)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def open_add_workstation(self) -> None:
        dialog = AddWorkstationDialog(self.ctx, self)
        self.add_dialog = dialog
        dialog.finished.connect(self.refresh)  # the new desk shows once it has joined
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def revoke(self) -> None:
        device = self.selected()
        if device is None or device.this_desk:
            return
        sync, actor = self.ctx.session.sync, self.ctx.actor

        def removed(_none: None) -> None:
            self._say(f"{device.name} is removed: the server refuses it from now on.")
            self.refresh()

        ask_reason(
            self.ctx,
            self,
            "Remove device",
            f"Why is {device.name} removed from the clinic's sync?",
            "Remove device",
            lambda reason: partial(sync.revoke, actor, device.id, reason),
            removed,
            hint="The device is told this reason when the server refuses it.",
        )

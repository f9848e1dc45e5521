"""Connecting this clinic to a sync server, and looking after its devices (Admin -> Sync).

Connecting takes the server's address and an operator's token. The server's certificate is
fetched first and its fingerprint shown, so the admin compares it with the one the operator
reads out; only that certificate is trusted afterwards. The server is told the clinic's id and
name, never its key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.permissions import Actor, P
from clinicdesk.store.database import Store
from clinicdesk.store.keyslots import KeySlotFile
from clinicdesk.sync import desk, join
from clinicdesk.sync.apply import cursor
from clinicdesk.sync.certificate import ServerCertificate, fetch_certificate
from clinicdesk.sync.client import create_clinic
from clinicdesk.sync.join import NewCode
from clinicdesk.sync.runner import SyncRunner, SyncStatus


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    last_seen: datetime | None
    behind: int  # changes it has not yet received
    revoked: str | None  # why, once revoked
    this_desk: bool


class SyncService:
    def __init__(
        self,
        store: Store,
        slots: KeySlotFile,
        runner: SyncRunner,
        database_keys: Callable[[], dict[int, bytes]],
    ) -> None:
        """``database_keys``: the clinic's database key of every generation this desk holds,
        for a join code's bundle."""
        self.store = store
        self.slots = slots
        self.clinic_id = slots.clinic_id
        self.clinic_name = slots.clinic_name
        self.runner = runner
        self._database_keys = database_keys

    def status(self, actor: Actor) -> SyncStatus:
        del actor  # every signed-in person sees the status bar
        return self.runner.status

    def fetch_certificate(self, actor: Actor, address: str) -> ServerCertificate:
        """The certificate the server at ``address`` presents, to be compared and pinned."""
        actor.require(P.CLINIC_CONFIGURE)
        return fetch_certificate(address)

    def connect(
        self, actor: Actor, server: ServerCertificate, operator_token: str, device_name: str
    ) -> None:
        """Make the clinic's space on the server with this desk in it, then start syncing."""
        actor.require(P.CLINIC_CONFIGURE)
        if desk.connection(self.store) is not None:
            raise Conflict("This clinic is already connected to a sync server.")
        problems = {}
        if not operator_token.strip():
            problems["token"] = "is required: the server's operator gives it"
        if not device_name.strip():
            problems["device"] = "is required: say which PC this is, such as Front desk"
        if problems:
            raise ValidationError(problems)
        with TemporaryDirectory() as folder:
            pinned = Path(folder) / desk.CERTIFICATE
            pinned.write_bytes(server.pem)
            made = create_clinic(
                server.url,
                operator_token.strip(),
                pinned,
                self.clinic_id,
                self.clinic_name,
                device_name.strip(),
            )
        desk.connect(
            self.store, server.url, made["device_id"], made["token"], made["epoch"], server.pem
        )
        self.runner.start()

    def make_join_code(self, actor: Actor, device_name: str) -> NewCode:
        """A one-time code (30 minutes) with which the PC named ``device_name`` joins the
        clinic and pulls all of it; its staff then sign in there with their own passwords."""
        actor.require(P.CLINIC_CONFIGURE)
        self.slots.reload()  # the key file as it is now: the passwords changed up to this moment
        return join.make_code(self.store, self.slots, self._database_keys(), device_name)

    def devices(self, actor: Actor) -> list[Device]:
        actor.require(P.CLINIC_CONFIGURE)
        link, listed = self._call(lambda client: client.devices())
        cursors = [int(d.get("cursor") or 0) for d in listed]
        head = max([cursor(self.store), *cursors])  # as far as this desk has seen
        return [
            Device(
                d["id"],
                d["name"],
                datetime.fromisoformat(d["last_seen_at"]) if d.get("last_seen_at") else None,
                max(0, head - int(d.get("cursor") or 0)),
                d.get("revoked_reason") if d.get("revoked_at") else None,
                d["id"] == link.device_id,
            )
            for d in listed
        ]

    def revoke(self, actor: Actor, device_id: str, reason: str) -> None:
        actor.require(P.CLINIC_CONFIGURE)
        if not reason.strip():
            raise ValidationError({"reason": "is required: the device is told it"})
        self._call(lambda client: client.revoke(device_id, reason.strip()))

    def _call(self, work):
        link = desk.connection(self.store)
        if link is None:
            raise Conflict("This clinic is not connected to a sync server.")
        client = link.client()
        try:
            return link, work(client)
        finally:
            client.close()

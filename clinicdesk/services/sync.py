"""Connecting this clinic to a sync server, and looking after its devices (Admin -> Sync).

Connecting takes the server's address and an operator's token. The server's certificate is
fetched first and its fingerprint shown, so the admin compares it with the one the operator
reads out; only that certificate is trusted afterwards. The server is told the clinic's id and
name, never its key.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlsplit

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.permissions import Actor, P
from clinicdesk.store.database import Store
from clinicdesk.sync import desk
from clinicdesk.sync.apply import cursor
from clinicdesk.sync.client import Offline, create_clinic
from clinicdesk.sync.protocol import certificate_fingerprint
from clinicdesk.sync.runner import SyncRunner, SyncStatus


@dataclass(frozen=True)
class ServerCertificate:
    url: str
    pem: bytes
    fingerprint: str  # AB:CD:..., as the operator reads it out


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    last_seen: datetime | None
    behind: int  # changes it has not yet received
    revoked: str | None  # why, once revoked
    this_desk: bool


def server_address(text: str) -> str:
    """'clinic-server:8443' or 'https://clinic-server:8443' -> 'https://clinic-server:8443'."""
    text = text.strip().rstrip("/")
    if not text:
        raise ValidationError({"address": "is required"})
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError({"address": "must be an https address, such as clinic-server:8443"})
    return f"https://{parts.netloc}"


class SyncService:
    def __init__(self, store: Store, clinic_id: str, clinic_name: str, runner: SyncRunner) -> None:
        self.store = store
        self.clinic_id = clinic_id
        self.clinic_name = clinic_name
        self.runner = runner

    def status(self, actor: Actor) -> SyncStatus:
        del actor  # every signed-in person sees the status bar
        return self.runner.status

    def fetch_certificate(self, actor: Actor, address: str) -> ServerCertificate:
        """The certificate the server at ``address`` presents, to be compared and pinned."""
        actor.require(P.CLINIC_CONFIGURE)
        url = server_address(address)
        parts = urlsplit(url)
        try:
            pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=10)
        except OSError as error:
            raise Offline(f"No sync server answers at {url} ({error.strerror or error}).") from None
        der = ssl.PEM_cert_to_DER_cert(pem)
        return ServerCertificate(url, pem.encode(), certificate_fingerprint(der))

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

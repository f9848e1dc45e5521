"""A sync server's certificate, fetched to be compared with what its operator reads out (or
what a scanned join code carries) and then pinned: only it is trusted afterwards."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from clinicdesk.errors import ValidationError
from clinicdesk.sync.client import Offline
from clinicdesk.sync.protocol import certificate_fingerprint


@dataclass(frozen=True)
class ServerCertificate:
    url: str
    pem: bytes
    fingerprint: str  # AB:CD:..., as the operator reads it out


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


def fetch_certificate(address: str) -> ServerCertificate:
    """The certificate the server at ``address`` presents (not yet trusted: compare first)."""
    url = server_address(address)
    parts = urlsplit(url)
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=10)
    except OSError as error:
        raise Offline(f"No sync server answers at {url} ({error.strerror or error}).") from None
    der = ssl.PEM_cert_to_DER_cert(pem)
    return ServerCertificate(url, pem.encode(), certificate_fingerprint(der))

"""The server's TLS certificate: a self-signed one made at ``init``, pinned by the desks through
its SHA-256 fingerprint."""

from __future__ import annotations

import ipaddress
import socket
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clinicdesk.ids import utcnow
from clinicdesk.store.files import write_private
from clinicdesk.sync.protocol import BadRequest, certificate_fingerprint

VALID_DAYS = 10 * 365  # desks pin it by fingerprint: a new one means showing every desk again


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def server_names(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The names the certificate is made for: loopback, this computer's name, and ``extra``."""
    names = ["localhost", "127.0.0.1", "::1", socket.gethostname(), *extra]
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def make_certificate(cert_path: Path, key_path: Path, names: list[str] | None = None) -> str:
    """Write a self-signed certificate (EC P-256) and its private key (readable by this account
    only); return its fingerprint."""
    names = names or server_names()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ClinicDesk sync {names[0]}")])
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return fingerprint(cert_path)


def fingerprint(cert_path: Path) -> str:
    """The SHA-256 fingerprint of the certificate in ``cert_path`` (PEM or DER), as desks show
    it: upper-case hex in colon-separated pairs."""
    try:
        data = cert_path.read_bytes()
    except OSError as error:
        raise BadRequest(f"The certificate {cert_path} cannot be read: {error.strerror}.") from None
    try:
        cert = (
            x509.load_pem_x509_certificate(data)
            if b"-----BEGIN" in data
            else x509.load_der_x509_certificate(data)
        )
    except ValueError:
        raise BadRequest(f"{cert_path} does not hold a certificate.") from None
    return certificate_fingerprint(cert.public_bytes(serialization.Encoding.DER))

"""``clinicdesk server ...``: set up, run and look after a sync server (docs/sync.md).

The server's folder (``--data-dir``) holds ``server.json`` (where its database is, and its
certificate), the SQLite database unless PostgreSQL was chosen, the TLS certificate and key, and
its log. What each command needs is imported when it runs: the ``clinicdesk`` command stays quick
and never loads Qt for these.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clinicdesk.errors import ClinicDeskError

if TYPE_CHECKING:
    from clinicdesk.sync.server.store import ServerStore

CONFIG_FILE = "server.json"
TLS_DIR = "tls"
DEFAULT_PORT = 8443


@dataclass(frozen=True)
class ServerConfig:
    folder: Path
    db_url: str
    cert: Path
    key: Path


def _folder(args: argparse.Namespace) -> Path:
    if not getattr(args, "data_dir", None):
        raise ClinicDeskError("Give the sync server's folder with --data-dir.")
    return Path(args.data_dir).expanduser().resolve()


def _shown(url: str) -> str:
    """The database's address as printed: never its password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"PostgreSQL {parsed.render_as_string(hide_password=True)}"


def load_config(folder: Path) -> ServerConfig:
    from clinicdesk.store.files import read_json
    from clinicdesk.sync.server.database import sqlite_url

    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ClinicDeskError(
            f"{folder} is not a sync server's folder (it has no {CONFIG_FILE}); set one up with "
            "clinicdesk server init."
        )
    data = read_json(path)
    return ServerConfig(
        folder=folder,
        db_url=data["db"] or sqlite_url(folder),
        cert=folder / data["cert"],
        key=folder / data["key"],
    )


@contextmanager
def _store(config: ServerConfig) -> Iterator[ServerStore]:
    """The server's store, its schema brought to head; a database that cannot be reached is
    told in a sentence."""
    from sqlalchemy.exc import DBAPIError

    from clinicdesk.sync.server.store import ServerStore

    store = ServerStore(config.db_url)
    try:
        try:
            store.init()
        except DBAPIError as error:
            detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            raise ClinicDeskError(
                f"The server's database ({_shown(config.db_url)}) cannot be used: {detail}"
            ) from None
        yield store
    finally:
        store.close()


def _configure_log(folder: Path) -> None:
    from clinicdesk.logs import configure

    if folder.is_dir():
        configure(folder)


def cmd_init(args: argparse.Namespace) -> int:
    from clinicdesk.store.files import private_dir, write_json_atomic
    from clinicdesk.sync.server.database import normalized_url, sqlite_url
    from clinicdesk.sync.server.tls import fingerprint, make_certificate, server_names

    folder = _folder(args)
    if (folder / CONFIG_FILE).exists():
        raise ClinicDeskError(
            f"{folder} already holds a sync server. For a new operator token: clinicdesk server "
            "token --data-dir ..."
        )
    if bool(args.cert) != bool(args.key):
        raise ClinicDeskError("Give both --cert and --key, or neither (a certificate is made).")
    db_url = normalized_url(args.db) if args.db else sqlite_url(folder)
    private_dir(folder)
    _configure_log(folder)
    if args.cert:
        cert, key = Path(args.cert).expanduser().resolve(), Path(args.key).expanduser().resolve()
        _check_pair(cert, key)
        print_fp = fingerprint(cert)
    else:
        private_dir(folder / TLS_DIR)
        cert, key = folder / TLS_DIR / "cert.pem", folder / TLS_DIR / "key.pem"
        print_fp = make_certificate(cert, key, server_names(args.name or []))
    config = ServerConfig(folder, db_url, cert, key)
    with _store(config) as store:
        token = store.new_operator_token()
    write_json_atomic(
        folder / CONFIG_FILE,
        {
            "db": db_url if args.db else None,  # None: the SQLite file in the folder
            "cert": _relative(cert, folder),
            "key": _relative(key, folder),
        },
    )
    print(f"Sync server set up in {folder}, its data in the {_shown(db_url)}.")
    print("Its certificate's SHA-256 fingerprint (each desk shows it when it first connects):")
    print(f"  {print_fp}")
    print("Operator token, shown this once (it creates clinic spaces; keep it safe):")
    print(f"  {token}")
    print(f"Start it with: clinicdesk server run --data-dir {folder}")
    return 0


def _relative(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)


def _check_pair(cert: Path, key: Path) -> None:
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ClinicDeskError(
            f"The certificate {cert} and key {key} cannot be used together: "
            f"{getattr(error, 'strerror', None) or error}."
        ) from None


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_run(args: argparse.Namespace) -> int:
    if args.insecure_http and not is_loopback(args.host):
        raise ClinicDeskError(
            f"Plain HTTP is refused on {args.host}: the desks' tokens and the clinic's changes "
            "would cross the network unprotected. Serve HTTPS (leave out --insecure-http), or use "
            "plain HTTP on 127.0.0.1 only, behind a proxy that speaks HTTPS."
        )
    folder = _folder(args)
    config = load_config(folder)
    _configure_log(folder)

    import uvicorn

    from clinicdesk.sync.server.app import create_app
    from clinicdesk.sync.server.tls import fingerprint

    tls: dict[str, str] = {}
    if not args.insecure_http:
        _check_pair(config.cert, config.key)
        tls = {"ssl_certfile": str(config.cert), "ssl_keyfile": str(config.key)}
    with _store(config) as store:
        scheme = "http" if args.insecure_http else "https"
        where = f"{scheme}://{args.host}:{args.port}"
        print(f"Sync server on {where}, its data in the {_shown(config.db_url)}.")
        if tls:
            print(f"Certificate fingerprint (SHA-256): {fingerprint(config.cert)}")
        sys.stdout.flush()
        uvicorn.run(
            create_app(store),
            host=args.host,
            port=args.port,
            log_level="info",
            timeout_graceful_shutdown=3,
            server_header=False,
            **tls,
        )
    return 0


def cmd_clinics(args: argparse.Namespace) -> int:
    with _store(load_config(_folder(args))) as store:
        clinics = store.clinics()
    if not clinics:
        print("No clinic spaces yet.")
        return 0
    print(f"{'clinic id':<38} {'changes':>8} {'devices':>8} {'revoked':>8}  created  name")
    for c in clinics:
        print(
            f"{c.id:<38} {c.head:>8} {c.devices:>8} {c.revoked_devices:>8}  "
            f"{c.created_at:%Y-%m-%d}  {c.name}"
        )
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    with _store(load_config(_folder(args))) as store:
        devices = store.devices(args.clinic_id)
        head = next(c.head for c in store.clinics() if c.id == args.clinic_id)
    print(f"{'device id':<38} {'behind':>7}  {'last seen':<16}  name / revoked")
    for d in devices:
        seen = f"{d.last_seen_at:%Y-%m-%d %H:%M}" if d.last_seen_at else "never"
        state = f"  REVOKED {d.revoked_at:%Y-%m-%d}: {d.revoked_reason}" if d.revoked_at else ""
        print(f"{d.id:<38} {head - d.cursor:>7}  {seen:<16}  {d.name}{state}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Remake every clinic's hash chain (or one's): 0 when every log is as it was appended."""
    faults = 0
    with _store(load_config(_folder(args))) as store:
        ids = [args.clinic_id] if args.clinic_id else [c.id for c in store.clinics()]
        for clinic_id in ids:
            problems = store.verify_log(clinic_id)
            faults += bool(problems)
            print(f"{clinic_id}: " + ("; ".join(problems) if problems else "the log is intact"))
    if faults:
        print(f"{faults} of {len(ids)} clinic logs do not verify: restore them from a backup.")
    return 1 if faults else 0


def cmd_revoke(args: argparse.Namespace) -> int:
    with _store(load_config(_folder(args))) as store:
        done = store.revoke(args.device_id, args.reason)
    print(f"Device {done.id} ({done.name}) is refused from now on: {done.revoked_reason}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    with _store(load_config(_folder(args))) as store:
        token = store.new_operator_token()
    print("New operator token, shown this once (it creates clinic spaces; keep it safe):")
    print(f"  {token}")
    return 0


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def cmd_backup(args: argparse.Namespace) -> int:
    from clinicdesk.sync.server.backup import backup

    config = load_config(_folder(args))
    made = backup(config.db_url, Path(args.dest))
    print(f"Backup of the sync server written: {made.path} ({_size(made.size)}).")
    print(
        "It holds what the server holds: routing data (clinic, device and change ids, sequence "
        "numbers, token hashes) and the changes' ciphertext, which only the clinics' own keys "
        "open; no patient data in clear. Keep it private all the same."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from clinicdesk.sync.server.backup import restore

    folder = _folder(args)
    config = load_config(folder)
    done = restore(config.db_url, Path(args.src))
    print(
        f"The sync server's database is restored from {Path(args.src).expanduser()}: "
        f"{done.clinics} clinic space{'s' if done.clinics != 1 else ''}, "
        f"{done.changes} change{'s' if done.changes != 1 else ''}."
    )
    if done.aside:
        print(f"The database it replaced is kept in {done.aside}.")
    print(
        f"New epoch {done.epoch}: each desk will pull everything again from the start, then "
        "send the changes it holds that this copy lacks."
    )
    print(f"Start the server again: clinicdesk server run --data-dir {folder}")
    return 0


def cmd_help(args: argparse.Namespace) -> int:
    raise ClinicDeskError(
        "Say what to do: clinicdesk server init, run, clinics, devices, revoke, token, backup "
        "or restore (clinicdesk server --help tells more)."
    )


def add_server_commands(sub: argparse._SubParsersAction) -> None:
    """``clinicdesk server`` and its commands, on the main command's sub-parsers."""
    server = sub.add_parser("server", help="run a sync server for the desks of many clinics")
    server.set_defaults(func=cmd_help)
    commands = server.add_subparsers(title="server commands")

    init = commands.add_parser("init", help="set up a server: database, certificate, token")
    init.add_argument("--db", help="a PostgreSQL URL (default: a SQLite file in the folder)")
    init.add_argument("--cert", help="a certificate to serve (PEM) instead of a self-signed one")
    init.add_argument("--key", help="the certificate's private key (PEM)")
    init.add_argument(
        "--name",
        action="append",
        help="a further host name or address desks reach the server by (repeatable)",
    )
    init.set_defaults(func=cmd_init)

    run = commands.add_parser("run", help="serve the desks (HTTPS)")
    run.add_argument("--host", default="0.0.0.0", help="address to listen on (0.0.0.0)")
    run.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    run.add_argument(
        "--insecure-http",
        action="store_true",
        help="plain HTTP, on a loopback address only (behind a TLS proxy)",
    )
    run.set_defaults(func=cmd_run)

    clinics = commands.add_parser("clinics", help="the clinic spaces, their devices and changes")
    clinics.set_defaults(func=cmd_clinics)

    devices = commands.add_parser("devices", help="a clinic's devices")
    devices.add_argument("clinic_id")
    devices.set_defaults(func=cmd_devices)

    verify = commands.add_parser(
        "verify", help="check that each clinic's log is as it was appended (its hash chain)"
    )
    verify.add_argument("clinic_id", nargs="?", help="only this clinic (by default every one)")
    verify.set_defaults(func=cmd_verify)

    revoke = commands.add_parser("revoke", help="refuse a device from now on")
    revoke.add_argument("device_id")
    revoke.add_argument("--reason", required=True, help="told to the device when it is refused")
    revoke.set_defaults(func=cmd_revoke)

    token = commands.add_parser("token", help="a new operator token (shown once)")
    token.set_defaults(func=cmd_token)

    backup = commands.add_parser(
        "backup",
        help="a consistent copy of the server's database, taken while it runs",
        description="Copy the server's database while it runs: SQLite's online backup, or "
        "pg_dump --format=custom on PostgreSQL (pg_dump must be on PATH). The copy is private "
        "(0600) and holds routing data and ciphertext only.",
    )
    backup.add_argument(
        "dest", help="a folder (for a dated file clinicdesk-server-...) or a new file's path"
    )
    backup.set_defaults(func=cmd_backup)

    restore = commands.add_parser(
        "restore",
        help="put a backup in the place of the server's database (stop the server first)",
        description="Stop the server first (a SQLite database in use is refused). The backup is "
        "checked before anything changes; the SQLite file it replaces is kept aside, on "
        "PostgreSQL pg_restore --clean replaces the server's tables. The server then gets a new "
        "epoch: every desk pulls everything again and sends what it held that the backup lacks.",
    )
    restore.add_argument("src", help="a file made by clinicdesk server backup")
    restore.set_defaults(func=cmd_restore)

    for p in (init, run, clinics, devices, verify, revoke, token, backup, restore):
        p.add_argument(
            "--data-dir", default=argparse.SUPPRESS, help="the sync server's folder (required)"
        )

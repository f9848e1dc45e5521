"""Command line: the app, the demo, backup, restore, audit check, password reset, sync server.

Passwords are asked for on the terminal, or read one per line from standard input when it is not
a terminal (for scheduled backups).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from clinicdesk.errors import ClinicDeskError
from clinicdesk.logs import configure as configure_log
from clinicdesk.logs import log_unexpected
from clinicdesk.paths import default_data_dir, demo_data_dir
from clinicdesk.sync.server.cli import add_server_commands


def _secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise ClinicDeskError(f"{prompt.rstrip(': ')} was not given on standard input.")
    return line.rstrip("\n")


def _folder(args: argparse.Namespace) -> Path:
    """The clinic's data folder; its log records what the command did (never patient data)."""
    folder = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    if folder.is_dir():
        configure_log(folder)
    return folder


OpenApp = Callable[[Path, list[tuple[str, str, str]] | None], int]


def _open_app(args: argparse.Namespace, folder: Path, demo_logins=None) -> int:
    """The desktop app is handed in by ui.launcher: the core never imports Qt."""
    if args.open_app is None:
        raise ClinicDeskError("The desktop app is started with the clinicdesk command.")
    return args.open_app(folder, demo_logins)


def cmd_open(args: argparse.Namespace) -> int:
    return _open_app(args, _folder(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from clinicdesk.demo.clinic import create_demo_clinic

    folder = Path(args.data_dir).expanduser() if args.data_dir else demo_data_dir()
    if args.patients < 0:
        raise ClinicDeskError("--patients must be zero or more.")
    print(f"Demo clinic in {folder} …", flush=True)
    demo = create_demo_clinic(folder, patients=args.patients, seed=args.seed)
    print("Created." if demo.created else "Reusing the demo clinic already there.")
    print("Sign in with one of these (role, user name, password):")
    for role, username, password in demo.logins:
        print(f"  {role:<22} {username:<14} {password}")
    if args.no_gui:
        return 0
    return _open_app(args, folder, demo.logins)


def cmd_backup(args: argparse.Namespace) -> int:
    from clinicdesk.services.access import sign_in

    session = sign_in(_folder(args), args.user, _secret(f"Password for {args.user}: "))
    try:
        info = session.backup(Path(args.dest).expanduser())
    finally:
        session.close()
    print(f"Encrypted backup written and verified: {info.path} ({info.size // 1024} KiB)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from clinicdesk.services.access import restore

    if args.user:
        secret = _secret(f"Password of {args.user} at the time of the backup: ")
    else:
        secret = _secret("Recovery key: ")
    done = restore(Path(args.src).expanduser(), _folder(args), args.user, secret)
    if done.current_key_file_problem:
        print(done.current_key_file_problem)
        print("The backup's own key file was used instead.")
    print(f"Backup verified and restored; it was unlocked with {done.unlocked_with}.")
    if done.aside:
        print(f"The data it replaced is kept in {done.aside}.")
    if done.need_new_password:
        names = ", ".join(done.need_new_password)
        print(f"These accounts need a new password (clinicdesk reset-password): {names}.")
    if done.recovery_key:
        print("The clinic has a new recovery key. Print it and keep it safe; it is shown once:")
        print(f"  {done.recovery_key}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from clinicdesk.services.access import sign_in

    session = sign_in(_folder(args), args.user, _secret(f"Password for {args.user}: "))
    against = Path(args.backup).expanduser() if args.backup else None
    try:
        report = session.audit.verify(session.actor, against_backup=against)
    finally:
        session.close()
    for note in report.notes:
        print(note)
    if report.intact:
        print(
            f"Audit log intact: {report.entries} entries, every hash checks out, and it agrees "
            f"with {report.anchors} record{'s' if report.anchors != 1 else ''} of its head kept "
            "outside the database."
        )
        return 0
    print(f"Audit log damaged ({report.entries} entries read):")
    for problem in report.problems:
        print(f"  - {problem}")
    return 1


def cmd_reset_password(args: argparse.Namespace) -> int:
    from clinicdesk.services.access import reset_password_with_recovery_key

    key = _secret("Recovery key: ")
    new = _secret(f"New password for {args.user}: ")
    reset_password_with_recovery_key(_folder(args), key, args.user, new)
    print(f"Password of {args.user} changed; sign in with the new password.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinicdesk", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        help="the clinic's data folder (default: CLINICDESK_DATA_DIR "
        "or the platform's user data folder)",
    )
    parser.set_defaults(func=cmd_open)
    sub = parser.add_subparsers(title="commands")

    demo = sub.add_parser("demo", help="create or reuse a demo clinic and open it")
    demo.add_argument("--data-dir", default=argparse.SUPPRESS, help="where the demo clinic lives")
    demo.add_argument("--patients", type=int, default=2000, help="how many patients (2000)")
    demo.add_argument("--seed", type=int, default=2026, help="the same seed gives the same clinic")
    demo.add_argument("--no-gui", action="store_true", help="only create it and print the logins")
    demo.set_defaults(func=cmd_demo)

    backup = sub.add_parser("backup", help="write an encrypted, verified backup")
    backup.add_argument("dest", help="a backup file, or a folder to put a dated one in")
    backup.add_argument("--user", default="admin", help="an account allowed to back up")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help="check a backup completely, then restore it")
    restore.add_argument("src", help="the .cdbak file")
    restore.add_argument(
        "--user",
        help="an administrator of the time, with their password then (default: the recovery key)",
    )
    restore.set_defaults(func=cmd_restore)

    verify = sub.add_parser("audit-verify", help="check the audit log's hash chain")
    verify.add_argument("--user", default="admin", help="an account allowed to read the audit")
    verify.add_argument("--backup", help="also check against the head recorded in this backup")
    verify.set_defaults(func=cmd_audit_verify)

    reset = sub.add_parser("reset-password", help="set a new password with the recovery key")
    reset.add_argument("--user", required=True)
    reset.set_defaults(func=cmd_reset_password)
    for p in (backup, restore, verify, reset):
        p.add_argument("--data-dir", default=argparse.SUPPRESS, help="the clinic's data folder")
    add_server_commands(sub)
    return parser


def main(argv: list[str] | None = None, open_app: OpenApp | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.open_app = open_app
    try:
        return args.func(args)
    except ClinicDeskError as exc:
        print(f"clinicdesk: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a sentence, never a traceback; the log says where it happened
        log_unexpected(exc)
        print(
            f"clinicdesk: something unexpected went wrong ({type(exc).__name__}); nothing more "
            "was done. The clinic's log records where; please tell your support contact.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

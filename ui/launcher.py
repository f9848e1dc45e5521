"""The ``clinicdesk`` command: clinicdesk.cli's commands, with the desktop app behind them."""

from __future__ import annotations

import sys
from pathlib import Path

from clinicdesk import cli


def open_app(folder: Path, demo_logins: list[tuple[str, str, str]] | None = None) -> int:
    from ui.app import run  # Qt is loaded only when a window is wanted

    return run(folder, demo_logins=demo_logins)


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, open_app=open_app)


if __name__ == "__main__":
    sys.exit(main())

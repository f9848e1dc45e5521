"""The ``clinicdesk`` command: clinicdesk.cli's commands, with the desktop app behind them."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from clinicdesk import cli
from ui.system_libraries import (
    Loadable,
    MissingLibraries,
    can_load,
    check_window_libraries,
    library_in_error,
)


def open_app(
    folder: Path,
    demo_logins: list[tuple[str, str, str]] | None = None,
    environ: Mapping[str, str] = os.environ,
    loadable: Loadable = can_load,
) -> int:
    """Open the window; a system library Qt needs and cannot find is named in plain words
    (MissingLibraries, so the command exits 2) before Qt can fail on it."""
    check_window_libraries(environ, loadable=loadable)
    try:
        from ui.app import run  # Qt is loaded only when a window is wanted
    except ImportError as error:
        library = library_in_error(error)
        if library is None:
            raise
        raise MissingLibraries([library], "that Qt needs") from None
    return run(folder, demo_logins=demo_logins)


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, open_app=open_app)


if __name__ == "__main__":
    sys.exit(main())

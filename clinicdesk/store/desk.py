"""Which computer (desk) this is, for checks that only this computer's own history can support.

Several desks share one clinic's database, each with its own clock. The prescription clock guard
(clinicdesk.services.prescriptions) compares this computer's clock with the latest time this same
computer trusted, never with another desk's. The identity is a random id kept in the account's
local state folder (not in the shared data folder), so it survives restarts.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from functools import cache
from pathlib import Path

import platformdirs

from clinicdesk.errors import StoreError
from clinicdesk.store.files import storage_errors

DESK_FILE = "desk-id"


def state_dir() -> Path:
    """This account's local state folder for ClinicDesk (follows XDG_STATE_HOME on Linux)."""
    return Path(platformdirs.user_state_dir("ClinicDesk", "ClinicDesk"))


@cache
def this_desk(folder: Path | None = None) -> str:
    """This computer's desk id, made on first use; ``folder`` holds it (the state folder)."""
    folder = folder or state_dir()
    path = folder / DESK_FILE
    with storage_errors(folder):
        known = _read(path)
        if known is not None:
            return known
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = folder / f".{DESK_FILE}.{uuid.uuid4().hex}"
        tmp.write_text(str(uuid.uuid4()))
        tmp.chmod(0o600)
        try:
            if path.exists():  # damaged: this computer starts again as a new desk
                os.replace(tmp, path)
            else:  # never replaces an id another process made meanwhile
                os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        known = _read(path)
    if known is None:
        raise StoreError(f"This computer's desk id in {path} cannot be read or written.")
    return known


def _read(path: Path) -> str | None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        return str(uuid.UUID(path.read_text().strip()))
    return None

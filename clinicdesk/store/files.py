"""Safe writes of the small files kept beside the database (key slots, sign-in state)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from clinicdesk.errors import StorageFull, StorageReadOnly, StoreError


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a temporary file, flush it to disk, then rename over the old one.

    A crash leaves either the old file or the new one, never half of either.
    """
    tmp = path.with_name(path.name + ".tmp")
    payload = json.dumps(data, indent=1, sort_keys=True).encode()
    with storage_errors(path.parent):
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


class storage_errors:
    """Turn the operating system's disk errors into errors staff can act on."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if isinstance(exc, OSError):
            raise translate_os_error(exc, self.folder) from exc
        return False


def translate_os_error(exc: OSError, folder: Path) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull()
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageReadOnly(str(folder))
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return StoreError(f"The folder {folder} does not exist (is the drive connected?).")
    return exc


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

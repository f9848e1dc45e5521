"""Safe writes of the files ClinicDesk keeps or exports: private, atomic, never over the clinic's.

Everything written here holds patient data or wrapped keys, so files are created 0600 and
folders 0700 whatever the process umask is (the mode is set explicitly after creation, because
the umask would otherwise widen or narrow it). A file is written to a temporary name beside its
destination, flushed to disk and only then renamed, so a crash leaves the old file or the new
one, never half of either.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from clinicdesk.errors import StorageFull, StorageReadOnly, StoreError

log = logging.getLogger("clinicdesk")

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (and any missing parents) readable by this account only.

    Folders that already exist are left as they are, except ``folder`` itself, which is made
    0700 (a clinic's data folder from an older version may have been created 0755).
    """
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    with storage_errors(folder):
        for created in reversed(missing):
            created.mkdir(mode=FOLDER_MODE, exist_ok=True)
            created.chmod(FOLDER_MODE)
        if not folder.is_dir():
            raise StoreError(f"{folder} is a file, not a folder.")
        folder.chmod(FOLDER_MODE)
    return folder


def make_private(folder: Path) -> None:
    """Take group and other access away from a clinic's data folder and what is in it.

    A clinic set up by an older version, or copied in by hand, may hold world-readable files;
    opening it makes them private. A file this account does not own is left as it is and
    logged (by name only): the clinic still opens.
    """
    for path in (folder, *folder.rglob("*")):
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode) or not stat.S_IMODE(info.st_mode) & 0o077:
                continue
            path.chmod(FOLDER_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE)
        except OSError as exc:
            log.warning("could not make %s private: %s", path.name, type(exc).__name__)


def create_private_file(path: Path) -> int:
    """A new, empty file readable by this account only; refuses one that already exists."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE)
    os.chmod(path, FILE_MODE)  # the umask may have taken bits away; never adds any
    return fd


@contextmanager
def private_writer(path: Path, *, replace: bool = True) -> Iterator[IO[bytes]]:
    """Write ``path`` privately and atomically: the caller writes to the file object given.

    With ``replace=False`` an existing ``path`` is refused, checked again at the moment of the
    rename so that a file appearing meanwhile is not overwritten either.
    """
    if not replace and path.exists():
        raise FileExists(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with storage_errors(path.parent):
        tmp.unlink(missing_ok=True)
        try:
            with os.fdopen(create_private_file(tmp), "w+b") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            _move_into_place(tmp, path, replace)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)


def _move_into_place(tmp: Path, path: Path, replace: bool) -> None:
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if path exists, with no window for a race
    except FileExistsError:
        raise FileExists(path) from None
    except OSError:  # a file system without hard links (a FAT-formatted stick)
        if path.exists():
            raise FileExists(path) from None
        os.replace(tmp, path)


def write_private(path: Path, data: bytes, *, replace: bool = True) -> Path:
    with private_writer(path, replace=replace) as fh:
        fh.write(data)
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    write_private(path, json.dumps(data, indent=1, sort_keys=True).encode())


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


class FileExists(StoreError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"{path} already exists and was left as it was; choose a new file name or a folder."
        )


class InsideDataFolder(StoreError):
    def __init__(self, path: Path, folder: Path) -> None:
        self.path = path
        super().__init__(
            f"{path} is inside the clinic's data folder {folder}, where ClinicDesk keeps its own "
            "files; choose a place outside it (a backup there would also be lost with the disk)."
        )


def refuse_inside(path: Path, data_folder: Path) -> None:
    """Refuse a user-chosen ``path`` that is the data folder or lies anywhere inside it."""
    target, folder = _resolved(path), _resolved(data_folder)
    if target == folder or folder in target.parents:
        raise InsideDataFolder(path, data_folder)


def write_export(path: Path, data: bytes, data_folder: Path) -> Path:
    """A file staff chose to save (a PDF, a CSV, a calendar file): private, outside the data
    folder, replacing an older file of that name only because the save dialog asked first."""
    refuse_inside(path, data_folder)
    return write_private(path, data)


def _resolved(path: Path) -> Path:
    """The real path, symbolic links followed as far as they exist."""
    return Path(os.path.realpath(path.expanduser().absolute()))


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

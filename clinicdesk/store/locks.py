"""An exclusive OS file lock around a read-change-write of a small shared file.

Several desks (separate processes, perhaps on separate computers) may share one data folder.
A file such as keyslots.json or signin.json is changed only inside ``exclusive(path)``: take the
lock, read the file afresh, apply this change alone, write it atomically, release. The lock lives in
``<name>.lock`` beside the file, readable by this account only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from clinicdesk.errors import StoreError
from clinicdesk.store.files import FILE_MODE, storage_errors

WAIT_SECONDS = 30.0


@contextmanager
def exclusive(path: Path, timeout: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the lock of ``path`` for the duration of the block (other holders wait)."""
    lock = FileLock(path.with_name(path.name + ".lock"), timeout=timeout, mode=FILE_MODE)
    try:
        with storage_errors(path.parent):  # a read-only or full folder is said in words
            lock.acquire()
    except Timeout:
        raise StoreError(
            f"Another workstation has been changing {path.name} for over {timeout:.0f} seconds; "
            "nothing was changed. Please try again."
        ) from None
    try:
        yield
    finally:
        lock.release()

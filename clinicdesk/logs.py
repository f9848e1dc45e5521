"""The application log: what happened, never to whom.

Log records carry event names, ids and error types only. An unexpected error is logged as its type
and the frames it passed through; its message is left out, because a message can quote what was
typed (a patient's name, say), and the log file is not encrypted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from clinicdesk.errors import StoreError
from clinicdesk.store.files import FILE_MODE, create_private_file, private_dir

LOG_DIR = "logs"
LOG_FILE = "clinicdesk.log"
log = logging.getLogger("clinicdesk")


def configure(folder: Path) -> Path | None:
    """Log to ``<data folder>/logs/clinicdesk.log`` (5 files of 1 MB); None if not writable."""
    target = folder / LOG_DIR / LOG_FILE
    try:
        private_dir(target.parent)
        handler = PrivateLogFile(target, maxBytes=1 << 20, backupCount=4, encoding="utf-8")
    except (OSError, StoreError):
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for old in [h for h in log.handlers if isinstance(h, RotatingFileHandler)]:
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return target


class PrivateLogFile(RotatingFileHandler):
    """The log and each file it rotates to are readable by this account only."""

    def _open(self):
        with contextlib.suppress(FileExistsError):
            os.close(create_private_file(Path(self.baseFilename)))
        os.chmod(self.baseFilename, FILE_MODE)
        return super()._open()


def crash_summary(exc: BaseException) -> str:
    """The error's type and where it happened, without its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(exc).__module__}.{type(exc).__qualname__} at {where or 'unknown place'}"


def log_unexpected(exc: BaseException) -> None:
    log.error("unexpected error: %s", crash_summary(exc))

"""Where a clinic's data lives: the platform's user data folder unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DATA_DIR = "CLINICDESK_DATA_DIR"
# inside a data folder: a workstation's join in progress, not yet a clinic (sync/join.py)
JOINING_DIR = ".joining"


def default_data_dir() -> Path:
    configured = os.environ.get(ENV_DATA_DIR)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("ClinicDesk", "ClinicDesk"))


def demo_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ClinicDesk", "ClinicDesk")) / "demo"


RESOURCES = Path(__file__).resolve().parent.parent / "resources"

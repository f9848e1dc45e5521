"""Turning exceptions into sentences for staff."""

from __future__ import annotations

import logging

from clinicdesk.errors import ClinicDeskError

log = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    """The error's own sentence, or a calm generic one for a bug (logged with its traceback)."""
    if isinstance(error, ClinicDeskError):
        return error.message
    log.error("Unexpected error", exc_info=error)
    return (
        "Something went wrong and the action did not complete. Please try again; if it keeps "
        f"happening, tell your administrator ({type(error).__name__})."
    )

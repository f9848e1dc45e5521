"""Turning exceptions into sentences for staff."""

from __future__ import annotations

from clinicdesk.errors import ClinicDeskError


def describe(error: BaseException) -> str:
    """The error's own sentence, or a calm generic one for a bug (ui.tasks has logged it)."""
    if isinstance(error, ClinicDeskError):
        return error.message
    return (
        "Something went wrong and the action did not complete. Please try again; if it keeps "
        f"happening, tell your administrator ({type(error).__name__})."
    )

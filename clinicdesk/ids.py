"""Time-ordered primary keys and the UTC clock used for every stored time."""

from __future__ import annotations

from datetime import UTC, datetime

import uuid6


def new_id() -> str:
    """A UUIDv7 as text: sortable by creation time, unique across devices."""
    return str(uuid6.uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)

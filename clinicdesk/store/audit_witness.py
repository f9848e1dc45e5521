"""Witnesses: the audit chain's head kept outside the database, where its key does not reach.

A witness records anchors (clinicdesk.store.audit.Anchor) of one clinic's log and gives them back
for ``audit.verify``. The first is ``LocalWitness``: one small private file per clinic in this
computer's local state folder (beside the desk id, never in the shared data folder), so someone
who rewrites the log with the database key must also reach every workstation's account to hide
it. The sync server can hold another later, behind the same two calls.

The file stays small: the newest anchor, plus the last one of each day for a year. Anchors
are recorded only while the log still holds the newest one (clinicdesk.services.audit_log), so
the evidence of a rewrite is never pruned away by the anchors that follow it.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from clinicdesk.errors import ClinicDeskError, StoreError
from clinicdesk.logs import log
from clinicdesk.store.audit import Anchor
from clinicdesk.store.desk import state_dir
from clinicdesk.store.files import private_dir, write_json_atomic
from clinicdesk.store.locks import exclusive

FORMAT = "clinicdesk-audit-witness/1"
KEEP_DAYS = 366


class Witness(Protocol):
    def record(self, clinic_id: str, anchor: Anchor) -> None:
        """Keep ``anchor`` of the clinic ``clinic_id``'s log."""

    def anchors(self, clinic_id: str) -> list[Anchor]:
        """Every anchor kept for the clinic, oldest first; raises StoreError if unreadable."""


class WitnessDamaged(StoreError):
    pass


class LocalWitness:
    """This workstation's witness: ``<state folder>/audit-witness/<clinic id>.json``."""

    seen = "this workstation saw it"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or state_dir() / "audit-witness"

    def path(self, clinic_id: str) -> Path:
        try:  # the clinic id comes from the database: never let it name another path
            name = str(uuid.UUID(clinic_id))
        except ValueError:
            raise StoreError("This clinic's id is not valid, so it has no witness.") from None
        return self.folder / f"{name}.json"

    def record(self, clinic_id: str, anchor: Anchor) -> None:
        path = self.path(clinic_id)
        private_dir(self.folder)
        with exclusive(path):
            try:
                kept = self._read(path)
            except WitnessDamaged as damaged:  # evidence lost either way; start a new record
                log.warning("audit witness unreadable, started again: %s", type(damaged).__name__)
                kept = []
            kept = bounded([*kept, anchor])
            write_json_atomic(
                path,
                {"format": FORMAT, "clinic_id": clinic_id, "anchors": [_dump(a) for a in kept]},
            )

    def anchors(self, clinic_id: str) -> list[Anchor]:
        return self._read(self.path(clinic_id))

    def _read(self, path: Path) -> list[Anchor]:
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return []
        except (OSError, ValueError, RecursionError) as exc:
            raise self._damaged(path) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise self._damaged(path)
        try:
            return [_load(item, self.seen) for item in data["anchors"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._damaged(path) from exc

    @staticmethod
    def _damaged(path: Path) -> WitnessDamaged:
        return WitnessDamaged(
            f"This workstation's record of the audit log ({path}) is damaged, so the log could "
            "not be checked against it; it starts again at the next sign-in."
        )


def keep(witness: Witness, clinic_id: str, anchor: Anchor) -> None:
    """Record ``anchor``; a witness that cannot be written never stops the clinic's work (the
    failure is logged, and the next verification has one anchor fewer)."""
    try:
        witness.record(clinic_id, anchor)
    except (ClinicDeskError, OSError) as exc:
        log.warning("audit anchor not recorded: %s", type(exc).__name__)


def bounded(anchors: list[Anchor]) -> list[Anchor]:
    """The newest anchor, and the last of each day of the year before it, oldest first.

    A day on which the clinic was restored keeps its last anchor from before the restore too
    (anchors are grouped by day and epoch), so verification can say what the restore replaced.
    """
    if not anchors:
        return []
    ordered = sorted(anchors, key=lambda a: a.at)
    newest = ordered[-1]
    since = newest.at - timedelta(days=KEEP_DAYS)
    last_of_day = {(a.at.date(), a.epoch): a for a in ordered if a.at >= since}
    return sorted({*last_of_day.values(), newest}, key=lambda a: a.at)


def _dump(a: Anchor) -> dict:
    return {"seq": a.seq, "hash": a.hash, "at": a.at.isoformat(), "epoch": a.epoch}


def _load(item: dict, seen: str) -> Anchor:
    seq, digest, epoch = item["seq"], item["hash"], item["epoch"]
    at = datetime.fromisoformat(item["at"])
    if not (isinstance(seq, int) and isinstance(epoch, int) and isinstance(digest, str)):
        raise TypeError("anchor fields")
    if at.tzinfo is None:
        raise ValueError("anchor time without a zone")
    return Anchor(seq, digest, at, epoch, seen)

"""What changed, told after each commit: which rows (table and id), and for which patients.

Screens that show a patient's data (allergies above all) subscribe here instead of each
remembering which other screen might have changed it. The feed is told only after a commit, so
a listener never sees a change that rolled back; listeners are called on the committing thread.
The store fills the feed (``clinicdesk/store/changes.py`` for this desk's commits,
``change_watch.py`` for other desks'); screens only read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicdesk.listeners import Listeners


@dataclass(frozen=True)
class Change:
    """One committed unit of work: (table, patient id) of every patient row it touched, and
    (table, row id) of every synced row it touched (``entities``; a change seen from another
    desk, through the outbox, knows only these)."""

    rows: frozenset[tuple[str, str]]
    entities: frozenset[tuple[str, str]] = frozenset()

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(t for t, _ in self.entities) | frozenset(t for t, _ in self.rows)

    def touches(self, patient_id: str, tables: frozenset[str] | None = None) -> bool:
        """Did this commit change ``patient_id``'s rows (of ``tables``, or of any table)?"""
        return any(p == patient_id and (tables is None or t in tables) for t, p in self.rows)


class ChangeFeed(Listeners[Change]):
    """Told after every commit that changed a synced row (``publish``), and by the watcher of
    other desks' commits."""

    def __init__(self) -> None:
        super().__init__("change")

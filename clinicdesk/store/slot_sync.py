"""Key slots reaching every desk of the clinic: the key file mirrored in synced rows.

Each desk's ``keyslots.json`` stays what sign-in reads. Whatever a person does to it here (an
account added, a password set, changed or reset, an account removed, a slot upgraded, a key
change) is ``record``-ed in the same unit of work as the rest of that action: a ``key_slots``
row per slot (a tombstone for a removed one), and for a key change a ``key_generations`` row
with the new generation, the older keys under its key and every slot it carried over. Those
rows sync like any other (their payloads sealed under the clinic's key, so the server learns
nothing of them), and where they arrive ``follow`` writes them into that desk's key file under
its lock. A slot row, once in the file, only ever moves it on: arriving twice changes nothing.

A key change made elsewhere moves the file to the new generation while this desk's database
is still encrypted with an older one: the older key is in the file's history, and the next
sign-in here re-encrypts the database with the new key (``rekey.finish``).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.ids import utcnow
from clinicdesk.store.keyslots import KeySlotFile, Slot, parse_slot
from clinicdesk.store.models import KeyGeneration, KeySlotRecord, OutboxEntry


def record(s: Session, folder: Path) -> None:
    """Bring the synced slot rows in step with the key file as it is now (only what differs
    is written, so it is cheap to call after anything that may have changed the file)."""
    f = KeySlotFile.load(folder)
    if f.pending is not None:
        return  # a key change under way: recorded once it is finished
    rows = {r.id: r for r in s.scalars(select(KeySlotRecord))}
    if f.generation > 1 and not s.scalar(
        select(KeyGeneration.id).where(KeyGeneration.generation == f.generation)
    ):
        s.add(
            KeyGeneration(
                id=generation_id(f.clinic_id, f.generation),
                generation=f.generation,
                history=json.dumps(f.history, sort_keys=True),
                slots=json.dumps([x.to_json() for x in f.slots], sort_keys=True),
            )
        )
    for slot in f.slots:
        text = _text(slot)
        row = rows.get(slot.slot_id)
        if row is None:
            s.add(KeySlotRecord(id=slot.slot_id, generation=f.generation, slot=text))
        elif row.generation > f.generation:
            continue  # a key change made elsewhere, not yet in this file: never undone here
        elif (row.slot, row.generation, row.deleted_at) != (text, f.generation, None):
            row.slot, row.generation, row.deleted_at = text, f.generation, None
    held = {x.slot_id for x in f.slots}
    for row in rows.values():
        # a slot of this generation gone from the file was removed; one of an older
        # generation was not carried over by a key change, whose row says who was
        if row.id not in held and row.deleted_at is None and row.generation == f.generation:
            row.deleted_at = utcnow()
    s.flush()


def generation_id(clinic_id: str, generation: int) -> str:
    """One id for a generation at every desk: two desks that record the same key change (copies
    of one folder) write the same row, and two different changes to one generation meet as a
    conflict for review."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"clinicdesk:{clinic_id}/generation/{generation}"))


def follow(s: Session, _arrived: object = None) -> None:
    """Write the slot rows as this desk now holds them into its key file (the apply hook of
    ``key_slots`` and ``key_generations`` rows that arrived from another desk)."""
    folder = Path(str(s.get_bind().url.database)).parent
    KeySlotFile.load(folder).change(lambda f: _follow(s, f))


def _follow(s: Session, f: KeySlotFile) -> None:
    latest = s.scalar(
        select(KeyGeneration)
        .where(KeyGeneration.deleted_at.is_(None))
        .order_by(KeyGeneration.generation.desc())
        .limit(1)
    )
    if latest is not None and latest.generation > f.generation and f.pending is None:
        # a key change made elsewhere: this desk's database keeps its key (found in the
        # history) until the next sign-in here moves it on
        f.generation, f.history = latest.generation, json.loads(latest.history)
        f.slots = [parse_slot(raw) for raw in json.loads(latest.slots)]
    rows = s.scalars(select(KeySlotRecord).order_by(KeySlotRecord.updated_at, KeySlotRecord.id))
    for row in rows:
        if row.deleted_at is not None:
            f.slots = [x for x in f.slots if x.slot_id != row.id]
        elif row.generation == f.generation:
            _place(f, parse_slot(json.loads(row.slot)))
        # a slot of an older generation than the file's was overtaken by a key change: its
        # sealed key would not open here (the key change carried the slot over as it was)


def _place(f: KeySlotFile, slot: Slot) -> None:
    """``slot`` in the file, in its place (an unchanged file is not written again)."""
    here = f.slot(slot.slot_id)
    if here is None or here.to_json() != slot.to_json():
        f.put(slot)  # in place of the account's earlier slot, if it had one


def _text(slot: Slot) -> str:
    return json.dumps(slot.to_json(), sort_keys=True)


def sealing_generations(s: Session, rows: list[OutboxEntry], held: set[int]) -> list[int]:
    """The key generation to seal each of these outbox rows with, in order.

    A desk follows the server's log in order and learns a new generation from the key change
    that makes it, so a generation is used only once its key change is on the server: what
    this desk wrote before its own key change (and sends after it) goes under the key of its
    time, the key change itself under the key before it, and what follows under the new one.
    """
    made = dict(s.execute(select(KeyGeneration.id, KeyGeneration.generation)).all())
    unsent = set(
        s.scalars(
            select(OutboxEntry.entity_id).where(
                OutboxEntry.entity == KeyGeneration.__tablename__,
                OutboxEntry.pushed_at.is_(None),
            )
        )
    )
    sent = {g for row_id, g in made.items() if row_id not in unsent and g in held}
    generation = max(sent, default=min(held))
    chosen = []
    for row in rows:
        change = made.get(row.entity_id) if row.entity == KeyGeneration.__tablename__ else None
        if change is not None and row.entity_id in unsent:
            chosen.append(_newest(held, below=change))
            generation = max(generation, _newest(held, below=change + 1))
        else:
            chosen.append(generation)
    return chosen


def _newest(held: set[int], below: int) -> int:
    """The newest generation held below ``below`` (a restored clinic's key file may skip
    some), or the oldest held."""
    return max((g for g in held if g < below), default=min(held))

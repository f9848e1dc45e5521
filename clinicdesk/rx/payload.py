"""What a prescription code carries, and its compact CBOR form.

Items are CBOR arrays by position and dates are day numbers, so that a three-item prescription
with its signature fits a version 16 QR code at error correction M.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import cbor2

FORMAT = 1
_DAY0 = date(2000, 1, 1).toordinal()

PER_DAY, FIXED_TIMES, EVERY_HOURS, AS_NEEDED = "per_day", "fixed_times", "every_hours", "as_needed"
FREQUENCY_KINDS = (PER_DAY, FIXED_TIMES, EVERY_HOURS, AS_NEEDED)


@dataclass(frozen=True)
class Frequency:
    """How often: ``n`` times a day, at fixed times, every ``n`` hours, or as needed (at most
    ``n`` times a day; 0 means no stated limit)."""

    kind: str
    n: int = 0
    times: tuple[str, ...] = ()  # "HH:MM", clinic local time, for FIXED_TIMES


@dataclass(frozen=True)
class RxItem:
    drug: str
    strength: str
    form: str
    dose: str  # "1 tablet", "5 ml", "2 puffs"
    route: str
    frequency: Frequency
    duration_days: int
    quantity: int
    unit: str  # what the quantity counts: tablets, bottles, inhalers
    refills: int = 0
    substitution: bool = True
    instructions: str = ""


MAX_VALID_DAYS = 180  # the longest a prescription is valid for, from the day it is issued


@dataclass(frozen=True)
class PrescriptionContent:
    prescription_id: str
    reference: str
    clinic_name: str
    doctor_name: str
    doctor_licence: str
    patient_name: str
    patient_born: date
    issued_on: date
    valid_until: date
    items: tuple[RxItem, ...]


def to_cbor(p: PrescriptionContent) -> bytes:
    return cbor2.dumps(
        [
            FORMAT,
            uuid.UUID(p.prescription_id).bytes,
            int(p.reference),
            p.clinic_name,
            p.doctor_name,
            p.doctor_licence,
            p.patient_name,
            _day(p.patient_born),
            _day(p.issued_on),
            _day(p.valid_until),
            [_item(i) for i in p.items],
        ]
    )


def _item(i: RxItem) -> list[Any]:
    f = i.frequency
    freq: list[Any] = [FREQUENCY_KINDS.index(f.kind), f.n]
    if f.times:
        freq.append(list(f.times))
    return [
        i.drug,
        i.strength,
        i.form,
        i.dose,
        i.route,
        freq,
        i.duration_days,
        i.quantity,
        i.unit,
        i.refills,
        i.substitution,
        i.instructions,
    ]


def _day(d: date) -> int:
    return d.toordinal() - _DAY0


def from_cbor(data: bytes) -> PrescriptionContent:
    """Raises ValueError (or a cbor2/TypeError) on anything that is not exactly our shape."""
    fields = cbor2.loads(data)
    if not isinstance(fields, list | tuple) or len(fields) != 11 or fields[0] != FORMAT:
        raise ValueError("not a prescription of a known format")
    _, pid, ref, clinic, doctor, licence, patient, born, issued, until, items = fields
    if not isinstance(items, list | tuple) or not items:
        raise ValueError("no items")
    return PrescriptionContent(
        prescription_id=str(uuid.UUID(bytes=_bytes(pid))),
        reference=f"{_int(ref, 10**12 - 1):012d}",
        clinic_name=_str(clinic),
        doctor_name=_str(doctor),
        doctor_licence=_str(licence),
        patient_name=_str(patient),
        patient_born=_date(born),
        issued_on=_date(issued),
        valid_until=_date(until),
        items=tuple(_parse_item(i) for i in items),
    )


def _parse_item(raw: Any) -> RxItem:
    if not isinstance(raw, list | tuple) or len(raw) != 12:
        raise ValueError("malformed item")
    drug, strength, form, dose, route, freq, days, qty, unit, refills, subst, notes = raw
    if not isinstance(freq, list | tuple) or len(freq) not in (2, 3):
        raise ValueError("malformed frequency")
    kind = FREQUENCY_KINDS[_int(freq[0])]
    times = tuple(_str(t) for t in _seq(freq[2])) if len(freq) == 3 else ()
    if not isinstance(subst, bool):
        raise ValueError("malformed substitution flag")
    return RxItem(
        drug=_str(drug),
        strength=_str(strength),
        form=_str(form),
        dose=_str(dose),
        route=_str(route),
        frequency=Frequency(kind, _int(freq[1]), times),
        duration_days=_int(days),
        quantity=_int(qty),
        unit=_str(unit),
        refills=_int(refills),
        substitution=subst,
        instructions=_str(notes),
    )


def _seq(v: Any) -> list[Any] | tuple[Any, ...]:
    if not isinstance(v, list | tuple):
        raise ValueError("expected a list")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("expected text")
    return v


MAX_COUNT = 1_000_000  # a quantity, days, refills: far beyond any real prescription


def _int(v: Any, limit: int = MAX_COUNT) -> int:
    """A whole number up to ``limit``: a signed but absurd count never reaches the ledger."""
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= limit:
        raise ValueError("expected a whole number in range")
    return v


def _bytes(v: Any) -> bytes:
    if not isinstance(v, bytes) or len(v) != 16:
        raise ValueError("expected an id")
    return v


def _date(v: Any) -> date:
    if not isinstance(v, int) or isinstance(v, bool) or not -_DAY0 < v < 10**6:
        raise ValueError("expected a day number")
    return date.fromordinal(v + _DAY0)

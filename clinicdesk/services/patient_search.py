"""Search as you type over patients: name words, phone, MRN, national id, birth date.

Every typed word must match the start of a word of the patient (accent and case insensitive);
digits match the start or end of the phone, the MRN number or the national id; a date matches the
birth date. Results come in name order.

The rarest typed word (one cheap index count per word) drives the query: its matches are read
in name order from the covering term index (which repeats each patient's sort key), the other
words are checked per candidate, and only the patient rows shown are read. Walking patients in
name order instead is fast for words matching given names but slow for family names, which
cluster in that order ("ko" waits for the Ks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from clinicdesk.store.models import Patient, PatientSearchTerm
from clinicdesk.text import digits, fold, words

COUNT_CAP = 1000  # past this, which word is rarer hardly changes the work
_CHUNK = 500  # patients whose terms are made anew in one statement
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")
_DIGIT_QUERY = re.compile(r"^[+0-9 ()./-]+$")


def parse_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def sort_key(sort_name: str, born: date) -> str:
    """Same order as (sort_name, date_of_birth): \\x01 sorts before every folded character."""
    return f"{sort_name}\x01{born.isoformat()}"


def terms_of(
    given_name: str, family_name: str, phone_digits: str, mrn: str, national_id: str
) -> set[str]:
    terms = {f"n:{w}" for w in words(f"{given_name} {family_name}")}
    if phone_digits:
        terms |= {f"p:{phone_digits}", f"q:{phone_digits[::-1]}"}
    terms |= {f"m:{fold(mrn).replace(' ', '')}", f"m:{int(mrn.rsplit('-', 1)[-1])}"}
    if national_id:
        terms.add(f"i:{fold(national_id).replace(' ', '')}")
    return terms


def row_terms(row: Patient) -> set[str]:
    return terms_of(row.given_name, row.family_name, row.phone_digits, row.mrn, row.national_id)


def row_sort_key(row: Patient) -> str:
    return sort_key(row.sort_name, row.date_of_birth)


def index(s: Session, row: Patient) -> None:
    """The patient's search terms, made anew (after a change here, or one that came by sync)."""
    index_many(s, [row])


def index_many(s: Session, rows: Sequence[Any]) -> None:
    """The search terms of many patients made anew at once (a page that came by sync): one
    delete and one insert per few hundred patients. ``rows``: patients (written first), or
    anything with their fields already in the database; the last of one id counts."""
    s.flush()
    latest = list({row.id: row for row in rows}.values())
    table = PatientSearchTerm.__table__
    for start in range(0, len(latest), _CHUNK):
        chunk = latest[start : start + _CHUNK]
        s.execute(table.delete().where(table.c.patient_id.in_([row.id for row in chunk])))
        terms = [
            {"term": term, "patient_id": row.id, "sort_key": row_sort_key(row)}
            for row in chunk
            for term in row_terms(row)
        ]
        if terms:
            s.execute(table.insert(), terms)


def tokens(query: str) -> list[str]:
    query = query.strip()
    if _DIGIT_QUERY.match(query) and parse_date(query) is None:
        return [query]  # a phone number typed with spaces is one number
    return query.split()


def _prefix(table, term: str) -> ColumnElement[bool]:
    return and_(table.term >= term, table.term < term + "\uffff")


def _condition(token: str, table) -> ColumnElement[bool]:
    """What one typed token matches in the term index."""
    if _DIGIT_QUERY.match(token) and len(number := digits(token)) >= 3:
        conditions = [
            _prefix(table, f"p:{number}"),
            table.term == f"m:{int(number)}",
            _prefix(table, f"i:{number}"),
        ]
        if len(number) >= 4:
            conditions.append(_prefix(table, f"q:{number[::-1]}"))
        return or_(*conditions)
    folded = fold(token).replace(" ", "")
    if folded.isalpha():  # a name word; ids and MRNs always have digits in them
        return _prefix(table, f"n:{folded}")
    return or_(
        _prefix(table, f"n:{folded}"), _prefix(table, f"i:{folded}"), table.term == f"m:{folded}"
    )


def _also_matches(token: str, patient_id) -> ColumnElement[bool]:
    t = aliased(PatientSearchTerm)
    return select(t.patient_id).where(t.patient_id == patient_id, _condition(token, t)).exists()


def _count_upto(s: Session, token: str, cap: int) -> int:
    """How many index entries a token matches, counting no further than ``cap``."""
    t = aliased(PatientSearchTerm)
    matches = select(t.term).where(_condition(token, t)).limit(cap).subquery()
    return s.scalar(select(func.count()).select_from(matches)) or 0


def find(s: Session, query: str, limit: int) -> list[Patient]:
    typed = tokens(query)
    if not typed or len(query.strip()) < 2:
        return []
    dates = {d for t in typed if (d := parse_date(t)) is not None}
    words_ = [t for t in typed if parse_date(t) is None]
    if len(dates) > 1:
        return []
    live = Patient.deleted_at.is_(None)
    order = (Patient.sort_name, Patient.date_of_birth, Patient.id)
    if dates:
        stmt = select(Patient).where(
            live,
            Patient.date_of_birth == dates.pop(),
            *[_also_matches(w, Patient.id) for w in words_],
        )
        return list(s.scalars(stmt.order_by(*order).limit(limit)))
    counts = [_count_upto(s, w, COUNT_CAP) for w in words_]
    # the rarest word drives; among words past the cap, the longest is likely the rarest
    rarest = min(range(len(words_)), key=lambda i: (counts[i], -len(words_[i])))
    if counts[rarest] == 0:
        return []
    t = aliased(PatientSearchTerm)
    others = [_also_matches(w, t.patient_id) for i, w in enumerate(words_) if i != rarest]
    ids = list(
        dict.fromkeys(
            s.scalars(
                select(t.patient_id)
                .where(_condition(words_[rarest], t), *others)
                .order_by(t.sort_key, t.patient_id)
                .limit(limit * 2)
            )
        )
    )[:limit]
    rows = {p.id: p for p in s.scalars(select(Patient).where(Patient.id.in_(ids), live))}
    return [rows[i] for i in ids if i in rows]

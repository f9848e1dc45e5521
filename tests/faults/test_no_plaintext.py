"""No plaintext patient data on disk: not in the database, its WAL, key slots, logs or backups."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from clinicdesk import logs
from clinicdesk.services.access import restore, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.text import fold
from tests.conftest import ADMIN_PASSWORD

LATIN = "Zyqxwvensentinel"
CYRILLIC = "Жщюфсентинелов"
GREEK = "Ξψζωσεντινελος"
EMAIL = "qvzmailsentinel@example.org"
ADDRESS = "Vrbqstreetsentinel 42"
NATIONAL_ID = "QXZ7SENT9931"
PHONE = "+49 170 8642 9731"

SENTINELS = [LATIN, CYRILLIC, GREEK, EMAIL, ADDRESS, NATIONAL_ID]


def _needles() -> dict[str, bytes]:
    """Every form a sentinel could be written in: as typed, folded for search, upper and lower
    case, each in UTF-8 and UTF-16-LE; and the phone's digits as search indexes keep them."""
    forms: set[str] = set()
    for text in SENTINELS:
        forms |= {text, text.lower(), text.upper(), fold(text), fold(text).replace(" ", "")}
    forms = {f for f in forms if len(f) >= 8}
    needles = {}
    for form in forms:
        needles[f"{form!r} utf-8"] = form.encode("utf-8")
        needles[f"{form!r} utf-16-le"] = form.encode("utf-16-le")
    digits = "".join(ch for ch in PHONE if ch.isdigit())
    needles["phone digits"] = digits.encode()
    needles["phone"] = PHONE.encode()
    return needles


NEEDLES = _needles()


def _files(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.exists():
            found.extend(p for p in root.rglob("*") if p.is_file())
    return found


def _leaks(*roots: Path) -> list[str]:
    leaks = []
    for path in _files(*roots):
        data = path.read_bytes()
        leaks += [f"{label} in {path}" for label, needle in NEEDLES.items() if needle in data]
    return leaks


def test_the_scanner_finds_plaintext(tmp_path: Path):
    """A control: the same scan does see the sentinels when they are written in the clear."""
    (tmp_path / "plain.txt").write_text(f"{GREEK} x", encoding="utf-16-le")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "x.bin").write_bytes(b"\x00" + fold(CYRILLIC).encode() + b"\x00")
    leaks = _leaks(tmp_path)
    assert len(leaks) == 2
    assert f"{GREEK!r} utf-16-le in {tmp_path / 'plain.txt'}" in leaks


@pytest.fixture
def file_log(clinic_dir):
    target = logs.configure(clinic_dir[0])
    yield target
    for handler in [h for h in logs.log.handlers if isinstance(h, logging.FileHandler)]:
        logs.log.removeHandler(handler)
        handler.close()


def _register_sentinels(session) -> list:
    people = [
        PatientInput(
            LATIN,
            "Okafor",
            date(1961, 4, 9),
            "female",
            phone=PHONE,
            email=EMAIL,
            address=ADDRESS,
            national_id=NATIONAL_ID,
            emergency_contact_name=f"{GREEK} {CYRILLIC}",
        ),
        PatientInput(CYRILLIC, GREEK, date(1999, 12, 31), "male"),
        PatientInput("Maria", GREEK, date(2004, 2, 29), "female", address=f"{CYRILLIC} 7"),
    ]
    return [session.patients.register(session.actor, p, not_a_duplicate=True) for p in people]


def test_sentinel_patients_leave_no_plaintext_anywhere(clinic_dir, file_log, tmp_path: Path):
    folder, _ = clinic_dir
    outside = tmp_path / "outside-backups"
    outside.mkdir()

    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        records = _register_sentinels(session)
        for query in (LATIN[:5], CYRILLIC[:4], GREEK, "8642 9731", NATIONAL_ID):
            assert session.patients.search(session.actor, query), query
        for rec in records:
            session.patients.get(session.actor, rec.id)
        first = records[0]
        session.patients.update(
            session.actor,
            first.id,
            PatientInput(**{**first.as_input().__dict__, "family_name": f"{GREEK}-Okafor"}),
            first.version,
        )
        assert session.patients.history(session.actor, first.id)
        # An unexpected error whose message quotes a patient goes to the log by type only.
        try:
            raise ValueError(f"could not print label for {LATIN} {CYRILLIC}")
        except ValueError as exc:
            logs.log_unexpected(exc)
        for handler in logs.log.handlers:
            handler.flush()

        # While the clinic is open its writes sit in the WAL: scan that state too.
        wal = folder / "clinic.db-wal"
        assert wal.exists() and wal.stat().st_size > 0
        assert file_log is not None and file_log.exists() and file_log.stat().st_size > 0
        assert _leaks(folder) == []

        elsewhere = session.backup(outside).path
        assert _leaks(folder, outside) == []
    finally:
        session.close()

    restore(elsewhere, folder, "admin", ADMIN_PASSWORD)
    session = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        found = session.patients.search(session.actor, LATIN)
        assert [r.id for r in found] == [records[0].id]
        assert found[0].family_name == f"{GREEK}-Okafor"
        assert _leaks(folder, outside) == []
    finally:
        session.close()

    # Everything a clinic's folder ends up holding was scanned, and it was not empty.
    names = {p.name for p in _files(folder)}
    assert {"clinic.db", "keyslots.json", "clinicdesk.log"} <= names
    assert any(p.parent.name.startswith("replaced-") for p in _files(folder))
    assert elsewhere.exists()
    assert _leaks(folder, outside, tmp_path) == []

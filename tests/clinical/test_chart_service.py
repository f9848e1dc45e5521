"""The chart: each section added, changed and removed with its versions and who did what;
wrong input named field by field with nothing saved; documents checked from their content,
read back intact, and never on disk in the clear."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clinic_setup import DOCTOR_PASSWORD, add_gp, new_clinic, register
from PIL import Image, PngImagePlugin

from clinicdesk.errors import Conflict, NotFound, ValidationError
from clinicdesk.services.access import ClinicSession, sign_in
from tests.clinic_time import clinic_today

MARKER = b"Qzvx attachment sentinel 7731"
TAKEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a morning's reading, long past


@dataclass
class Desk:
    admin: ClinicSession
    doctor: ClinicSession
    patient_id: str

    def chart(self):
        return self.doctor.chart.open(self.doctor.actor, self.patient_id)

    def history(self):
        return self.doctor.chart.history(self.doctor.actor, self.patient_id)

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refusal must leave as it was: the sections, documents and history."""
        chart = self.chart()
        return chart.sections, chart.documents, len(self.history())


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[Desk]:
    admin = new_clinic(tmp_path_factory.mktemp("chart") / "clinic")
    add_gp(admin)
    patient = register(admin, "Ivan", "Petrov")
    doctor = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)
    yield Desk(admin, doctor, patient)
    doctor.close()
    admin.close()


# ---- each section: add, change, remove, with history ----

SECTION_CASES = [
    (
        "allergies",
        {"substance": "Latex", "reaction": "Rash", "severity": "mild"},
        {"substance": "Latex", "reaction": "Rash", "severity": "severe"},
        {"severity": ("mild", "severe")},
    ),
    (
        "conditions",
        {"name": "Asthma", "status": "active", "onset": date(2010, 4, 1)},
        {
            "name": "Asthma",
            "status": "resolved",
            "onset": date(2010, 4, 1),
            "resolved_on": date(2020, 9, 1),
        },
        {"status": ("active", "resolved"), "resolved_on": (None, "2020-09-01")},
    ),
    (
        "surgeries",
        {"procedure": "Appendicectomy", "performed_on": date(2001, 6, 1)},
        {"procedure": "Laparoscopic appendicectomy", "performed_on": date(2001, 6, 1)},
        {"procedure": ("Appendicectomy", "Laparoscopic appendicectomy")},
    ),
    (
        "family_history",
        {"relative": "Mother", "condition": "Type 2 diabetes"},
        {"relative": "Mother", "condition": "Type 2 diabetes", "note": "Diagnosed at 50"},
        {"note": ("", "Diagnosed at 50")},
    ),
    (
        "vitals",
        {"systolic": "128", "diastolic": 82, "pulse": 70, "taken_at": TAKEN},
        {"systolic": 128, "diastolic": 82, "pulse": 64, "taken_at": TAKEN},
        {"pulse": (70, 64)},
    ),
]


@pytest.mark.parametrize(("section", "first", "second", "changes"), SECTION_CASES)
def test_a_section_entry_is_added_changed_and_removed_with_its_history(
    desk, section, first, second, changes
):
    doctor = desk.doctor
    added = doctor.chart.add(doctor.actor, desk.patient_id, section, first)
    assert added.version == 1

    changed = doctor.chart.update(doctor.actor, section, added.id, 1, second)

    assert changed.version == 2
    (shown,) = [e for e in desk.chart().sections[section] if e.id == added.id]
    assert shown.version == 2 and shown.values == changed.values
    latest = desk.history()[0]
    assert (latest.by, latest.entry_id, latest.entry_version, latest.action) == (
        "Dr Maya Hale",
        added.id,
        2,
        "changed",
    )
    assert latest.changes == changes

    with pytest.raises(Conflict) as stale:
        doctor.chart.update(doctor.actor, section, added.id, 1, first)
    assert "Someone else changed this" in stale.value.message
    assert [e.values for e in desk.chart().sections[section] if e.id == added.id] == [
        changed.values
    ]

    doctor.chart.remove(doctor.actor, section, added.id, "Entered for the wrong patient")

    assert added.id not in [e.id for e in desk.chart().sections[section]]
    removed, change, add = desk.history()[:3]
    assert (removed.action, removed.entry_version) == ("removed", 3)
    assert removed.changes == {"reason": (None, "Entered for the wrong patient")}
    assert (change.action, add.action, add.entry_version) == ("changed", "added", 1)
    with pytest.raises(NotFound):
        doctor.chart.update(doctor.actor, section, added.id, 3, second)


def test_history_names_the_section_and_who_changed_it(desk):
    admin = desk.admin
    entry = admin.chart.add(
        admin.actor, desk.patient_id, "allergies", {"substance": "Peanut", "severity": "severe"}
    )
    latest = desk.history()[0]
    assert (latest.section, latest.by, latest.action) == ("Allergies", "Ada Admin", "added")
    assert latest.changes["substance"] == (None, "Peanut")
    assert latest.changes["severity"] == (None, "severe")
    allergies = desk.chart().allergies
    assert [a.values["substance"] for a in allergies if a.id == entry.id] == ["Peanut"]


def test_an_update_that_changes_nothing_keeps_the_version(desk):
    doctor = desk.doctor
    values = {"relative": "Father", "condition": "Hypertension"}
    entry = doctor.chart.add(doctor.actor, desk.patient_id, "family_history", values)
    count = len(desk.history())

    again = doctor.chart.update(doctor.actor, "family_history", entry.id, 1, values)

    assert again.version == 1
    assert len(desk.history()) == count


def test_lifestyle_is_one_entry_written_then_changed(desk):
    doctor = desk.doctor
    first = doctor.chart.set_lifestyle(doctor.actor, desk.patient_id, {"smoking": "Never"})
    second = doctor.chart.set_lifestyle(
        doctor.actor, desk.patient_id, {"smoking": "Never", "alcohol": "Weekends"}
    )

    assert second.id == first.id and second.version == 2
    (shown,) = desk.chart().sections["lifestyle"]
    assert shown.values == {"smoking": "Never", "alcohol": "Weekends", "activity": "", "diet": ""}
    assert desk.history()[0].changes == {"alcohol": ("", "Weekends")}
    with pytest.raises(Conflict) as twice:
        doctor.chart.add(doctor.actor, desk.patient_id, "lifestyle", {"diet": "Vegetarian"})
    assert twice.value.message == "This patient already has a lifestyle entry; edit it."


# ---- wrong input: each field named, nothing saved ----

WRONG = [
    ("allergies", {"reaction": "Rash", "severity": "mild"}, {"substance": "is required"}),
    (
        "allergies",
        {"substance": "Latex", "severity": ""},
        {"severity": "choose mild, moderate, severe, life-threatening"},
    ),
    (
        "allergies",
        {"substance": "Latex", "severity": "very bad"},
        {"severity": "choose mild, moderate, severe, life-threatening"},
    ),
    (
        "conditions",
        {
            "name": "Eczema",
            "status": "resolved",
            "onset": date(2015, 3, 1),
            "resolved_on": date(2014, 1, 1),
        },
        {"resolved_on": "is before the onset"},
    ),
    (
        "conditions",
        {"name": "Eczema", "status": "active", "resolved_on": date(2014, 1, 1)},
        {"resolved_on": "is only given for a resolved condition"},
    ),
    (
        "conditions",
        {"name": "Eczema", "onset": date(2999, 1, 1)},
        {"onset": "is in the future"},
    ),
    ("conditions", {"name": "Eczema", "status": "gone"}, {"status": "must be active or resolved"}),
    (
        "surgeries",
        {"procedure": "Tonsillectomy", "performed_on": "last year"},
        {"performed_on": "must be a date"},
    ),
    ("family_history", {"condition": "Glaucoma"}, {"relative": "is required"}),
    ("vitals", {"systolic": 300, "diastolic": 80}, {"systolic": "must be between 50 and 260"}),
    ("vitals", {"temperature": "29,5"}, {"temperature": "must be between 30 and 45"}),
    ("vitals", {"pulse": "fast"}, {"pulse": "must be a number"}),
    ("vitals", {"spo2": 97.5}, {"spo2": "must be a whole number"}),
    (
        "vitals",
        {"systolic": 120, "diastolic": 120},
        {"diastolic": "must be lower than the systolic pressure"},
    ),
    (
        "vitals",
        {"systolic": 120, "diastolic": 80, "taken_at": datetime.now(UTC) + timedelta(hours=2)},
        {"taken_at": "is in the future"},
    ),
    (
        "vitals",
        {"systolic": 120, "diastolic": 80, "taken_at": datetime(2026, 1, 1, 9, 0)},
        {"taken_at": "must be a date and time"},
    ),
    ("vitals", {"note": "patient refused"}, {"systolic": "record at least one measurement"}),
    ("lifestyle", {"smoking": " ", "diet": ""}, {"smoking": "fill in at least one of the four"}),
]


@pytest.mark.parametrize(("section", "values", "fields"), WRONG)
def test_wrong_input_is_named_field_by_field_and_nothing_is_saved(desk, section, values, fields):
    doctor = desk.doctor
    before = desk.snapshot()

    with pytest.raises(ValidationError) as refused:
        doctor.chart.add(doctor.actor, desk.patient_id, section, values)

    assert refused.value.fields == fields
    assert desk.snapshot() == before


def test_a_wrong_change_keeps_the_entry_as_it_was(desk):
    doctor = desk.doctor
    entry = doctor.chart.add(
        doctor.actor, desk.patient_id, "vitals", {"systolic": 118, "diastolic": 76}
    )
    before = desk.snapshot()

    with pytest.raises(ValidationError) as refused:
        doctor.chart.update(doctor.actor, "vitals", entry.id, 1, {"systolic": 70, "diastolic": 76})

    assert refused.value.fields == {"diastolic": "must be lower than the systolic pressure"}
    assert desk.snapshot() == before
    with pytest.raises(ValidationError) as no_reason:
        doctor.chart.remove(doctor.actor, "vitals", entry.id, "  ")
    assert no_reason.value.fields == {"reason": "say why the entry is removed"}
    assert desk.snapshot() == before


# ---- documents ----


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + MARKER + b" lab report\n%%EOF\n"


def png_bytes() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER.decode())
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize(
    ("file_name", "make", "media_type"),
    [("Full blood count.pdf", pdf_bytes, "application/pdf"), ("rash.PNG", png_bytes, "image/png")],
)
def test_a_document_is_stored_and_read_back_intact(desk, file_name, make, media_type):
    doctor = desk.doctor
    content = make()

    info = doctor.chart.attach(
        doctor.actor, desk.patient_id, "lab", "", file_name, content, dated=date(2026, 1, 5)
    )

    assert (info.media_type, info.size_bytes, info.title) == (media_type, len(content), file_name)
    shown, stored = doctor.chart.document_content(doctor.actor, info.id)
    assert stored == content and shown == info
    assert info.id in [d.id for d in desk.chart().documents]
    latest = desk.history()[0]
    assert (latest.section, latest.action) == ("Documents", "added")
    assert latest.changes["file_name"] == (None, file_name)


def test_a_removed_document_leaves_the_chart(desk):
    doctor = desk.doctor
    info = doctor.chart.attach(
        doctor.actor, desk.patient_id, "letter", "Referral", "referral.pdf", pdf_bytes()
    )

    doctor.chart.remove_document(doctor.actor, info.id, "Wrong patient")

    assert info.id not in [d.id for d in desk.chart().documents]
    with pytest.raises(NotFound):
        doctor.chart.document_content(doctor.actor, info.id)
    assert desk.history()[0].changes == {"reason": (None, "Wrong patient")}


BAD_FILES = [
    ("scan.pdf", png_bytes, "scan.pdf is not a PDF: its content is a PNG image"),
    (
        "photo.png",
        lambda: b"\xff\xd8\xff\xe0 JFIF pretending",
        "photo.png is not a PNG image: its content is a JPEG image",
    ),
    (
        "report.pdf",
        lambda: b"Just some text, not a PDF at all",
        "report.pdf is not a PDF: its content is not a file type we accept",
    ),
    (
        "notes.docx",
        pdf_bytes,
        "notes.docx cannot be attached: attach a PDF or an image (PNG, JPEG, GIF, WebP)",
    ),
    ("README", pdf_bytes,
     "README cannot be attached: attach a PDF or an image (PNG, JPEG, GIF, WebP)"),
    ("empty.pdf", lambda: b"", "empty.pdf is empty"),
    (
        "huge.pdf",
        lambda: b"%PDF-" + bytes(25 * 2**20 - 4),
        "huge.pdf is 25.1 MB; the largest file is 25 MB",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("file_name", "make", "message"), BAD_FILES)
def test_a_file_that_is_not_what_it_says_or_too_large_is_refused(desk, file_name, make, message):
    doctor = desk.doctor
    before = desk.snapshot()

    with pytest.raises(ValidationError) as refused:
        doctor.chart.attach(doctor.actor, desk.patient_id, "lab", "", file_name, make())

    assert refused.value.fields == {"file": message}
    assert desk.snapshot() == before


def test_exactly_25_megabytes_is_accepted(desk):
    doctor = desk.doctor
    content = b"%PDF-" + bytes(25 * 2**20 - 5)
    info = doctor.chart.attach(doctor.actor, desk.patient_id, "lab", "Scan", "big.pdf", content)
    assert doctor.chart.document_content(doctor.actor, info.id)[1] == content
    doctor.chart.remove_document(doctor.actor, info.id, "Too big to keep")


def test_a_document_dated_in_the_future_or_of_no_kind_is_refused(desk):
    doctor = desk.doctor
    before = desk.snapshot()
    with pytest.raises(ValidationError) as future:
        doctor.chart.attach(
            doctor.actor, desk.patient_id, "lab", "FBC", "fbc.pdf", pdf_bytes(),
            dated=clinic_today(doctor) + timedelta(days=1),
        )  # fmt: skip
    assert future.value.fields == {"dated": "is in the future"}
    with pytest.raises(ValidationError) as kind:
        doctor.chart.attach(doctor.actor, desk.patient_id, "xray", "FBC", "fbc.pdf", pdf_bytes())
    assert kind.value.fields == {"kind": "choose lab report, letter, image, other"}
    assert desk.snapshot() == before


def test_a_documents_bytes_never_reach_the_disk_in_the_clear(tmp_path):
    admin = new_clinic(tmp_path / "clinic")
    try:
        patient = register(admin)
        content = pdf_bytes()
        assert MARKER in content and MARKER in png_bytes()  # what the scan looks for is there
        admin.chart.attach(admin.actor, patient, "lab", "FBC", "fbc.pdf", content)
        admin.chart.attach(admin.actor, patient, "image", "Rash", "rash.png", png_bytes())

        files = [p for p in Path(admin.folder).rglob("*") if p.is_file()]
        assert files
        leaks = [p for p in files if MARKER in p.read_bytes() or MARKER.lower() in p.read_bytes()]
        assert leaks == []
    finally:
        admin.close()

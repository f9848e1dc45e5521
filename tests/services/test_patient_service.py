"""Patients through the service layer: registration, duplicates, search, edits and history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from clinicdesk.errors import Conflict, PermissionDenied, ValidationError
from clinicdesk.permissions import Role
from clinicdesk.services.patients import PatientInput, PatientService, PossibleDuplicate
from tests.clinic_time import clinic_today

pytestmark = pytest.mark.clock  # dated by the clinic's calendar; see .ci/run

TOMORROW = object()  # the clinic's tomorrow, known once the clinic exists
ANNA = PatientInput(
    given_name="Anna-Lena",
    family_name="Müller",
    date_of_birth=date(1984, 2, 29),
    sex="female",
    phone="+49 (170) 123-4567",
    email="anna.mueller@example.org",
    national_id="T22000129",
)


def test_registration_assigns_clinic_mrns_in_order(admin):
    first = admin.patients.register(admin.actor, ANNA)
    second = admin.patients.register(
        admin.actor,
        replace(ANNA, given_name="Jonas", date_of_birth=date(1990, 1, 1), phone="", national_id=""),
    )
    assert (first.mrn, second.mrn) == ("SFC-000001", "SFC-000002")
    assert admin.patients.get(admin.actor, first.id).full_name == "Anna-Lena Müller"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("given_name", "  ", "is required"),
        ("family_name", "x" * 101, "too long"),
        ("date_of_birth", TOMORROW, "in the future"),
        ("date_of_birth", None, "is required"),
        ("sex", "f", "must be one of"),
        ("phone", "12ab34", "only digits"),
        ("phone", "123", "between 6 and 15 digits"),
        ("email", "anna@", "not a valid e-mail"),
        ("emergency_contact_phone", "call me", "only digits"),
    ],
)
def test_invalid_field_names_the_field_and_saves_nothing(admin, field, value, reason):
    if value is TOMORROW:
        value = clinic_today(admin) + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        admin.patients.register(admin.actor, replace(ANNA, **{field: value}))
    assert list(caught.value.fields) == [field]
    assert reason in caught.value.fields[field]
    assert admin.patients.count(admin.actor) == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"given_name": "Ana Lena", "family_name": "Muller", "phone": "", "national_id": ""},
            "similar name and same date of birth",
        ),
        (
            {"given_name": "Anna", "date_of_birth": date(1985, 1, 1), "national_id": ""},
            "similar name and same phone",
        ),
        (
            {
                "given_name": "Someone",
                "family_name": "Else",
                "phone": "",
                "date_of_birth": date(1950, 5, 5),
            },
            "same national id",
        ),
    ],
)
def test_likely_duplicates_are_shown_before_saving(admin, change, reason):
    existing = admin.patients.register(admin.actor, ANNA)
    candidate = replace(ANNA, **change)
    with pytest.raises(PossibleDuplicate) as caught:
        admin.patients.register(admin.actor, candidate)
    assert caught.value.candidates[0].patient.id == existing.id
    assert reason in caught.value.candidates[0].reasons
    assert existing.mrn in caught.value.message
    assert admin.patients.count(admin.actor) == 1
    admin.patients.register(admin.actor, candidate, not_a_duplicate=True)
    assert admin.patients.count(admin.actor) == 2


def test_a_different_person_with_the_same_birthday_is_not_a_duplicate(admin):
    admin.patients.register(admin.actor, ANNA)
    other = replace(ANNA, given_name="Kwame", family_name="Mensah", phone="", national_id="")
    assert admin.patients.find_duplicates(admin.actor, other) == []


@pytest.fixture
def register(admin):
    def make(given, family, born=date(1970, 1, 1), phone="", national_id="", sex="female"):
        data = PatientInput(given, family, born, sex, phone=phone, national_id=national_id)
        return admin.patients.register(admin.actor, data, not_a_duplicate=True)

    return make


def test_search_matches_word_starts_without_accents_or_case(admin, register):
    register("José", "Müller-Żak")
    register("Łukasz", "Nowak")
    register("Ελένη", "Παπαδοπούλου")
    register("Joseph", "Miller")

    def names(query):
        return [p.full_name for p in admin.patients.search(admin.actor, query)]

    assert names("JOSE") == ["Joseph Miller", "José Müller-Żak"]  # "jose" starts "joseph" too
    assert names("josé mü") == ["José Müller-Żak"]
    assert names("MULL") == ["José Müller-Żak"]
    assert names("zak") == ["José Müller-Żak"]
    assert names("mullerzak") == ["José Müller-Żak"]
    assert names("luk now") == ["Łukasz Nowak"]
    assert names("ελενη") == ["Ελένη Παπαδοπούλου"]
    assert names("elen papad") == ["Ελένη Παπαδοπούλου"]
    assert names("jo") == ["Joseph Miller", "José Müller-Żak"]  # ordered by family name
    assert names("ose") == []  # word starts only
    assert names("j") == []  # one letter is too little to search on


def test_search_by_phone_mrn_national_id_and_birth_date(admin, register):
    anna = register(
        "Anna", "Berg", born=date(1961, 7, 14), phone="+44 7700 900123", national_id="943 476 5919"
    )
    register("Bert", "Berg", born=date(1962, 7, 14), phone="+44 7700 900456")

    def mrns(query):
        return [p.mrn for p in admin.patients.search(admin.actor, query)]

    assert mrns("+44 7700 900123") == [anna.mrn]
    assert mrns("900123") == [anna.mrn]  # the end of the number, as callers read it out
    assert mrns("447700") == [anna.mrn, "SFC-000002"]
    assert mrns(anna.mrn) == [anna.mrn]
    assert mrns("1") == []
    assert mrns("943 476") == [anna.mrn]
    assert mrns("14/07/1961") == [anna.mrn]
    assert mrns("1961-07-14") == [anna.mrn]
    assert mrns("berg 14.07.1961") == [anna.mrn]
    assert mrns("berg 01/01/2000") == []


def test_edit_keeps_history_and_updates_search(admin, register):
    anna = register("Anna", "Berg", phone="+44 7700 900123")
    edited = admin.patients.update(
        admin.actor, anna.id, replace(anna.as_input(), family_name="Lindqvist"), anna.version
    )
    assert edited.version == anna.version + 1
    assert [p.id for p in admin.patients.search(admin.actor, "lindq")] == [anna.id]
    assert admin.patients.search(admin.actor, "berg") == []
    (change,) = admin.patients.history(admin.actor, anna.id)
    assert change.changed_by == "Ada Admin"
    assert change.changes == {"family_name": ("Berg", "Lindqvist")}


def test_stale_edit_is_refused_and_changes_nothing(admin, register):
    anna = register("Anna", "Berg")
    admin.patients.update(
        admin.actor, anna.id, replace(anna.as_input(), phone="+44 20 7946 0001"), anna.version
    )
    with pytest.raises(Conflict, match="changed by someone else"):
        admin.patients.update(
            admin.actor, anna.id, replace(anna.as_input(), family_name="Other"), anna.version
        )
    assert admin.patients.get(admin.actor, anna.id).family_name == "Berg"


def test_roles_without_patient_rights_are_refused(admin, staff):
    pharmacist = staff(Role.PHARMACIST)
    with pytest.raises(PermissionDenied):
        pharmacist.patients.register(pharmacist.actor, ANNA)
    billing = staff(Role.BILLING)
    assert billing.patients.search(billing.actor, "anna") == []


def test_import_validates_every_record_before_saving_any(admin):
    good = ANNA
    bad = replace(ANNA, email="not-an-email")
    with pytest.raises(ValidationError, match="Record 2 email: is not a valid e-mail"):
        admin.patients.import_many(admin.actor, [good, bad])
    assert admin.patients.count(admin.actor) == 0
    assert len(admin.patients.import_many(admin.actor, [good, replace(good, given_name="Bo")])) == 2
    assert [p.given_name for p in admin.patients.search(admin.actor, "muller")] == [
        "Anna-Lena",
        "Bo",
    ]


def test_a_birth_date_is_checked_against_the_clinics_date_not_this_computers(admin):
    """At 23:30 UTC on a summer evening it is already the next day in London."""
    late = datetime(2026, 7, 15, 23, 30, tzinfo=UTC)
    desk = PatientService(admin.store, clock=lambda: late)
    born_today = replace(ANNA, given_name="Baby", date_of_birth=date(2026, 7, 16))

    assert desk.register(admin.actor, born_today).date_of_birth == date(2026, 7, 16)
    with pytest.raises(ValidationError) as caught:
        desk.register(admin.actor, replace(born_today, date_of_birth=date(2026, 7, 17)))
    assert caught.value.fields == {"date_of_birth": "is in the future"}

"""The audit log as an admin reads it: names and words, every entry reachable, filters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinicdesk.errors import ValidationError
from clinicdesk.permissions import Role
from clinicdesk.services.audit_log import AuditFilter
from clinicdesk.services.audit_words import action_words
from clinicdesk.services.inventory import BatchInput
from clinicdesk.services.patients import PatientInput
from clinicdesk.store import audit
from tests.clinical.clinic_setup import add_gp
from tests.pharmacy.pharmacy_setup import drug_id
from tests.store.audit_attacks import register
from tests.trust_files import good_key, import_trust, trust, write_json


def _chloe(admin) -> str:
    return admin.patients.register(
        admin.actor,
        PatientInput("Chloé", "Moreau", date(1985, 2, 3), "female"),
        not_a_duplicate=True,
    ).id


def test_entries_name_people_and_patients_and_say_the_action_in_words(admin, staff):
    chloe = _chloe(admin)
    reception = staff(Role.RECEPTIONIST, username="rosa")
    reception.patients.get(reception.actor, chloe)
    before = admin.audit.newest_seq(admin.actor)

    rows = admin.audit.page(admin.actor).rows

    by_action = {r.action: r for r in rows}
    view = by_action["patient.view"]
    assert (view.actor_name, view.what) == ("Rosa", "Opened a patient's record")
    assert view.record.startswith("Patient Chloé Moreau (")
    assert by_action["user.sign_in"].what == "Signed in"
    assert by_action["user.create"].record == "Rosa's account"
    assert admin.audit.newest_seq(admin.actor) == before  # reading the log wrote nothing


def test_a_record_of_one_patient_names_that_patient(admin):
    chloe = _chloe(admin)
    admin.queue.add_walk_in(admin.actor, chloe)
    (walk_in,) = admin.audit.page(admin.actor, AuditFilter(action="queue.walk_in")).rows
    assert walk_in.what == "Added a walk-in"
    assert walk_in.record.startswith("In the queue: Chloé Moreau (")


def test_an_action_without_words_still_reads_as_words():
    assert action_words("chart.open") == "Opened a chart"
    assert action_words("stock.write_off") == "Stock: write off"
    assert action_words("appointment.no_show") == "Appointment: no show"


def test_every_entry_is_reachable_page_by_page(admin):
    with admin.store.write(admin.actor) as s:
        for i in range(250):
            audit.append(s, admin.actor, "patient.view", "patients", None, n=i)
    newest = admin.audit.newest_seq(admin.actor)
    seen: list[int] = []
    before = None
    while True:
        page = admin.audit.page(admin.actor, before=before, limit=100)
        seen += [r.seq for r in page.rows]
        if not page.more:
            break
        before = page.rows[-1].seq
    assert seen == list(range(newest, 0, -1))
    assert newest > 250


def test_filters_by_person_patient_action_and_days(admin, staff):
    chloe = _chloe(admin)
    register(admin, family="Okafor", n=3)
    reception = staff(Role.RECEPTIONIST, username="rosa")
    reception.patients.get(reception.actor, chloe)
    rosa = reception.actor.user_id

    mine = admin.audit.page(admin.actor, AuditFilter(person_id=rosa)).rows
    assert mine and {r.actor_name for r in mine} == {"Rosa"}

    hers = admin.audit.page(admin.actor, AuditFilter(patient="moreau")).rows
    assert {r.action for r in hers} == {"patient.register", "patient.view"}
    assert {r.entity_id for r in hers} == {chloe}
    assert admin.audit.page(admin.actor, AuditFilter(patient="chloe moreau")).rows == hers
    assert admin.audit.page(admin.actor, AuditFilter(patient="Nobody Here")).rows == []

    views = admin.audit.page(admin.actor, AuditFilter(action="patient.register")).rows
    assert len(views) == 4 and {r.what for r in views} == {"Registered a patient"}

    today = date.today()
    everything = admin.audit.page(admin.actor, AuditFilter(since=today - timedelta(days=1)))
    assert len(everything.rows) == admin.audit.newest_seq(admin.actor)
    assert admin.audit.page(admin.actor, AuditFilter(until=today - timedelta(days=2))).rows == []


def test_a_last_day_before_the_first_is_refused_in_words(admin):
    today = date.today()
    with pytest.raises(ValidationError) as refused:
        admin.audit.page(admin.actor, AuditFilter(since=today, until=today - timedelta(days=1)))
    assert refused.value.message == "Please correct: To: the last day is before the first day."


def test_a_patient_filter_matching_too_many_patients_asks_for_more(admin):
    for i in range(51):
        admin.patients.register(
            admin.actor,
            PatientInput(f"Given{i}", "Okafor", date(1970, 1, 1) + timedelta(days=i), "female"),
            not_a_duplicate=True,
        )
    with pytest.raises(ValidationError) as refused:
        admin.audit.page(admin.actor, AuditFilter(patient="okafor"))
    assert "type more of the name, or the MRN" in refused.value.message


def test_stock_drugs_keys_and_doctors_are_named_not_numbered(admin):
    """An admin reads which batch, drug, key or doctor an entry is about, never an id."""
    amoxicillin = drug_id(admin, "Amoxicillin")
    later = date.today() + timedelta(days=400)
    batch = admin.inventory.receive(
        admin.actor,
        BatchInput(amoxicillin, "B123", later, 30, 5, 12, strength="500 mg", form="capsule"),
    )
    admin.inventory.adjust(admin.actor, batch.id, -2, "broken")
    admin.inventory.set_reorder_level(admin.actor, amoxicillin, 40)
    first = admin.signing_keys.rotate(admin.actor)
    admin.signing_keys.revoke(admin.actor, first.kid, "the laptop holding it was lost")
    add_gp(admin)
    clinic = admin.clinic.details().name

    named = {r.action: r.record for r in admin.audit.page(admin.actor).rows}

    assert named["stock.receive"] == "Amoxicillin 500 mg batch B123"
    assert named["stock.adjust"] == "Amoxicillin 500 mg batch B123"
    assert named["stock.reorder_level"] == "Amoxicillin"
    short = first.fingerprint[:9]  # '1a2b 3c4d': the fingerprint's first two groups
    assert named["signing_key.revoke"] == f"Signing key of {clinic} ({short}…)"
    assert named["signing_key.rotate"].startswith(f"Signing key of {clinic} (")
    assert named["doctor.add"] == "Dr Maya Hale (doctor)"
    assert named["user.create"] == "Dr Maya Hale's account"
    assert named["service.add"] == "Service Consultation"


def test_chart_entries_holidays_and_imported_keys_are_named_not_numbered(admin, staff, tmp_path):
    chloe = _chloe(admin)
    doctor = staff(Role.DOCTOR, username="okafor")
    allergy = {"substance": "Penicillin", "reaction": "Rash", "severity": "mild"}
    entry = doctor.chart.add(doctor.actor, chloe, "allergies", allergy)
    doctor.chart.remove(doctor.actor, "allergies", entry.id, "entered in error")
    admin.schedule.add_holiday(admin.actor, date(2031, 12, 25), "Christmas Day")
    import_trust(admin, write_json(tmp_path / "elm.json", trust(good_key())))

    named = {r.action: r.record for r in admin.audit.page(admin.actor).rows}

    mrn = admin.patients.get(admin.actor, chloe).mrn
    assert named["chart.add"] == named["chart.remove"] == f"Allergies of Chloé Moreau ({mrn})"
    assert named["clinic.holiday"] == "Clinic holiday on 25/12/2031"
    assert named["signing_key.import"] == "Signing keys of Elm Clinic"

"""The clinic's formulary: seeded at first sign-in, searched as the doctor types (by name or
ingredient), edited by admins with duplicates and stale edits refused, drugs withdrawn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from clinic_setup import DOCTOR_PASSWORD, add_gp, new_clinic, register

from clinicdesk.errors import Conflict, PermissionDenied, ValidationError
from clinicdesk.rx.payload import PER_DAY, Frequency
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.formulary import DrugInput
from clinicdesk.services.prescription_checks import ItemInput

MOMETASONE = DrugInput(
    "Mometasone", "mometasone furoate", "corticosteroid", "nasal spray", "50 micrograms", "nasal"
)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[tuple[ClinicSession, ClinicSession]]:
    admin = new_clinic(tmp_path_factory.mktemp("formulary") / "clinic")
    add_gp(admin)
    doctor = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)
    yield admin, doctor
    doctor.close()
    admin.close()


def names(drugs) -> list[str]:
    return [d.name for d in drugs]


def test_a_new_clinic_has_the_starter_list(admin):
    """On its own clinic: the module's shared one has drugs added, edited and withdrawn."""
    drugs = {d.name: d for d in admin.formulary.all(admin.actor)}
    assert len(drugs) >= 70
    assert drugs["Co-codamol"].ingredients == ("codeine", "paracetamol")
    assert drugs["Amoxicillin"].drug_class == "penicillin"
    assert all(d.active and d.version == 1 for d in drugs.values())


@pytest.mark.parametrize(
    ("typed", "first", "also"),
    [
        ("amox", "Amoxicillin", "Co-amoxiclav"),  # by name, then by ingredient
        ("PARA", "Paracetamol", "Co-codamol"),
        ("codeine", "Codeine", "Co-codamol"),
        ("clavulan", "Co-amoxiclav", None),
    ],
)
def test_search_finds_a_drug_by_name_or_ingredient(clinic, typed, first, also):
    _admin, doctor = clinic
    found = names(doctor.formulary.search(doctor.actor, typed))
    assert found[0] == first
    if also:
        assert also in found
    assert "Ibuprofen" not in found


def test_a_receptionist_cannot_search_the_formulary(clinic, tmp_path):
    admin, _doctor = clinic
    from clinicdesk.permissions import Role

    admin.users.create(
        admin.actor, "desk", "Desk", {Role.RECEPTIONIST}, "staff password 1",
        must_change_password=False,
    )  # fmt: skip
    desk = sign_in(admin.folder, "desk", "staff password 1")
    try:
        with pytest.raises(PermissionDenied):
            desk.formulary.search(desk.actor, "para")
    finally:
        desk.close()


def test_an_admin_adds_a_drug_and_a_second_of_the_same_name_is_refused(clinic):
    admin, doctor = clinic
    count = len(admin.formulary.all(admin.actor))

    added = admin.formulary.add(admin.actor, MOMETASONE)

    assert (added.ingredients, added.forms, added.version) == (
        ("mometasone furoate",),
        ("nasal spray",),
        1,
    )
    assert names(doctor.formulary.search(doctor.actor, "momet"))[0] == "Mometasone"
    with pytest.raises(Conflict) as twice:
        admin.formulary.add(admin.actor, DrugInput(" MOMETASONE ", "mometasone"))
    assert twice.value.message == "MOMETASONE is already in the formulary."
    with pytest.raises(ValidationError) as bare:
        admin.formulary.add(admin.actor, DrugInput("  ", " , ", route=""))
    assert bare.value.fields == {
        "name": "is required",
        "ingredients": "name at least one",
        "route": "is required",
    }
    assert len(admin.formulary.all(admin.actor)) == count + 1


def test_a_doctor_cannot_edit_the_formulary(clinic):
    _admin, doctor = clinic
    with pytest.raises(PermissionDenied):
        doctor.formulary.add(doctor.actor, DrugInput("Drug X", "x"))


def test_an_update_counts_its_version_and_a_stale_one_is_refused(clinic):
    admin, _doctor = clinic
    drug = admin.formulary.add(admin.actor, DrugInput("Hyoscine", "hyoscine butylbromide"))
    more = DrugInput("Hyoscine", "hyoscine butylbromide", "antispasmodic", "tablet", "10 mg")

    updated = admin.formulary.update(admin.actor, drug.id, 1, more)

    assert (updated.version, updated.drug_class, updated.strengths) == (
        2,
        "antispasmodic",
        ("10 mg",),
    )
    with pytest.raises(Conflict) as stale:
        admin.formulary.update(admin.actor, drug.id, 1, DrugInput("Hyoscine", "hyoscine"))
    assert stale.value.message == "Someone else changed this drug meanwhile; reopen it."
    with pytest.raises(Conflict) as taken:
        admin.formulary.update(admin.actor, drug.id, 2, DrugInput("Paracetamol", "paracetamol"))
    assert taken.value.message == "Paracetamol is already in the formulary."
    (shown,) = [d for d in admin.formulary.all(admin.actor) if d.id == drug.id]
    assert shown == updated


def test_a_withdrawn_drug_is_no_longer_offered_until_reinstated(clinic):
    admin, doctor = clinic
    (naproxen,) = [d for d in admin.formulary.all(admin.actor) if d.name == "Naproxen"]

    withdrawn = admin.formulary.set_active(admin.actor, naproxen.id, False)

    assert not withdrawn.active and withdrawn.version == naproxen.version + 1
    assert "Naproxen" not in names(doctor.formulary.search(doctor.actor, "napro"))
    assert "Naproxen" in names(admin.formulary.all(admin.actor))
    admin.formulary.set_active(admin.actor, naproxen.id, True)
    assert names(doctor.formulary.search(doctor.actor, "napro")) == ["Naproxen"]


def test_a_drug_added_to_the_formulary_is_checked_against_allergies(clinic):
    """The checks read the clinic's own formulary: a new drug's ingredient meets an allergy."""
    admin, doctor = clinic
    admin.formulary.add(admin.actor, DrugInput("Nasonex", "mometasone furoate"))
    patient = register(admin, "Lena", "Novak")
    admin.chart.add(
        admin.actor, patient, "allergies", {"substance": "Mometasone furoate", "severity": "mild"}
    )
    item = ItemInput(
        "Nasonex", "2 sprays", "nasal", Frequency(PER_DAY, 1), 30, 1, "bottle", form="nasal spray"
    )

    (warning,) = doctor.prescriptions.check(doctor.actor, patient, [item])

    assert warning.message == (
        "Item 1, Nasonex, matches the recorded allergy to Mometasone furoate (mild)."
    )

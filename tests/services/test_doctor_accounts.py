"""A doctor's account and profile are made in one change: both or neither."""

from __future__ import annotations

import pytest

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.permissions import Role
from clinicdesk.services.access import sign_in
from clinicdesk.services.doctor_profiles import DoctorDetails
from clinicdesk.store.keyslots import SLOTS_FILE
from tests.conftest import STAFF_PASSWORD


def _state(admin) -> tuple:
    return (
        [u.username for u in admin.users.list(admin.actor)],
        admin.schedule.doctors(admin.actor),
        admin.schedule.specializations(admin.actor),
        (admin.folder / SLOTS_FILE).read_bytes(),
    )


def test_a_doctor_is_created_with_licence_and_specialization_in_one_step(admin):
    service = admin.schedule.add_service(admin.actor, "Consultation", 20, 5, 4500)
    details = DoctorDetails(
        "GMC 7012345", frozenset({service.id}), new_specialization="Paediatrics", room="Room 2"
    )
    user = admin.users.create(
        admin.actor, "dr.ade", "Dr Ade Bello", {Role.DOCTOR}, STAFF_PASSWORD, doctor=details
    )
    (doctor,) = admin.schedule.doctors(admin.actor)
    assert (doctor.user_id, doctor.name, doctor.specialization, doctor.licence_number) == (
        user.id,
        "Dr Ade Bello",
        "Paediatrics",
        "GMC 7012345",
    )
    assert doctor.service_ids == {service.id}
    sign_in(admin.folder, "dr.ade", STAFF_PASSWORD).close()


def test_a_doctor_without_licence_or_specialization_is_refused_and_nothing_is_made(admin):
    before = _state(admin)
    with pytest.raises(ValidationError) as caught:
        admin.users.create(
            admin.actor,
            "dr.ade",
            "",
            {Role.DOCTOR},
            STAFF_PASSWORD,
            doctor=DoctorDetails("  ", frozenset()),
        )
    assert caught.value.fields == {
        "display_name": "is required",
        "licence_number": "is required",
        "specialization": "is required: pick one or type a new one",
        "services": "choose at least one service",
    }
    assert _state(admin) == before


def test_a_profile_refused_in_the_database_leaves_no_account_and_no_key_slot(admin):
    service = admin.schedule.add_service(admin.actor, "Consultation", 20, 5, 4500)
    admin.schedule.add_specialization(admin.actor, "Paediatrics")
    before = _state(admin)
    details = DoctorDetails("GMC 1", frozenset({service.id}), new_specialization="Paediatrics")
    with pytest.raises(Conflict, match="Paediatrics"):
        admin.users.create(
            admin.actor, "dr.ade", "Dr Ade", {Role.DOCTOR}, STAFF_PASSWORD, doctor=details
        )
    assert _state(admin) == before

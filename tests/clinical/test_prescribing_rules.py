"""Who may prescribe, for which encounter, what an item must say, the warnings a doctor
acknowledges, the prescription's status and the dose times it stores."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from clinic_setup import (
    DOCTOR_PASSWORD,
    Consultation,
    consultation_in_new_clinic,
    new_clinic,
    register,
    three_items,
)

from clinicdesk.errors import Conflict, PermissionDenied, ValidationError
from clinicdesk.permissions import Role
from clinicdesk.rx.payload import AS_NEEDED, EVERY_HOURS, FIXED_TIMES, PER_DAY, Frequency
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.booking import AppointmentView, change_status
from clinicdesk.services.prescription_checks import ItemInput, NeedsAcknowledgement
from clinicdesk.services.prescriptions import PrescriptionService
from clinicdesk.services.queue import QueueService
from clinicdesk.services.visits import VisitService
from clinicdesk.store.models import Appointment
from tests.scheduling.practice import make_practice

LONDON = ZoneInfo("Europe/London")
STAFF_PASSWORD = "staff password 1"


def item(drug: str = "Ibuprofen", **changes) -> ItemInput:
    base = ItemInput(
        drug, "1 tablet", "by mouth", Frequency(PER_DAY, 3), 5, 15, "tablets", strength="400 mg"
    )
    return replace(base, **changes)


def local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), LONDON).astimezone(UTC)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[Consultation]:
    with consultation_in_new_clinic(tmp_path_factory.mktemp("rules") / "clinic") as consultation:
        yield consultation


def written(c: Consultation) -> list[str]:
    """The prescriptions of the consultation's visit, as the chart lists them."""
    return [p.id for p in c.doctor.prescriptions.for_visit(c.doctor.actor, c.visit.id)]


def write(c: Consultation, items: list[ItemInput], **kw):
    return c.doctor.prescriptions.write(c.doctor.actor, c.visit.id, items, **kw)


def staff_member(admin: ClinicSession, username: str, *roles: Role) -> ClinicSession:
    admin.users.create(
        admin.actor, username, username.title(), set(roles), STAFF_PASSWORD,
        must_change_password=False,
    )  # fmt: skip
    return sign_in(admin.folder, username, STAFF_PASSWORD)


# ---- who may prescribe ----


def test_a_receptionist_may_not_prescribe(clinic):
    before = written(clinic)
    reception = staff_member(clinic.admin, "frontdesk", Role.RECEPTIONIST)
    try:
        with pytest.raises(PermissionDenied) as refused:
            reception.prescriptions.write(reception.actor, clinic.visit.id, three_items())
    finally:
        reception.close()
    assert "not allowed to write prescriptions" in refused.value.message
    assert written(clinic) == before


def test_an_administrator_without_a_doctor_profile_may_not_prescribe(clinic):
    before = written(clinic)
    admin = clinic.admin  # the super-admin holds every permission, but is not a doctor

    with pytest.raises(Conflict) as refused:
        admin.prescriptions.write(admin.actor, clinic.visit.id, three_items())

    assert "Ada Admin has no doctor profile" in refused.value.message
    assert written(clinic) == before


def test_a_plain_administrator_may_not_prescribe(clinic):
    office = staff_member(clinic.admin, "office", Role.ADMIN)
    try:
        with pytest.raises(PermissionDenied):
            office.prescriptions.write(office.actor, clinic.visit.id, three_items())
    finally:
        office.close()


# ---- for which encounter ----


@dataclass
class Desks:
    """A practice with booked patients two weeks ahead, every desk's clock set to that morning."""

    admin: ClinicSession
    reception: AppointmentService
    queue: QueueService
    doctor: ClinicSession
    visits: VisitService
    book: Callable[[str, str], AppointmentView]  # (given name, "HH:MM") -> the booking


@pytest.fixture(scope="module")
def desks(tmp_path_factory) -> Iterator[Desks]:
    admin = new_clinic(tmp_path_factory.mktemp("booked") / "clinic")
    practice = make_practice(admin)
    now = practice.at(practice.monday, "08:55")
    doctor = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)

    def book(given: str, hhmm: str) -> AppointmentView:
        return admin.appointments.book(
            admin.actor,
            practice.patient(given),
            practice.doctor_id,
            practice.consultation_id,
            practice.at(practice.monday, hhmm),
        )

    yield Desks(
        admin,
        AppointmentService(admin.store, clock=lambda: now),
        QueueService(admin.store, clock=lambda: now),
        doctor,
        VisitService(doctor.store, AppointmentService(doctor.store, lambda: now), lambda: now),
        book,
    )
    doctor.close()
    admin.close()


def test_no_visit_opens_for_a_booking_not_checked_in(desks):
    appt = desks.book("Anna", "09:00")

    with pytest.raises(Conflict) as refused:
        desks.visits.start_for_appointment(desks.doctor.actor, appt.id)

    assert refused.value.message == (
        "This appointment is confirmed: a visit is opened once the patient has checked in."
    )
    assert appt.id not in desks.visits.doctor_day(desks.doctor.actor).open_visits


def test_a_booking_cancelled_after_check_in_leaves_the_queue_and_opens_no_visit(desks):
    admin, doctor, visits = desks.admin, desks.doctor, desks.visits
    appt = desks.book("Bert", "09:25")
    entry = desks.queue.check_in(admin.actor, appt.id)

    desks.reception.cancel(admin.actor, appt.id, "Patient felt better")

    assert {e.id: e.status for e in desks.queue.board(admin.actor)}[entry.id] == "left"
    assert visits.call_next(doctor.actor) is None
    with pytest.raises(Conflict) as refused:
        visits.start_for_appointment(doctor.actor, appt.id)
    assert refused.value.message.startswith("This appointment is cancelled")
    assert appt.id not in visits.doctor_day(doctor.actor).open_visits


def test_no_prescription_for_a_booking_cancelled_while_the_visit_is_open(desks):
    """Once the patient is in the room the desk cannot cancel; a cancellation arriving from
    another desk by sync still stops the prescription."""
    admin, doctor = desks.admin, desks.doctor
    appt = desks.book("Cleo", "09:50")
    desks.queue.check_in(admin.actor, appt.id)
    visit = desks.visits.start_for_appointment(doctor.actor, appt.id)
    with pytest.raises(Conflict) as refused:
        desks.reception.cancel(admin.actor, appt.id, "Patient felt better")
    assert "in consultation cannot become cancelled" in refused.value.message

    with admin.store.write(admin.actor) as s:  # as the sync client applies a remote change
        change_status(s, admin.actor, s.get(Appointment, appt.id), "cancelled", reason="Remote")
    with pytest.raises(Conflict) as refused:
        doctor.prescriptions.write(doctor.actor, visit.id, three_items())

    assert refused.value.message == (
        "This appointment is cancelled; a prescription is written only for a patient who "
        "checked in or was seen."
    )
    assert doctor.prescriptions.for_visit(doctor.actor, visit.id) == []


def test_a_checked_in_booking_gets_its_prescription(desks):
    admin, doctor = desks.admin, desks.doctor
    appt = desks.book("Dora", "10:15")
    desks.queue.check_in(admin.actor, appt.id)
    # earlier tests' patients are still in consultation: the doctor leaves them open
    visit = desks.visits.call_next(doctor.actor, leave_open=True)
    assert visit is not None and visit.appointment_id == appt.id

    rx = doctor.prescriptions.write(doctor.actor, visit.id, three_items())

    assert rx.visit_id == visit.id and rx.patient_name == "Dora Berg"
    day = {a.id: a.status for a in admin.appointments.day(admin.actor, appt.starts_at.date())}
    assert day[appt.id] == "in_consultation"


# ---- what an item must say ----


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [(0, "must be at least 1"), (None, "is required"), (-3, "must be at least 1")],
)
def test_an_item_without_a_quantity_is_refused(clinic, quantity, reason):
    before = written(clinic)

    with pytest.raises(ValidationError) as refused:
        write(clinic, [item("Omeprazole"), item(quantity=quantity)])

    assert refused.value.fields == {"item_2_quantity": reason}
    assert refused.value.message == f"Please correct: Item 2 quantity: {reason}."
    assert written(clinic) == before


@pytest.mark.parametrize(
    ("frequency", "reason"),
    [
        (Frequency(PER_DAY, 0), "times a day must be between 1 and 12"),
        (Frequency(PER_DAY, 13), "times a day must be between 1 and 12"),
        (Frequency(EVERY_HOURS, 0), "every how many hours must be between 1 and 72"),
        (Frequency(EVERY_HOURS, 73), "every how many hours must be between 1 and 72"),
        (Frequency(FIXED_TIMES), "give at least one time of day"),
        (
            Frequency(FIXED_TIMES, times=("8:00",)),
            "times of day must be written as HH:MM, for example 08:00",
        ),
        (
            Frequency(FIXED_TIMES, times=("08:00", "24:00")),
            "times of day must be written as HH:MM, for example 08:00",
        ),
        (Frequency(FIXED_TIMES, times=("08:00", "08:00")), "the same time of day is given twice"),
        (
            Frequency(FIXED_TIMES, times=tuple(f"{h:02d}:00" for h in range(13))),
            "at most 12 times a day",
        ),
        (Frequency(AS_NEEDED, 13), "the most a day must be between 1 and 12, or left empty"),
        (
            Frequency("weekly", 1),
            "choose how often: times a day, fixed times, every N hours or as needed",
        ),
    ],
)
def test_a_frequency_that_makes_no_sense_is_refused(clinic, frequency, reason):
    before = written(clinic)

    with pytest.raises(ValidationError) as refused:
        write(clinic, [item(frequency=frequency)])

    assert refused.value.fields == {"item_1_frequency": reason}
    assert written(clinic) == before


def test_every_missing_field_of_an_item_is_named(clinic):
    bare = ItemInput(" ", "", "", Frequency(PER_DAY, 2), 0, 10, "", refills=13)

    with pytest.raises(ValidationError) as refused:
        write(clinic, [bare])

    assert set(refused.value.fields) == {
        "item_1_drug",
        "item_1_dose",
        "item_1_route",
        "item_1_unit",
        "item_1_duration",
        "item_1_refills",
    }
    assert refused.value.fields["item_1_duration"] == "must be at least 1 days"


def test_eleven_items_are_too_many(clinic):
    before = written(clinic)

    with pytest.raises(ValidationError) as refused:
        write(clinic, [item(f"Drug {n}") for n in range(11)])

    assert refused.value.fields == {"items": "at most 10 items on one prescription"}
    assert written(clinic) == before
    with pytest.raises(ValidationError) as empty:
        write(clinic, [])
    assert empty.value.fields == {"items": "add at least one item"}


# ---- warnings the doctor acknowledges ----


@pytest.fixture(scope="module")
def allergic(clinic) -> Iterator[Consultation]:
    """A second walk-in with allergies to ibuprofen and amoxicillin (and penicillin, below)."""
    admin = clinic.admin
    patient = register(admin, "Olga", "Ivanova")
    for substance in ("Ibuprofen", "Amoxicillin"):
        admin.chart.add(
            admin.actor, patient, "allergies", {"substance": substance, "severity": "moderate"}
        )
    admin.queue.add_walk_in(admin.actor, patient)
    # the first walk-in's consultation stays open meanwhile
    visit = clinic.doctor.visits.call_next(clinic.doctor.actor, leave_open=True)
    assert visit is not None and visit.patient_id == patient
    return Consultation(admin, clinic.doctor, patient, visit)


@pytest.mark.parametrize(
    ("who", "drug", "allergy"),
    [
        ("allergic", "Ibuprofen", "Ibuprofen (moderate)"),  # by the drug's name
        ("allergic", "Co-amoxiclav", "Amoxicillin (moderate)"),  # by an ingredient
        ("clinic", "Amoxicillin", "Penicillin (Hives, severe)"),  # by the drug's class
        ("clinic", "Phenoxymethylpenicillin", "Penicillin (Hives, severe)"),
    ],
)
def test_an_allergy_needs_an_acknowledgement_with_a_reason(
    request, who, drug, allergy
):  # fmt: skip
    c: Consultation = request.getfixturevalue(who)
    items = [item("Omeprazole", dose="1 capsule", unit="capsules"), item(drug)]
    warnings = c.doctor.prescriptions.check(c.doctor.actor, c.patient_id, items)
    (warning,) = warnings
    assert warning.kind == "allergy"
    assert warning.message == f"Item 2, {drug}, matches the recorded allergy to {allergy}."
    before = written(c)

    with pytest.raises(NeedsAcknowledgement) as refused:
        write(c, items)
    assert refused.value.warnings == warnings
    assert warning.message in refused.value.message
    with pytest.raises(NeedsAcknowledgement):
        write(c, items, acknowledgements={warning.key: "   "})
    assert written(c) == before

    rx = write(c, items, acknowledgements={warning.key: "Tolerated it last year"})

    assert rx.acknowledged == ((warning.message, "Tolerated it last year"),)
    assert c.doctor.prescriptions.get(c.doctor.actor, rx.id).acknowledged == rx.acknowledged
    assert written(c) == [*before, rx.id]


def test_an_allergy_to_something_unrelated_gives_no_warning(clinic):
    items = [item("Paracetamol", strength="500 mg"), item("Cetirizine", dose="1 tablet")]
    assert clinic.doctor.prescriptions.check(clinic.doctor.actor, clinic.patient_id, items) == []


def test_two_items_with_the_same_ingredient_need_an_acknowledgement(clinic):
    items = [item("Paracetamol", strength="500 mg"), item("Co-codamol", strength="8 mg/500 mg")]
    before = written(clinic)

    with pytest.raises(NeedsAcknowledgement) as refused:
        write(clinic, items)

    (warning,) = refused.value.warnings
    assert warning.kind == "duplicate"
    assert warning.message == (
        "Items 1 and 2 (Paracetamol and Co-codamol) both contain paracetamol."
    )
    assert written(clinic) == before
    rx = write(
        clinic, items, acknowledgements={warning.key: "Paracetamol stops when codeine starts"}
    )
    assert rx.acknowledged == ((warning.message, "Paracetamol stops when codeine starts"),)


# ---- status ----


def test_status_active_then_cancelled_with_the_reason_once(clinic):
    doctor = clinic.doctor
    rx = write(clinic, [item()])
    assert (rx.status, rx.status_label) == ("active", "Active")

    with pytest.raises(ValidationError) as no_reason:
        doctor.prescriptions.cancel(doctor.actor, rx.id, "  ")
    assert no_reason.value.fields == {"reason": "say why the prescription is cancelled"}
    assert doctor.prescriptions.get(doctor.actor, rx.id).status == "active"

    cancelled = doctor.prescriptions.cancel(doctor.actor, rx.id, "Dose too high")
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Dose too high")
    assert cancelled.cancelled_by == "Dr Maya Hale"

    with pytest.raises(Conflict) as twice:
        doctor.prescriptions.cancel(doctor.actor, rx.id, "Again")
    assert twice.value.message == "This prescription is already cancelled."
    again = doctor.prescriptions.get(doctor.actor, rx.id)
    assert (again.status, again.cancel_reason) == ("cancelled", "Dose too high")
    chart = doctor.chart.open(doctor.actor, clinic.patient_id)
    assert {p.id: p.status_label for p in chart.prescriptions}[rx.id] == "Cancelled"


def test_status_becomes_expired_after_the_validity_date(clinic):
    doctor = clinic.doctor
    rx = write(clinic, [item()], valid_days=7)
    assert rx.valid_until == rx.issued_on + timedelta(days=7)

    def on(day: date) -> str:
        return (
            PrescriptionService(doctor.store, clock=lambda: local(day, "12:00"))
            .get(doctor.actor, rx.id)
            .status
        )

    assert on(rx.valid_until) == "active"
    assert on(rx.valid_until + timedelta(days=1)) == "expired"
    with pytest.raises(ValidationError) as too_long:
        write(clinic, [item()], valid_days=181)
    assert too_long.value.fields == {"valid_for": "must be 1 to 180 days"}


# ---- dose times ----


@pytest.fixture
def fresh(tmp_path) -> Iterator[Consultation]:
    """A clinic whose prescription clock the test moves forward as it likes."""
    with consultation_in_new_clinic(tmp_path / "clinic") as consultation:
        yield consultation


def at(c: Consultation, moment: datetime) -> PrescriptionService:
    return PrescriptionService(c.doctor.store, clock=lambda: moment)


def wall_times(moments: list[datetime]) -> list[str]:
    return [m.astimezone(LONDON).strftime("%a %H:%M") for m in moments]


def test_dose_times_follow_the_frequency_from_the_time_of_issue(fresh):
    c = fresh
    day = datetime.now(LONDON).date() + timedelta(days=3)
    morning = at(c, local(day, "07:00"))
    rx = morning.write(
        c.doctor.actor,
        c.visit.id,
        [item(), item("Salbutamol", frequency=Frequency(AS_NEEDED, 4), dose="2 puffs")],
    )

    times = morning.dose_times(c.doctor.actor, rx.id)

    assert {line for line, _ in times} == {1}  # as needed: no reminders
    moments = [m for _, m in times]
    assert len(moments) == 15
    assert {m.astimezone(LONDON).strftime("%H:%M") for m in moments} == {"08:00", "14:00", "20:00"}
    assert moments[0] == local(day, "08:00")
    assert moments[-1] == local(day + timedelta(days=4), "20:00")

    afternoon = at(c, local(day, "15:00"))
    later = afternoon.write(c.doctor.actor, c.visit.id, [item()])
    moments = [m for _, m in afternoon.dose_times(c.doctor.actor, later.id)]
    assert len(moments) == 13  # only the evening dose is left on the first day
    assert moments[0] == local(day, "20:00")

    # a cancellation removes the doses still to come
    evening = at(c, local(day + timedelta(days=1), "15:00"))
    evening.cancel(c.doctor.actor, later.id, "Switched to paracetamol")
    moments = [m for _, m in evening.dose_times(c.doctor.actor, later.id)]
    assert wall_times(moments) == wall_times(
        [local(day, "20:00"), local(day + timedelta(days=1), "08:00"),
         local(day + timedelta(days=1), "14:00")]
    )  # fmt: skip


def next_clock_change(after: date) -> date:
    """The first day after ``after`` whose end has a different UTC offset in London."""
    day = after
    while True:
        day += timedelta(days=1)
        if (
            local(day, "00:00").astimezone(LONDON).utcoffset()
            != local(day + timedelta(days=1), "00:00").astimezone(LONDON).utcoffset()
        ):
            return day + timedelta(days=1)


def test_fixed_times_keep_the_wall_time_across_a_change_of_the_clocks(fresh):
    c = fresh
    change = next_clock_change(datetime.now(LONDON).date() + timedelta(days=2))
    issued = local(change - timedelta(days=2), "07:00")
    service = at(c, issued)
    rx = service.write(
        c.doctor.actor,
        c.visit.id,
        [
            item(frequency=Frequency(FIXED_TIMES, times=("21:00", "09:00")), duration_days=5),
            item("Paracetamol", frequency=Frequency(EVERY_HOURS, 8), duration_days=2),
        ],
    )
    times = service.dose_times(c.doctor.actor, rx.id)

    fixed = [m for line, m in times if line == 1]
    assert len(fixed) == 10
    assert {m.astimezone(LONDON).strftime("%H:%M") for m in fixed} == {"09:00", "21:00"}
    assert len({m.hour for m in fixed}) == 4  # the same wall time is two UTC hours each
    # every 8 hours: real hours from 08:00 on the first day to the end of the second
    every = [m for line, m in times if line == 2]
    first_day = issued.astimezone(LONDON).date()
    assert every[0] == local(first_day, "08:00")
    assert all(b - a == timedelta(hours=8) for a, b in itertools.pairwise(every))
    span = local(first_day + timedelta(days=2), "00:00") - local(first_day, "08:00")
    assert len(every) == math.ceil(span / timedelta(hours=8))

"""Visits: the note saved with versions, signed and locked at the end of the visit (appointment
completed, queue entry done), corrected only by addenda, and follow-ups booked from it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from clinic_setup import DOCTOR_PASSWORD, new_clinic

from clinicdesk.errors import Conflict, ValidationError
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.queue import QueueService, StillInConsultation
from clinicdesk.services.visits import NoteLocked, VisitNote, VisitService, VisitView, note_hash
from clinicdesk.store.models import Visit
from tests.scheduling.practice import WEEKDAY_HOURS, Practice, add_doctor, make_practice

NOTE = VisitNote("Cough for a week", "Chest clear, no fever", "Viral bronchitis", "Fluids, rest")


@dataclass
class Surgery:
    """A practice on a Monday morning two weeks ahead: desks and doctors share that clock."""

    practice: Practice
    now: datetime
    reception: AppointmentService
    queue: QueueService
    doctor: ClinicSession
    visits: VisitService
    colleague: ClinicSession
    colleague_visits: VisitService

    @property
    def admin(self) -> ClinicSession:
        return self.practice.session

    def walk_in(self, given: str) -> VisitView:
        self.queue.add_walk_in(self.admin.actor, self.practice.patient(given))
        # the visits of earlier tests stay open: the doctor calls past them
        visit = self.visits.call_next(self.doctor.actor, leave_open=True)
        assert visit is not None
        return visit

    def booked(self, given: str, hhmm: str) -> tuple[str, VisitView]:
        appt = self.admin.appointments.book(
            self.admin.actor,
            self.practice.patient(given),
            self.practice.doctor_id,
            self.practice.consultation_id,
            self.practice.at(self.practice.monday, hhmm),
        )
        self.queue.check_in(self.admin.actor, appt.id)
        return appt.id, self.visits.start_for_appointment(self.doctor.actor, appt.id)

    def status(self, appointment_id: str) -> str:
        day = self.reception.day(self.admin.actor, self.practice.monday)
        return {a.id: a.status for a in day}[appointment_id]

    def queue_status(self, entry_id: str) -> str:
        return {e.id: e.status for e in self.queue.board(self.admin.actor)}[entry_id]


def services(session: ClinicSession, now: datetime) -> VisitService:
    return VisitService(session.store, AppointmentService(session.store, lambda: now), lambda: now)


@pytest.fixture(scope="module")
def surgery(tmp_path_factory) -> Iterator[Surgery]:
    admin = new_clinic(tmp_path_factory.mktemp("visits") / "clinic")
    practice = make_practice(admin)
    add_doctor(
        admin, "dr.ruiz", "Dr Leo Ruiz", practice.specialization_id,
        {practice.consultation_id}, WEEKDAY_HOURS,
    )  # fmt: skip
    now = practice.at(practice.monday, "08:50")
    doctor = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)
    colleague = sign_in(admin.folder, "dr.ruiz", DOCTOR_PASSWORD)
    yield Surgery(
        practice,
        now,
        AppointmentService(admin.store, lambda: now),
        QueueService(admin.store, lambda: now),
        doctor,
        services(doctor, now),
        colleague,
        services(colleague, now),
    )
    doctor.close()
    colleague.close()
    admin.close()


def history(surgery: Surgery, visit: VisitView):
    return surgery.doctor.chart.history(surgery.doctor.actor, visit.patient_id)


def test_the_note_is_saved_with_a_version_per_change(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    visit = surgery.walk_in("Anna")
    assert (visit.version, visit.status, visit.note) == (1, "open", VisitNote())

    first = visits.save_note(actor, visit.id, VisitNote(complaint="  Cough  "), 1)
    assert (first.version, first.note.complaint) == (2, "Cough")
    same = visits.save_note(actor, visit.id, VisitNote(complaint="Cough"), 2)
    assert same.version == 2
    second = visits.save_note(actor, visit.id, NOTE, 2)

    assert second.version == 3 and second.note == NOTE
    assert visits.get(actor, visit.id).note == NOTE
    latest = history(surgery, visit)[0]
    assert (latest.section, latest.by, latest.entry_version) == ("Visit note", "Dr Maya Hale", 3)
    assert latest.changes["complaint"] == ("Cough", "Cough for a week")
    assert latest.changes["plan"] == ("", "Fluids, rest")


def test_a_note_saved_from_two_desks_keeps_the_first(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    visit = surgery.walk_in("Bert")
    visits.save_note(actor, visit.id, NOTE, 1)

    with pytest.raises(Conflict) as stale:
        visits.save_note(actor, visit.id, VisitNote(complaint="Headache"), 1)

    assert stale.value.message == (
        "This note was saved from another desk meanwhile; reopen the visit to see it."
    )
    assert visits.get(actor, visit.id).note == NOTE


def test_finishing_signs_and_locks_the_note_and_completes_the_appointment(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    appointment_id, visit = surgery.booked("Cleo", "09:00")
    assert surgery.status(appointment_id) == "in_consultation"

    signed = visits.finish(actor, visit.id, NOTE)

    assert (signed.status, signed.locked, signed.signed_by) == ("signed", True, "Dr Maya Hale")
    assert signed.signed_at == surgery.now and signed.note == NOTE
    with surgery.doctor.store.read() as s:
        row = s.get(Visit, visit.id)
        assert re.fullmatch(r"[0-9a-f]{64}", row.note_hash)
        assert row.note_hash == note_hash(row)
    assert surgery.status(appointment_id) == "completed"
    assert surgery.queue_status(visit.queue_entry_id) == "done"
    summary = surgery.doctor.chart.open(actor, visit.patient_id).visits[0]
    assert (summary.status_label, summary.diagnosis) == ("Signed", "Viral bronchitis")


def test_finishing_a_walk_in_marks_the_queue_entry_done(surgery):
    visit = surgery.walk_in("Dora")
    assert surgery.queue_status(visit.queue_entry_id) == "called"

    surgery.visits.finish(surgery.doctor.actor, visit.id, NOTE)

    assert surgery.queue_status(visit.queue_entry_id) == "done"


def test_calling_the_next_patient_never_finishes_or_signs_the_open_visit(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    appointment_id, visit = surgery.booked("Gus", "10:40")
    visits.save_note(actor, visit.id, NOTE, 1)
    surgery.queue.add_walk_in(surgery.admin.actor, surgery.practice.patient("Hal"))

    with pytest.raises(StillInConsultation) as asked:
        visits.call_next(actor)
    assert "Gus Berg" in asked.value.message
    assert "Hal Berg" not in {q.patient_name for q in asked.value.with_doctor}
    following = visits.call_next(actor, leave_open=True)

    assert following.patient_name == "Hal Berg"
    kept = visits.get(actor, visit.id)
    assert (kept.status, kept.signed_at, kept.version, kept.note) == ("open", None, 2, NOTE)
    assert surgery.status(appointment_id) == "in_consultation"
    assert surgery.queue_status(visit.queue_entry_id) == "called"


def test_a_signed_note_cannot_be_edited(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    visit = surgery.walk_in("Emil")
    signed = visits.finish(actor, visit.id, NOTE)
    changes = len(history(surgery, visit))

    with pytest.raises(NoteLocked) as locked:
        visits.save_note(actor, visit.id, VisitNote(diagnosis="Pneumonia"), signed.version)

    assert locked.value.message == (
        f"This note was signed by Dr Maya Hale on {surgery.now:%d %b %Y at %H:%M} UTC and can no "
        "longer be changed. Add an addendum to correct or add to it."
    )
    with pytest.raises(NoteLocked):
        visits.finish(actor, visit.id, VisitNote(diagnosis="Pneumonia"))
    again = visits.get(actor, visit.id)
    assert (again.note, again.version, again.signed_at) == (NOTE, signed.version, surgery.now)
    assert len(history(surgery, visit)) == changes


def test_corrections_are_addenda(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    visit = surgery.walk_in("Finn")
    with pytest.raises(Conflict) as unsigned:
        visits.add_addendum(actor, visit.id, "Too early")
    assert unsigned.value.message == "The note is not signed yet: change the note itself."
    visits.finish(actor, visit.id, NOTE)

    with pytest.raises(ValidationError) as empty:
        visits.add_addendum(actor, visit.id, "   ")
    assert empty.value.fields == {"addendum": "is empty"}
    visits.add_addendum(actor, visit.id, "Chest X-ray requested after all.")
    surgery.colleague_visits.add_addendum(
        surgery.colleague.actor, visit.id, "X-ray normal; reviewed."
    )

    shown = visits.get(actor, visit.id)
    assert [(a.author, a.text) for a in shown.addenda] == [
        ("Dr Maya Hale", "Chest X-ray requested after all."),
        ("Dr Leo Ruiz", "X-ray normal; reviewed."),
    ]
    assert shown.note == NOTE


def test_an_empty_note_is_not_signed(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    visit = surgery.walk_in("Gina")

    with pytest.raises(ValidationError) as empty:
        visits.finish(actor, visit.id, VisitNote("  ", "", "", " "))

    assert empty.value.fields == {
        "complaint": "the note is empty; write at least the complaint or diagnosis"
    }
    shown = visits.get(actor, visit.id)
    assert (shown.status, shown.signed_at, shown.version) == ("open", None, 1)
    assert surgery.queue_status(visit.queue_entry_id) == "called"


def test_another_doctor_cannot_sign_the_visit(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    visit = surgery.walk_in("Hugo")
    visits.save_note(actor, visit.id, NOTE, 1)

    with pytest.raises(Conflict) as refused:
        surgery.colleague_visits.finish(
            surgery.colleague.actor, visit.id, VisitNote(diagnosis="Asthma")
        )

    assert "only the doctor who saw the patient" in refused.value.message
    shown = visits.get(actor, visit.id)
    assert (shown.status, shown.note, shown.version) == ("open", NOTE, 2)
    assert surgery.queue_status(visit.queue_entry_id) == "called"
    assert visits.finish(actor, visit.id).status == "signed"


def test_a_follow_up_is_booked_from_a_completed_appointment(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    appointment_id, visit = surgery.booked("Ines", "09:25")
    visits.finish(actor, visit.id, NOTE)

    follow_up = visits.book_follow_up(actor, visit.id, 14)

    first = surgery.practice.at(surgery.practice.monday + timedelta(days=14), "09:00")
    assert follow_up.starts_at >= first - timedelta(minutes=25)
    assert follow_up.starts_at < first + timedelta(days=1)
    assert (follow_up.patient_id, follow_up.doctor_id) == (
        visit.patient_id,
        surgery.practice.doctor_id,
    )
    assert follow_up.status == "confirmed"
    day = surgery.reception.day(surgery.admin.actor, follow_up.starts_at.date())
    assert follow_up.id in [a.id for a in day]
    assert surgery.status(appointment_id) == "completed"


def test_a_follow_up_is_booked_from_a_walk_in(surgery):
    visits, actor = surgery.visits, surgery.doctor.actor
    visit = surgery.walk_in("Jens")
    visits.finish(actor, visit.id, NOTE)
    with pytest.raises(ValidationError) as interval:
        visits.book_follow_up(actor, visit.id, 0)
    assert interval.value.fields == {"interval": "must be 1 to 365 days"}

    follow_up = visits.book_follow_up(actor, visit.id, 7)

    week_later = surgery.practice.monday + timedelta(days=7)
    assert follow_up.starts_at == surgery.practice.at(week_later, "09:00")
    assert follow_up.service_id == surgery.practice.consultation_id
    assert (follow_up.patient_id, follow_up.doctor_id) == (
        visit.patient_id,
        surgery.practice.doctor_id,
    )

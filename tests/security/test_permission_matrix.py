"""Every permission a service checks, for every role: refused in words and nothing changed, or
let past the check.

The list of calls is checked against the services themselves: a new public method must either
appear in CASES with the permission it needs, or in OPEN with the reason anyone signed in may
call it, so an unguarded method cannot slip in unnoticed.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from clinicdesk.errors import ClinicDeskError, PermissionDenied
from clinicdesk.permissions import P, Role
from clinicdesk.scheduling.policy import CancellationPolicy
from clinicdesk.services.access import ClinicSession, sign_in
from clinicdesk.services.backups import BackupSchedule
from clinicdesk.services.chart import ChartEntry
from clinicdesk.services.clinic import clinic_zone
from clinicdesk.services.doctor_profiles import DoctorDetails
from clinicdesk.services.formulary import DrugInput
from clinicdesk.services.inventory import BatchInput
from clinicdesk.services.patients import PatientInput
from clinicdesk.services.pharmacy_views import SCANNER, DispenseInput, HistoryFilter
from clinicdesk.services.prescription_views import PrescriptionView
from clinicdesk.services.schedule_setup import ScheduleChanges
from clinicdesk.services.signing import TrustFile
from clinicdesk.services.sync import ServerCertificate
from clinicdesk.services.visits import VisitNote
from clinicdesk.store.models import Base
from tests.clinic_time import clinic_today
from tests.clinical.clinic_setup import register, three_items
from tests.conftest import DETAILS, STAFF_PASSWORD
from tests.pharmacy.pharmacy_setup import counter_template, drug_id, open_counter
from tests.scheduling.practice import WEEKDAY_HOURS

NEW_ACCOUNT = "new account"  # signed in with a temporary password not yet changed: no roles

# Public methods any signed-in user may call, and why.
OPEN = {
    "clinic.details": "the letterhead and status bar show the clinic's name",
    "schedule.doctors": "every desk lists the doctors (names and rooms, no patient data)",
    "schedule.services": "every desk lists the services offered",
    "schedule.specializations": "every desk lists the specializations",
    "queue.called": "the waiting-room screen shows tokens and rooms, never a name",
    "visits.my_doctor_id": "a user's own doctor profile",
    "session.unlock": "one's own password, after an idle lock",
    "session.change_password": "one's own password",
    "session.close": "signing out",
    "session.start_jobs": "background jobs run as the system actor, whoever opened the clinic",
    "session.job_failures": "which background job failed and when, in words; no patient data",
    "session.on_job_failure": "the same failures as they happen",
    "session.watch_other_desks": "tells this desk's screens which rows changed; shows no data",
    "session.start_sync": "sync runs for the desk, whoever opened the clinic; shows no data",
    "session.payload_cipher": "seals sync payloads with the key this signed-in desk already holds",
    "sync.status": "the status bar says where sync stands, in words; no patient data",
    "session.on_sync_status": "the same, as it changes",
    "audit.anchor": "gives this workstation's witness the audit log's head; shows nothing",
    "session.save_export": "saving what a guarded call already returned (private file, never in "
    "the data folder)",
}


@dataclass
class World:
    """One clinic with something of everything the calls act on, and a session per role."""

    root: Path
    sessions: dict[str, ClinicSession]
    monday: date
    patient_id: str
    other_patient_id: str
    visit_id: str
    visit_version: int
    rx: PrescriptionView
    doctor_id: str
    service_id: str
    specialization_id: str
    appointment_id: str
    queue_entry_id: str
    waitlist_id: str
    hold_id: str
    allergy: ChartEntry
    condition_id: str
    document_id: str
    dispense_id: str
    drug_id: str
    drug_version: int
    batch_id: str
    kid: str
    trust_file: Path
    target_user_id: str
    pdf: bytes  # a real PDF, to attach to the chart

    @property
    def admin(self) -> ClinicSession:
        return self.sessions[Role.SUPER_ADMIN]

    def at(self, hhmm: str, day: date | None = None) -> datetime:
        """A wall-clock time at the clinic on ``day`` (the world's Monday), as a UTC moment."""
        with self.admin.store.read() as s:
            zone = clinic_zone(s)
        local = datetime.combine(day or self.monday, time.fromisoformat(hhmm), zone)
        return local.astimezone(UTC)

    def out(self, name: str, session: ClinicSession) -> Path:
        """A file a call may write, one per user so allowed calls do not meet each other's."""
        return self.root / "written" / f"{session.actor.username}-{name}"


def add_user(admin: ClinicSession, role: Role | None) -> ClinicSession:
    name = f"as-{role.value}" if role else "newcomer"
    admin.users.create(
        admin.actor,
        name,
        name.title(),
        {role or Role.RECEPTIONIST},
        STAFF_PASSWORD,
        must_change_password=role is None,
    )
    return sign_in(admin.folder, name, STAFF_PASSWORD)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    template = counter_template(tmp_path_factory.getbasetemp())
    root = tmp_path_factory.mktemp("matrix")
    (root / "written").mkdir()
    with open_counter(template, root / "clinic") as counter:
        admin, doctor, pharmacist = counter.admin, counter.doctor, counter.pharmacist
        a = admin.actor
        sessions = {
            Role.SUPER_ADMIN: admin,
            Role.DOCTOR: doctor,
            Role.PHARMACIST: pharmacist,
            **{
                role: add_user(admin, role)
                for role in (Role.ADMIN, Role.APPOINTMENT_MANAGER, Role.BILLING, Role.RECEPTIONIST)
            },
            NEW_ACCOUNT: add_user(admin, None),
        }
        assert set(sessions) == {*Role, NEW_ACCOUNT}
        assert not sessions[NEW_ACCOUNT].actor.permissions
        (gp_doctor,) = admin.schedule.doctors(a)
        (service,) = admin.schedule.services(a)
        admin.schedule.set_hours(a, gp_doctor.id, WEEKDAY_HOURS)
        today = clinic_today(admin)
        monday = today + timedelta(days=14 - today.weekday())
        patient_id = counter.consultation.patient_id
        other = register(admin, "Lena", "Novak")
        chart = admin.chart.open(a, patient_id)
        pdf = doctor.prescriptions.pdf(doctor.actor, counter.rx.id)
        world = World(
            root=root,
            sessions=sessions,
            monday=monday,
            patient_id=patient_id,
            other_patient_id=other,
            visit_id=counter.consultation.visit.id,
            visit_version=counter.consultation.visit.version,
            rx=counter.rx,
            doctor_id=gp_doctor.id,
            service_id=service.id,
            specialization_id=gp_doctor.specialization_id,
            appointment_id="",
            queue_entry_id=admin.queue.add_walk_in(a, other).id,
            waitlist_id=admin.appointments.add_to_waitlist(
                a, other, service.id, monday, monday + timedelta(days=4)
            ),
            hold_id="",
            allergy=chart.allergies[0],
            condition_id=admin.chart.add(a, patient_id, "conditions", {"name": "Asthma"}).id,
            document_id=admin.chart.attach(
                a, patient_id, "letter", "Referral", "referral.pdf", pdf
            ).id,
            dispense_id=pharmacist.pharmacy.dispense(
                pharmacist.actor,
                counter.rx.code,
                [DispenseInput(1, counter.batches["ibuprofen_late"].id, 5)],
            ).id,
            drug_id=drug_id(admin, "Naproxen"),
            drug_version=1,
            batch_id=counter.batches["ibuprofen_late"].id,
            kid=admin.signing_keys.list(a)[0].kid,
            trust_file=root / "trust.json",
            target_user_id=admin.users.create(
                a, "target", "Tara Target", {Role.RECEPTIONIST}, STAFF_PASSWORD
            ).id,
            pdf=pdf,
        )
        world.appointment_id = admin.appointments.book(
            a, patient_id, gp_doctor.id, service.id, world.at("09:00")
        ).id
        world.hold_id = admin.appointments.hold(a, gp_doctor.id, service.id, world.at("11:00")).id
        admin.signing_keys.export_trust_file(a, world.trust_file)
        yield world
        for role in (Role.ADMIN, Role.APPOINTMENT_MANAGER, Role.BILLING, Role.RECEPTIONIST):
            sessions[role].close()
        sessions[NEW_ACCOUNT].close()


Call = Callable[[ClinicSession, World], Any]


@dataclass(frozen=True)
class Case:
    method: str  # "service.method", as the session holds the service
    needs: tuple[P, ...]
    call: Call
    any_of: bool = False  # one of ``needs`` is enough (require_any); else all are needed
    variant: str = ""

    @property
    def id(self) -> str:
        return f"{self.method}:{self.variant}" if self.variant else self.method

    def allows(self, session: ClinicSession) -> bool:
        have = session.actor.permissions
        return any(p in have for p in self.needs) if self.any_of else set(self.needs) <= have


def case(method: str, *needs: P, any_of: bool = False, variant: str = ""):
    def wrap(call: Call) -> Case:
        return Case(method, needs, call, any_of, variant)

    return wrap


def person(given: str) -> PatientInput:
    return PatientInput(given, "Matrix", date(1990, 3, 4), "female", phone="+44 7700 900456")


def one_item():
    return three_items()[:1]


R, W, CR, CW = P.PATIENT_READ, P.PATIENT_WRITE, P.CLINICAL_READ, P.CLINICAL_WRITE
MANAGE, OVERRIDE, SETUP = P.APPOINTMENTS_MANAGE, P.APPOINTMENTS_OVERRIDE, P.SCHEDULE_CONFIGURE
RX, DISPENSE, STOCK, CONFIG = P.PRESCRIBE, P.DISPENSE, P.INVENTORY_MANAGE, P.CLINIC_CONFIGURE

CASES: list[Case] = [
    # the clinic, staff, the audit log, backups
    case("clinic.update", CONFIG)(lambda s, w: s.clinic.update(s.actor, DETAILS)),
    case("users.list", P.USERS_MANAGE)(lambda s, w: s.users.list(s.actor)),
    case("users.create", P.USERS_MANAGE)(
        lambda s, w: s.users.create(s.actor, "clerk", "Clerk", {Role.BILLING}, STAFF_PASSWORD)
    ),
    case("users.deactivate", P.USERS_MANAGE)(
        lambda s, w: s.users.deactivate(s.actor, w.target_user_id)
    ),
    case("users.reinstate", P.USERS_MANAGE)(
        lambda s, w: s.users.reinstate(s.actor, w.target_user_id, STAFF_PASSWORD)
    ),
    case("users.reset_password", P.USERS_MANAGE)(
        lambda s, w: s.users.reset_password(s.actor, w.target_user_id, STAFF_PASSWORD)
    ),
    case("users.set_roles", P.USERS_MANAGE)(
        lambda s, w: s.users.set_roles(s.actor, w.target_user_id, {Role.BILLING})
    ),
    case("users.key_change_preview", P.USERS_MANAGE)(
        lambda s, w: s.users.key_change_preview(s.actor)
    ),
    case("users.change_clinic_key", P.USERS_MANAGE)(
        lambda s, w: s.users.change_clinic_key(s.actor)
    ),
    case("audit.recent", P.AUDIT_READ)(lambda s, w: s.audit.recent(s.actor)),
    case("audit.page", P.AUDIT_READ)(lambda s, w: s.audit.page(s.actor)),
    case("audit.newest_seq", P.AUDIT_READ)(lambda s, w: s.audit.newest_seq(s.actor)),
    case("audit.people", P.AUDIT_READ)(lambda s, w: s.audit.people(s.actor)),
    case("audit.verify", P.AUDIT_READ)(lambda s, w: s.audit.verify(s.actor)),
    case("audit.digest", P.AUDIT_READ)(lambda s, w: s.audit.digest(s.actor)),
    case("audit.check_digest", P.AUDIT_READ)(
        lambda s, w: s.audit.check_digest(s.actor, "Entry 1 of 1 Dec 2026: AAAA-AAAA-AAAA-AAAA")
    ),
    case("session.backup", P.BACKUP)(lambda s, w: s.backup(w.out("backup.cdbak", s))),
    case("backups.history", P.BACKUP)(lambda s, w: s.backups.history(s.actor)),
    case("backups.schedule", P.BACKUP)(lambda s, w: s.backups.schedule(s.actor)),
    case("backups.set_schedule", P.BACKUP)(
        lambda s, w: s.backups.set_schedule(
            s.actor, BackupSchedule(True, 600, str(w.out("scheduled", s)), 7)
        )
    ),
    case("session.reencrypt_backup", P.BACKUP)(
        lambda s, w: s.reencrypt_backup(w.out("backup.cdbak", s))
    ),
    # patients
    case("patients.count", R)(lambda s, w: s.patients.count(s.actor)),
    case("patients.search", R)(lambda s, w: s.patients.search(s.actor, "Novak")),
    case("patients.get", R)(lambda s, w: s.patients.get(s.actor, w.patient_id)),
    case("patients.history", R)(lambda s, w: s.patients.history(s.actor, w.patient_id)),
    case("patients.find_duplicates", R)(
        lambda s, w: s.patients.find_duplicates(s.actor, person("Lena"))
    ),
    case("patients.register", W)(
        lambda s, w: s.patients.register(s.actor, person("Rhea"), not_a_duplicate=True)
    ),
    case("patients.import_many", W)(lambda s, w: s.patients.import_many(s.actor, [person("Ivo")])),
    case("patients.update", W)(
        lambda s, w: s.patients.update(
            s.actor, w.other_patient_id, person("Lena"), expected_version=1
        )
    ),
    # the schedule's set-up
    case("schedule.add_specialization", SETUP)(
        lambda s, w: s.schedule.add_specialization(s.actor, "Dermatology")
    ),
    case("schedule.add_service", SETUP)(
        lambda s, w: s.schedule.add_service(s.actor, "Dressing", 10, 0, 1500)
    ),
    case("schedule.make_doctor", SETUP)(
        lambda s, w: s.schedule.make_doctor(
            s.actor, w.target_user_id, w.specialization_id, "GMC 7000001", {w.service_id}
        )
    ),
    case("schedule.make_profile", SETUP)(
        lambda s, w: s.schedule.make_profile(
            s.actor,
            w.target_user_id,
            DoctorDetails("GMC 7000002", frozenset({w.service_id}), w.specialization_id),
        )
    ),
    case("schedule.save", SETUP)(
        lambda s, w: s.schedule.save(s.actor, ScheduleChanges(booking_rules=(True, 30)))
    ),
    case("schedule.set_hours", SETUP)(
        lambda s, w: s.schedule.set_hours(s.actor, w.doctor_id, WEEKDAY_HOURS)
    ),
    case("schedule.add_holiday", SETUP)(
        lambda s, w: s.schedule.add_holiday(s.actor, w.monday + timedelta(days=21), "Closed")
    ),
    case("schedule.add_leave", SETUP)(
        lambda s, w: s.schedule.add_leave(
            s.actor, w.doctor_id, w.monday + timedelta(days=28), w.monday + timedelta(days=29)
        )
    ),
    case("schedule.add_absence", MANAGE)(
        lambda s, w: s.schedule.add_absence(s.actor, w.doctor_id, w.at("15:00"), w.at("15:30"))
    ),
    case("schedule.set_booking_rules", SETUP)(
        lambda s, w: s.schedule.set_booking_rules(s.actor, False, 15)
    ),
    case("schedule.set_cancellation_policy", SETUP)(
        lambda s, w: s.schedule.set_cancellation_policy(s.actor, CancellationPolicy())
    ),
    case("schedule.booking_rules", R)(lambda s, w: s.schedule.booking_rules(s.actor)),
    case("schedule.cancellation_policy", R)(lambda s, w: s.schedule.cancellation_policy(s.actor)),
    case("schedule.hours", R)(lambda s, w: s.schedule.hours(s.actor, w.doctor_id)),
    # appointments
    case("appointments.day", R)(lambda s, w: s.appointments.day(s.actor, w.monday)),
    case("appointments.free_slots", R)(
        lambda s, w: s.appointments.free_slots(s.actor, w.doctor_id, w.service_id, w.monday)
    ),
    case("appointments.free_slots_for", R)(
        lambda s, w: s.appointments.free_slots_for(s.actor, [w.doctor_id], w.service_id, w.monday)
    ),
    case("appointments.next_free", R)(
        lambda s, w: s.appointments.next_free(s.actor, w.service_id, doctor_id=w.doctor_id)
    ),
    case("appointments.history", R)(lambda s, w: s.appointments.history(s.actor, w.appointment_id)),
    case("appointments.needing_attention", R)(
        lambda s, w: s.appointments.needing_attention(s.actor)
    ),
    case("appointments.waitlist_matches", R)(
        lambda s, w: s.appointments.waitlist_matches(
            s.actor, w.doctor_id, w.service_id, w.at("10:00")
        )
    ),
    case("appointments.book", MANAGE)(
        lambda s, w: s.appointments.book(
            s.actor, w.other_patient_id, w.doctor_id, w.service_id, w.at("10:00")
        )
    ),
    case("appointments.book", MANAGE, OVERRIDE, variant="overlapping-with-a-reason")(
        lambda s, w: s.appointments.book(
            s.actor,
            w.patient_id,
            w.doctor_id,
            w.service_id,
            w.at("09:00", w.monday + timedelta(days=1)),
            overlap_reason="seen twice today on purpose",
        )
    ),
    case("appointments.book_from_waitlist", MANAGE)(
        lambda s, w: s.appointments.book_from_waitlist(
            s.actor, w.waitlist_id, w.doctor_id, w.at("14:00")
        )
    ),
    case("appointments.book_follow_up", MANAGE)(
        lambda s, w: s.appointments.book_follow_up(s.actor, w.appointment_id, 7)
    ),
    case("appointments.add_to_waitlist", MANAGE)(
        lambda s, w: s.appointments.add_to_waitlist(
            s.actor, w.other_patient_id, w.service_id, w.monday, w.monday + timedelta(days=2)
        )
    ),
    case("appointments.hold", MANAGE)(
        lambda s, w: s.appointments.hold(s.actor, w.doctor_id, w.service_id, w.at("16:00"))
    ),
    case("appointments.release", MANAGE)(lambda s, w: s.appointments.release(s.actor, w.hold_id)),
    case("appointments.reschedule", MANAGE)(
        lambda s, w: s.appointments.reschedule(s.actor, w.appointment_id, w.at("10:30"))
    ),
    case("appointments.set_status", MANAGE)(
        lambda s, w: s.appointments.set_status(s.actor, w.appointment_id, "checked_in")
    ),
    case("appointments.patient_bookings", R)(
        lambda s, w: s.appointments.patient_bookings(s.actor, w.patient_id, w.monday, w.monday)
    ),
    case("appointments.closures", R)(
        lambda s, w: s.appointments.closures(s.actor, [w.doctor_id], w.monday, w.monday)
    ),
    case("appointments.moves", R)(lambda s, w: s.appointments.moves(s.actor, w.appointment_id)),
    case("appointments.mark_told", MANAGE)(
        lambda s, w: s.appointments.mark_told(s.actor, w.appointment_id)
    ),
    case("appointments.cancel", MANAGE)(
        lambda s, w: s.appointments.cancel(s.actor, w.appointment_id, "the patient is away")
    ),
    case("appointments.flag_no_shows", MANAGE)(lambda s, w: s.appointments.flag_no_shows(s.actor)),
    # the queue and reports
    case("queue.board", R)(lambda s, w: s.queue.board(s.actor)),
    case("queue.add_walk_in", MANAGE)(
        lambda s, w: s.queue.add_walk_in(s.actor, w.other_patient_id)
    ),
    case("queue.check_in", MANAGE)(lambda s, w: s.queue.check_in(s.actor, w.appointment_id)),
    case("queue.call_next", MANAGE)(lambda s, w: s.queue.call_next(s.actor, w.doctor_id)),
    case("queue.finish", MANAGE)(lambda s, w: s.queue.finish(s.actor, w.queue_entry_id)),
    case("queue.left", MANAGE)(lambda s, w: s.queue.left(s.actor, w.queue_entry_id)),
    case("reports.search", R)(lambda s, w: s.reports.search(s.actor, w.monday, w.monday)),
    case("reports.attendance", R)(lambda s, w: s.reports.attendance(s.actor, w.monday, w.monday)),
    case("reports.ics_for_appointment", R)(
        lambda s, w: s.reports.ics_for_appointment(s.actor, w.appointment_id)
    ),
    case("reports.ics_for_doctor", R)(
        lambda s, w: s.reports.ics_for_doctor(s.actor, w.doctor_id, w.monday, w.monday)
    ),
    # the chart
    case("chart.open", CR)(lambda s, w: s.chart.open(s.actor, w.patient_id)),
    case("chart.history", CR)(lambda s, w: s.chart.history(s.actor, w.patient_id)),
    case("chart.allergies", CR)(lambda s, w: s.chart.allergies(s.actor, w.patient_id)),
    case("chart.revision", CR)(lambda s, w: s.chart.revision(s.actor, w.patient_id)),
    case("chart.document_content", CR)(
        lambda s, w: s.chart.document_content(s.actor, w.document_id)
    ),
    case("chart.add", CW)(
        lambda s, w: s.chart.add(
            s.actor, w.patient_id, "allergies", {"substance": "Latex", "severity": "mild"}
        )
    ),
    case("chart.update", CW)(
        lambda s, w: s.chart.update(
            s.actor, "allergies", w.allergy.id, w.allergy.version, w.allergy.values
        )
    ),
    case("chart.set_lifestyle", CW)(
        lambda s, w: s.chart.set_lifestyle(s.actor, w.patient_id, {"smoking": "never"})
    ),
    case("chart.remove", CW)(
        lambda s, w: s.chart.remove(s.actor, "conditions", w.condition_id, "entered in error")
    ),
    case("chart.attach", CW)(
        lambda s, w: s.chart.attach(
            s.actor,
            w.patient_id,
            "other",
            "Note",
            "note.pdf",
            w.pdf,
        )
    ),
    case("chart.remove_document", CW)(
        lambda s, w: s.chart.remove_document(s.actor, w.document_id, "the wrong patient's")
    ),
    # visits
    case("visits.get", CR)(lambda s, w: s.visits.get(s.actor, w.visit_id)),
    case("visits.doctor_day", CR)(lambda s, w: s.visits.doctor_day(s.actor)),
    case("visits.call_next", CW)(lambda s, w: s.visits.call_next(s.actor)),
    case("visits.start_for_appointment", CW)(
        lambda s, w: s.visits.start_for_appointment(s.actor, w.appointment_id)
    ),
    case("visits.start_for_queue_entry", CW)(
        lambda s, w: s.visits.start_for_queue_entry(s.actor, w.queue_entry_id)
    ),
    case("visits.save_note", CW)(
        lambda s, w: s.visits.save_note(
            s.actor, w.visit_id, VisitNote(complaint="Cough"), w.visit_version
        )
    ),
    case("visits.finish", CW)(lambda s, w: s.visits.finish(s.actor, w.visit_id)),
    case("visits.add_addendum", CW)(
        lambda s, w: s.visits.add_addendum(s.actor, w.visit_id, "Seen again by phone.")
    ),
    case("visits.book_follow_up", R, MANAGE)(
        lambda s, w: s.visits.book_follow_up(s.actor, w.visit_id, 7)
    ),
    # the formulary and signing keys
    case("formulary.all", CONFIG, RX, DISPENSE, any_of=True)(lambda s, w: s.formulary.all(s.actor)),
    case("formulary.search", CONFIG, RX, DISPENSE, any_of=True)(
        lambda s, w: s.formulary.search(s.actor, "para")
    ),
    case("formulary.add", CONFIG)(
        lambda s, w: s.formulary.add(s.actor, DrugInput("Zinc", "zinc sulfate"))
    ),
    case("formulary.update", CONFIG)(
        lambda s, w: s.formulary.update(
            s.actor, w.drug_id, w.drug_version, DrugInput("Naproxen", "naproxen")
        )
    ),
    case("formulary.set_active", CONFIG)(
        lambda s, w: s.formulary.set_active(s.actor, w.drug_id, True)
    ),
    case("signing_keys.list", CONFIG, DISPENSE, any_of=True)(
        lambda s, w: s.signing_keys.list(s.actor)
    ),
    case("signing_keys.read_trust_file", CONFIG)(
        lambda s, w: s.signing_keys.read_trust_file(s.actor, w.trust_file)
    ),
    case("signing_keys.import_trust_file", CONFIG)(  # this clinic's own file: refused if allowed
        lambda s, w: s.signing_keys.import_trust_file(
            s.actor, TrustFile("trust.json", "Elm Clinic", s.store.clinic_id(), ())
        )
    ),
    case("signing_keys.export_trust_file", CONFIG)(
        lambda s, w: s.signing_keys.export_trust_file(s.actor, w.out("trust.json", s))
    ),
    case("signing_keys.rotate", CONFIG)(lambda s, w: s.signing_keys.rotate(s.actor)),
    # sync: nothing answers on the discard port, and the clinic is not connected
    case("sync.fetch_certificate", CONFIG)(
        lambda s, w: s.sync.fetch_certificate(s.actor, "127.0.0.1:9")
    ),
    case("sync.connect", CONFIG)(
        lambda s, w: s.sync.connect(
            s.actor,
            ServerCertificate("https://127.0.0.1:9", b"", "AB:CD"),
            "operator-token",
            "Front desk",
        )
    ),
    case("sync.make_join_code", CONFIG)(lambda s, w: s.sync.make_join_code(s.actor, "Lab")),
    case("sync.devices", CONFIG)(lambda s, w: s.sync.devices(s.actor)),
    case("sync.revoke", CONFIG)(lambda s, w: s.sync.revoke(s.actor, "no-such-id", "stolen")),
    case("signing_keys.revoke", CONFIG)(
        lambda s, w: s.signing_keys.revoke(s.actor, w.kid, "the old computer was stolen")
    ),
    # prescriptions
    case("prescriptions.check", RX)(
        lambda s, w: s.prescriptions.check(s.actor, w.patient_id, one_item())
    ),
    case("prescriptions.write", RX)(
        lambda s, w: s.prescriptions.write(s.actor, w.visit_id, one_item())
    ),
    case("prescriptions.cancel", RX)(
        lambda s, w: s.prescriptions.cancel(s.actor, w.rx.id, "written for the wrong patient")
    ),
    case("prescriptions.for_visit", CR)(
        lambda s, w: s.prescriptions.for_visit(s.actor, w.visit_id)
    ),
    case("prescriptions.get", CR, DISPENSE, any_of=True)(
        lambda s, w: s.prescriptions.get(s.actor, w.rx.id)
    ),
    case("prescriptions.print_warnings", CR, DISPENSE, any_of=True)(
        lambda s, w: s.prescriptions.print_warnings(s.actor, w.rx.id)
    ),
    case("prescriptions.pdf", CR, DISPENSE, any_of=True)(
        lambda s, w: s.prescriptions.pdf(s.actor, w.rx.id)
    ),
    case("prescriptions.dose_times", CR, DISPENSE, any_of=True)(
        lambda s, w: s.prescriptions.dose_times(s.actor, w.rx.id)
    ),
    case("prescriptions.find_by_reference", CR, DISPENSE, any_of=True)(
        lambda s, w: s.prescriptions.find_by_reference(s.actor, w.rx.reference)
    ),
    case("prescriptions.verify_code", CR, DISPENSE, any_of=True)(
        lambda s, w: s.prescriptions.verify_code(s.actor, w.rx.code)
    ),
    # the pharmacy
    case("inventory.stock", STOCK, DISPENSE, any_of=True)(lambda s, w: s.inventory.stock(s.actor)),
    case("inventory.stock_csv", STOCK, DISPENSE, any_of=True)(
        lambda s, w: s.inventory.stock_csv(s.actor)
    ),
    case("inventory.alerts", STOCK, DISPENSE, any_of=True)(
        lambda s, w: s.inventory.alerts(s.actor)
    ),
    case("inventory.batches", STOCK, DISPENSE, any_of=True)(
        lambda s, w: s.inventory.batches(s.actor)
    ),
    case("inventory.movements", STOCK, DISPENSE, any_of=True)(
        lambda s, w: s.inventory.movements(s.actor, w.batch_id)
    ),
    case("inventory.receive", STOCK)(
        lambda s, w: s.inventory.receive(
            s.actor, BatchInput(w.drug_id, "NAP-1", w.monday + timedelta(days=300), 10, 5, 10)
        )
    ),
    case("inventory.adjust", STOCK)(
        lambda s, w: s.inventory.adjust(s.actor, w.batch_id, -1, "dropped and damaged")
    ),
    case("inventory.set_reorder_level", STOCK)(
        lambda s, w: s.inventory.set_reorder_level(s.actor, w.drug_id, 5)
    ),
    case("pharmacy.scan", DISPENSE)(lambda s, w: s.pharmacy.scan(s.actor, w.rx.code, SCANNER)),
    case("pharmacy.verdict", DISPENSE)(lambda s, w: s.pharmacy.verdict(s.actor, w.rx.code)),
    case("pharmacy.look_up", DISPENSE)(lambda s, w: s.pharmacy.look_up(s.actor, w.rx.reference)),
    case("pharmacy.dispense", DISPENSE)(
        lambda s, w: s.pharmacy.dispense(s.actor, w.rx.code, [DispenseInput(1, w.batch_id, 1)])
    ),
    case("pharmacy.reject", DISPENSE)(
        lambda s, w: s.pharmacy.reject(s.actor, w.rx.code, "not for this patient")
    ),
    case("pharmacy.get_dispense", DISPENSE)(
        lambda s, w: s.pharmacy.get_dispense(s.actor, w.dispense_id)
    ),
    case("pharmacy.labels_pdf", DISPENSE)(
        lambda s, w: s.pharmacy.labels_pdf(s.actor, w.dispense_id)
    ),
    case("pharmacy.print_warnings", DISPENSE)(
        lambda s, w: s.pharmacy.print_warnings(s.actor, w.dispense_id)
    ),
    case("pharmacy.receipt_pdf", DISPENSE)(
        lambda s, w: s.pharmacy.receipt_pdf(s.actor, w.dispense_id)
    ),
    # every patient's dispensed medicines: not for the stock permission alone
    case("pharmacy.history", DISPENSE)(lambda s, w: s.pharmacy.history(s.actor, HistoryFilter())),
    case("pharmacy.history_csv", DISPENSE)(
        lambda s, w: s.pharmacy.history_csv(s.actor, HistoryFilter())
    ),
]


def public_methods(session: ClinicSession) -> set[str]:
    """``service.method`` for every public method of every service a session holds, and the
    session's own as ``session.method``."""
    found = {f"session.{name}" for name in _functions(ClinicSession)}
    for attr, service in vars(session).items():
        if type(service).__module__.startswith("clinicdesk.services.") and attr[0] != "_":
            found |= {f"{attr}.{name}" for name in _functions(type(service))}
    return found


def _functions(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if name[0] != "_"}


def state(world: World) -> tuple:
    """Everything stored: every table's rows, the key file and the files in the folders."""
    with world.admin.store.read() as s:
        rows = tuple(
            tuple(sorted(map(repr, s.execute(table.select()).all())))
            for table in Base.metadata.sorted_tables
        )
    files = tuple(sorted(str(p.relative_to(world.root)) for p in world.root.rglob("*")))
    return rows, (world.admin.folder / "keyslots.json").read_bytes(), files


def test_every_public_service_method_is_guarded_or_listed_as_open(world):
    methods = public_methods(world.admin)
    covered = {c.method for c in CASES}
    assert methods - covered - set(OPEN) == set(), "add these to CASES, or to OPEN with a reason"
    assert (covered | set(OPEN)) - methods == set(), "these are no longer service methods"
    assert covered.isdisjoint(OPEN)


def test_every_permission_is_checked_somewhere():
    """A permission no call needs is either dead or its check went missing."""
    unchecked = set(P) - {p for c in CASES for p in c.needs}
    assert unchecked == {P.BILLING_MANAGE}  # no billing service yet


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_roles_without_the_permission_are_refused_and_nothing_changes(world, case):
    refused = [who for who, s in world.sessions.items() if not case.allows(s)]
    assert refused, f"every role may call {case.id}: list it in OPEN instead"
    before = state(world)
    for who, asked_about in itertools.product(refused, (world, nowhere(world))):
        session = world.sessions[who]
        with pytest.raises(PermissionDenied) as caught:
            case.call(session, asked_about)
        assert caught.value.permission in {p.value for p in case.needs}, who
        assert caught.value.message.startswith(
            f"{session.actor.display_name} is not allowed to "
        ), who
        assert caught.value.message.endswith("Ask an administrator if this is part of your work.")
    assert state(world) == before


def nowhere(world: World) -> World:
    """The world with every id pointing at nothing: the permission is checked before anything
    is looked up, so a refused user learns nothing from "not found" or "no longer waiting"."""
    gone = {f.name: "no-such-id" for f in fields(World) if f.name.endswith("_id")}
    return replace(world, kid="no-such-key", **gone)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_roles_with_the_permission_get_past_the_check(world, case):
    """Whatever the call then says about the world (done, or refused for a reason of its
    own), it is not a refusal of permission."""
    allowed = [who for who, s in world.sessions.items() if case.allows(s)]
    assert Role.SUPER_ADMIN in allowed
    for who in allowed:
        try:
            case.call(world.sessions[who], world)
        except PermissionDenied as refused:
            pytest.fail(f"{who}: {refused.message}")
        except ClinicDeskError:
            pass

"""The demo clinic's clinical records, reproducible from the seed: what a doctor finds in charts.

For the patients seen in the demo's past ten days, those booked from today and a few hundred
others: allergies (most patients none), conditions (active and resolved), surgeries, family
history, lifestyle, vitals over two years with a plausible trend, and a few documents (lab
reports as PDF, scanned results and ECG strips as PNG). Chart rows are written in bulk in the
shape ``ChartService.add`` and ``attach`` write (each with its change-history row and outbox
row; the audit log gets one entry for the batch). The played-out past appointments get their
signed visits in bulk, as ``VisitService.finish`` leaves them, and their prescriptions through
``PrescriptionService.write`` with the clock set to the visit's time, so they are really
signed; a few are cancelled and rewritten, short-validity ones have expired. Today, the doctor
who called a patient in has that visit open through ``VisitService`` with a draft note.

The notes and what they prescribe are in encounters.py, the generated files in documents.py.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from clinicdesk.demo.documents import document
from clinicdesk.demo.encounters import (
    ACKNOWLEDGED,
    CANCEL_REASONS,
    Encounter,
    encounter_for,
    safe_items,
)
from clinicdesk.ids import new_id, utcnow
from clinicdesk.permissions import Actor
from clinicdesk.services import attachments
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.chart import ADDED, CHANGED
from clinicdesk.services.clinic import clinic_day
from clinicdesk.services.patients import age_on
from clinicdesk.services.prescriptions import PrescriptionService
from clinicdesk.services.queue import CALLED
from clinicdesk.services.users import parse_roles
from clinicdesk.services.visit_views import OPEN, SIGNED
from clinicdesk.services.visits import NOTE_FIELDS, VisitNote, VisitService, note_hash
from clinicdesk.store import audit, outbox
from clinicdesk.store.database import Store
from clinicdesk.store.models import (
    Allergy,
    Appointment,
    CareService,
    ChartChange,
    ChartDocument,
    Condition,
    DoctorProfile,
    FamilyHistory,
    Lifestyle,
    Patient,
    QueueEntry,
    Specialization,
    Surgery,
    User,
    Visit,
    VitalSigns,
)

OTHER_CHARTS = 200  # patients with a chart but no visit in the demo's ten days
MAX_DOCUMENTS = 120  # generated files, to keep `clinicdesk demo` quick

# ---------------------------------------------------------------- what charts hold

# substance -> [(reaction, severity, note)]
ALLERGIES: dict[str, list[tuple[str, str, str]]] = {
    "Penicillin": [
        ("Urticarial rash", "moderate", "Reaction to amoxicillin as a child."),
        ("Facial swelling and wheeze", "severe", "Treated in A&E in 2014."),
        ("Anaphylaxis", "life-threatening", "Carries an adrenaline auto-injector."),
    ],
    "NSAIDs": [
        ("Bronchospasm", "severe", "Asthma worsens within an hour of ibuprofen."),
        ("Angioedema", "severe", ""),
        ("Dyspepsia and gastric bleed", "moderate", "Upper GI bleed on naproxen in 2019."),
    ],
    "Latex": [
        ("Contact dermatitis", "mild", "Use nitrile gloves."),
        ("Itching and wheals", "moderate", ""),
    ],
    "Peanuts": [
        ("Anaphylaxis", "life-threatening", "Two adrenaline auto-injectors; school plan in place."),
        ("Lip swelling and vomiting", "severe", ""),
    ],
    "Codeine": [("Nausea and vomiting", "mild", ""), ("Severe constipation", "mild", "")],
    "Sulfonamides": [("Widespread maculopapular rash", "moderate", "After co-trimoxazole.")],
    "Trimethoprim": [("Rash", "mild", "")],
    "Shellfish": [("Hives and abdominal pain", "moderate", "")],
    "Wasp stings": [("Anaphylaxis", "life-threatening", "Referred for venom immunotherapy.")],
    "Elastoplast adhesive": [("Blistering under dressings", "mild", "")],
}
# (name, note, chance by age (years) and sex)
CHRONIC: list[tuple[str, str, Callable[[int, str], float]]] = [
    (
        "Essential hypertension",
        "Home BP monitoring.",
        lambda a, s: 0 if a < 30 else min(0.5, (a - 25) / 100),
    ),
    (
        "Type 2 diabetes mellitus",
        "Annual foot and eye screening.",
        lambda a, s: 0 if a < 30 else min(0.2, (a - 25) / 250),
    ),
    ("Asthma", "Uses a spacer.", lambda a, s: 0.09 if a >= 3 else 0),
    (
        "Hypothyroidism",
        "",
        lambda a, s: 0.06 if a >= 35 and s == "female" else 0.01 if a >= 35 else 0,
    ),
    ("Depression", "Sees the talking therapies service.", lambda a, s: 0.08 if 16 <= a < 80 else 0),
    ("Osteoarthritis of the knee", "", lambda a, s: 0.22 if a >= 55 else 0),
    ("Hypercholesterolaemia", "QRISK3 above 10%.", lambda a, s: 0.16 if a >= 45 else 0),
    ("Gastro-oesophageal reflux disease", "", lambda a, s: 0.06 if a >= 18 else 0),
    ("Atopic eczema", "Emollients; flares in winter.", lambda a, s: 0.12 if a < 16 else 0.03),
    ("Atrial fibrillation", "CHA2DS2-VASc 3; anticoagulated.", lambda a, s: 0.08 if a >= 70 else 0),
]
# (resolved condition, lowest age at onset, sex or "")
RESOLVED = (
    ("Community-acquired pneumonia", 2, ""),
    ("Frozen shoulder (left)", 40, ""),
    ("Iron-deficiency anaemia", 12, ""),
    ("Plantar fasciitis", 30, ""),
    ("Glandular fever", 14, ""),
    ("Otitis media", 1, ""),
    ("Cellulitis of the right leg", 18, ""),
    ("Postnatal depression", 20, "female"),
)
# (procedure, lowest age, chance, sex or "")
SURGERIES = (
    ("Appendicectomy", 8, 0.07, ""),
    ("Tonsillectomy", 5, 0.05, ""),
    ("Laparoscopic cholecystectomy", 30, 0.05, ""),
    ("Caesarean section", 25, 0.12, "female"),
    ("Inguinal hernia repair", 20, 0.06, "male"),
    ("Total knee replacement (right)", 60, 0.06, ""),
    ("Cataract extraction (left eye)", 65, 0.10, ""),
    ("Carpal tunnel release", 40, 0.03, ""),
)
FAMILY = (
    ("Mother", "Type 2 diabetes"),
    ("Father", "Myocardial infarction at 58"),
    ("Mother", "Breast cancer at 52"),
    ("Father", "Bowel cancer at 67"),
    ("Brother", "Asthma"),
    ("Sister", "Coeliac disease"),
    ("Father", "Hypertension"),
    ("Maternal grandmother", "Alzheimer's disease"),
    ("Paternal grandfather", "Stroke at 71"),
    ("Mother", "Hypothyroidism"),
)
SMOKING = (
    (50, "Never smoked"),
    (20, "Ex-smoker, stopped 2016 (15 pack-years)"),
    (12, "Smokes 10 cigarettes a day; advised to stop, declined referral"),
    (6, "Vapes daily; stopped smoking 2021"),
    (3, "Smokes 20 a day; referred to the stop-smoking service"),
)
ALCOHOL = (
    (30, "None"),
    (40, "About 6 units a week"),
    (18, "About 14 units a week, mostly at weekends"),
    (8, "About 25 units a week; advised to cut down"),
)
ACTIVITY = (
    "Walks 30 minutes most days",
    "Gym three times a week",
    "Sedentary office job; little exercise",
    "Runs 5 km twice a week",
    "Limited by knee pain; swims once a week",
    "Cycles to work",
)
DIET = (
    "Varied; eats out often",
    "Vegetarian",
    "Tries to follow a low-salt diet",
    "High in processed food; advised on changes",
    "Mediterranean-style",
    "Halal",
)


@dataclass
class Person:
    id: str
    name: str
    born: date
    sex: str
    national_id: str
    age: int = 0
    conditions: set[str] = field(default_factory=set)
    allergies: set[str] = field(default_factory=set)
    reviewed: set[str] = field(default_factory=set)  # conditions reviewed at a visit


def _weighted(rng: random.Random, options: Iterable[tuple[int, str]]) -> str:
    weights, values = zip(*options, strict=True)
    return rng.choices(values, weights)[0]


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


_YEARS_15 = timedelta(days=365 * 15)


class ChartBuilder:
    """Rows for ``outbox.bulk_insert``, each with the change row ``ChartService.add`` writes."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.rows: dict[type, list[dict[str, Any]]] = {}
        self.documents = 0

    def add(self, model: type, author: Actor, patient_id: str, section: str, **values: Any) -> None:
        row = {"id": new_id(), "patient_id": patient_id, **values}
        self.rows.setdefault(model, []).append(row)
        shown = {k: values[k] for k in ("title", "file_name")} if model is ChartDocument else values
        self.rows.setdefault(ChartChange, []).append(
            {
                "patient_id": patient_id,
                "section": section,
                "entry_id": row["id"],
                "entry_version": 1,
                "action": ADDED,
                "changes": json.dumps(
                    {
                        k: [None, v.isoformat() if isinstance(v, date) else v]
                        for k, v in shown.items()
                    }
                ),
                "actor_id": author.user_id,
                "actor_name": author.display_name,
            }
        )

    def write(self, store: Store, actor: Actor) -> int:
        """All rows in one transaction; the audit log gets one entry for the batch."""
        count = 0
        with store.write(actor) as s:
            for model, rows in self.rows.items():
                outbox.bulk_insert(s, model, rows)
                count += len(rows) if model is not ChartChange else 0
            audit.append(s, actor, "chart.import", "patients", None, count=count)
        self.rows = {}
        return count

    # ---- one patient's history ----

    def history(self, p: Person, author: Actor, visits: list[datetime]) -> None:
        rng = self.rng
        self._allergies(p, author)
        self._conditions(p, author)
        for procedure, lowest, chance, sex in SURGERIES:
            if p.age >= lowest and (not sex or sex == p.sex) and rng.random() < chance:
                when = _day_between(rng, p.born + timedelta(days=365 * lowest), self.today)
                self.add(
                    Surgery,
                    author,
                    p.id,
                    "surgeries",
                    procedure=procedure,
                    performed_on=when,
                    note="",
                )
        for relative, condition in rng.sample(FAMILY, rng.choice((0, 1, 1, 2, 2, 3))):
            self.add(
                FamilyHistory,
                author,
                p.id,
                "family_history",
                relative=relative,
                condition=condition,
                note="",
            )
        if p.age >= 16:
            self.add(
                Lifestyle,
                author,
                p.id,
                "lifestyle",
                smoking=_weighted(rng, SMOKING),
                alcohol=_weighted(rng, ALCOHOL),
                activity=rng.choice(ACTIVITY),
                diet=rng.choice(DIET),
            )
        self._vitals(p, author, visits)

    def _allergies(self, p: Person, author: Actor) -> None:
        roll = self.rng.random()
        count = 2 if roll < 0.03 else 1 if roll < 0.2 else 0
        for substance in self.rng.sample(sorted(ALLERGIES), count):
            reaction, severity, note = self.rng.choice(ALLERGIES[substance])
            p.allergies.add(substance)
            self.add(
                Allergy,
                author,
                p.id,
                "allergies",
                substance=substance,
                reaction=reaction,
                severity=severity,
                note=note,
            )

    def _conditions(self, p: Person, author: Actor) -> None:
        rng = self.rng
        # chronic conditions start in adult life, or half-way through a child's
        start = max(p.born + timedelta(days=365 * min(p.age // 2, 18)), self.today - _YEARS_15)
        for name, note, chance in CHRONIC:
            if rng.random() < chance(p.age, p.sex):
                p.conditions.add(name)
                onset = _day_between(rng, start, self.today - timedelta(days=90))
                self.add(
                    Condition,
                    author,
                    p.id,
                    "conditions",
                    name=name,
                    status="active",
                    onset=onset,
                    resolved_on=None,
                    note=note,
                )
        fitting = [(n, age) for n, age, sex in RESOLVED if p.age > age and sex in ("", p.sex)]
        if fitting and rng.random() < 0.25:
            name, age = rng.choice(fitting)
            first = p.born + timedelta(days=round(365.25 * age))
            onset = _day_between(rng, first, self.today - timedelta(days=60))
            resolved = min(onset + timedelta(days=rng.randint(10, 120)), self.today)
            self.add(
                Condition,
                author,
                p.id,
                "conditions",
                name=name,
                status="resolved",
                onset=onset,
                resolved_on=resolved,
                note="",
            )

    def _vitals(self, p: Person, author: Actor, visits: list[datetime]) -> None:
        """Readings over two years and one at each visit: blood pressure comes down once
        hypertension is treated, weight drifts, children grow."""
        rng = self.rng
        now = datetime.combine(self.today, datetime.min.time(), UTC)
        born = datetime.combine(p.born, datetime.min.time(), UTC) + timedelta(days=7)
        past = sorted(
            now - timedelta(days=rng.randint(20, 730)) + timedelta(hours=rng.randint(8, 16))
            for _ in range(rng.randint(3, 8))
        )
        past = [at for at in past if at > born]
        moments = past + sorted(visits)
        tall = rng.gauss(176 if p.sex == "male" else 163, 7)
        bmi = min(38.0, max(19.0, rng.gauss(27 if p.age >= 40 else 24, 3.5)))
        base_sys = 112 + 0.45 * max(0, p.age - 20) + rng.gauss(0, 6)
        treated = "Essential hypertension" in p.conditions
        drift = min(2.0, max(-2.0, rng.gauss(0, 1)))  # BMI points over the two years
        for n, at in enumerate(moments):
            age = max(0.05, (at.date() - p.born).days / 365.25)
            share = n / max(1, len(moments) - 1)  # 0 at the first reading, 1 at the last
            height, weight = _growth(age, tall, bmi + drift * share)
            row: dict[str, Any] = {
                "taken_at": at,
                "systolic": None,
                "diastolic": None,
                "pulse": int(rng.gauss(110 if age < 5 else 76, 8)),
                "temperature": None,
                "spo2": rng.choice((96, 97, 97, 98, 98, 99)),
                "weight": round(weight + rng.gauss(0, 0.4), 1),
                "height": round(height, 1) if age < 18 or n == 0 else None,
                "note": "",
            }
            if age >= 12:
                systolic = base_sys + (26 - 24 * share if treated else 0) + rng.gauss(0, 5)
                row["systolic"] = int(min(220, max(90, systolic)))
                row["diastolic"] = int(
                    min(row["systolic"] - 25, max(55, systolic * 0.62 + rng.gauss(0, 4)))
                )
            if at in visits:
                row["temperature"] = round(rng.gauss(36.8, 0.3), 1)
                row["note"] = "At the visit"
            self.add(VitalSigns, author, p.id, "vitals", **row)

    # ---- documents ----

    def documents_for(self, p: Person, author: Actor) -> None:
        rng = self.rng
        for _ in range(rng.choice((1, 1, 2, 3))):
            if self.documents >= MAX_DOCUMENTS:
                return
            dated = self.today - timedelta(days=rng.randint(3, 600))
            kind, title, file_name, content = document(rng, p, dated)
            self.documents += 1
            self.add(
                ChartDocument,
                author,
                p.id,
                "documents",
                kind=kind,
                title=title,
                file_name=file_name,
                media_type=attachments.check_file(file_name, content),
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                dated=dated,
                content=content,
            )


def _growth(age: float, adult_height: float, bmi: float) -> tuple[float, float]:
    """(height cm, weight kg): a rough growth curve up to the adult height."""
    if age < 1:
        height = 50 + 25 * age
    elif age < 2:
        height = 75 + 12 * (age - 1)
    else:
        height = min(adult_height, 87 + 6.3 * (age - 2))
    child_bmi = 16.5 if age < 10 else 16.5 + (bmi - 16.5) * min(1, (age - 10) / 8)
    return height, child_bmi * (height / 100) ** 2


# ---------------------------------------------------------------- visits and prescriptions


@dataclass(frozen=True)
class PastAppointment:
    id: str
    patient_id: str
    doctor_id: str
    starts_at: datetime
    minutes: int
    service: str


def _doctor_actors(session: ClinicSession) -> dict[str, Actor]:
    with session.store.read() as s:
        rows = s.execute(
            select(DoctorProfile.id, User).join(User, User.id == DoctorProfile.user_id)
        )
        return {
            doctor_id: Actor(u.id, u.username, u.display_name, parse_roles(u.roles))
            for doctor_id, u in rows
        }


def _paediatrician_and_gp(session: ClinicSession, doctors: dict[str, Actor]) -> tuple[Actor, Actor]:
    """Who recorded a child's chart and who an adult's."""
    with session.store.read() as s:
        paediatric = set(
            s.scalars(
                select(DoctorProfile.id)
                .join(Specialization, Specialization.id == DoctorProfile.specialization_id)
                .where(Specialization.name == "Paediatrics")
            )
        )
    gps = [a for d, a in sorted(doctors.items()) if d not in paediatric] or list(doctors.values())
    children = [a for d, a in sorted(doctors.items()) if d in paediatric] or gps
    return children[0], gps[0]


def add_clinical(
    session: ClinicSession, seed: int, patient_ids: list[str], now: datetime | None = None
) -> None:
    """Charts, signed visits and prescriptions for the demo clinic (after ``add_schedule``)."""
    rng = random.Random(seed * 31 + 7)
    now = now or utcnow()
    doctors = _doctor_actors(session)
    if not doctors or not patient_ids:
        return
    paediatrician, gp = _paediatrician_and_gp(session, doctors)
    with session.store.read() as s:
        today = clinic_day(s, now)
        past = [
            PastAppointment(
                a.id, a.patient_id, a.doctor_id, a.starts_at, svc.duration_minutes, svc.name
            )
            for a, svc in s.execute(
                select(Appointment, CareService)
                .join(CareService, CareService.id == Appointment.service_id)
                .where(Appointment.status == "completed", Appointment.starts_at < now)
                .order_by(Appointment.starts_at, Appointment.id)
            )
        ]
        booked = set(s.scalars(select(Appointment.patient_id)))
        booked |= set(s.scalars(select(QueueEntry.patient_id).where(QueueEntry.day == today)))
        others = sorted(set(patient_ids) - booked)
        chosen = sorted(booked) + rng.sample(others, min(OTHER_CHARTS, len(others)))
        people = {
            row.id: Person(
                row.id,
                f"{row.given_name} {row.family_name}",
                row.date_of_birth,
                row.sex,
                row.national_id,
                age_on(row.date_of_birth, today) or 0,
            )
            for row in s.scalars(select(Patient).where(Patient.id.in_(chosen)))
        }
    visits_of: dict[str, list[datetime]] = {}
    for appt in past:
        visits_of.setdefault(appt.patient_id, []).append(appt.starts_at + timedelta(minutes=3))
    builder = ChartBuilder(rng, today)
    for pid in chosen:
        p = people[pid]
        author = paediatrician if p.age < 16 else gp
        builder.history(p, author, visits_of.get(pid, []))
        if rng.random() < 0.3:
            builder.documents_for(p, author)
    builder.write(session.store, session.actor)
    _play_visits(session, rng, doctors, people, past)
    open_todays_visits(session, now)


def signed_visit(
    patient_id: str,
    doctor_id: str,
    doctor: Actor,
    started_at: datetime,
    signed_at: datetime,
    encounter: Encounter,
    appointment_id: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A visit row as ``VisitService.finish`` leaves it, and the note's change-history row."""
    note = {k: getattr(encounter, k) for k in NOTE_FIELDS}
    row = {
        "id": new_id(),
        "patient_id": patient_id,
        "doctor_id": doctor_id,
        "appointment_id": appointment_id,
        "queue_entry_id": None,
        "started_at": started_at,
        **note,
        "status": SIGNED,
        "signed_at": signed_at,
        "signed_by": doctor.user_id,
        "signed_by_name": doctor.display_name,
    }
    row["note_hash"] = note_hash(SimpleNamespace(**row))
    change = {
        "patient_id": patient_id,
        "section": "visit",
        "entry_id": row["id"],
        "entry_version": 1,
        "action": CHANGED,
        "changes": json.dumps({k: ["", v] for k, v in note.items()}),
        "actor_id": doctor.user_id,
        "actor_name": doctor.display_name,
    }
    return row, change


def _play_visits(
    session: ClinicSession,
    rng: random.Random,
    doctors: dict[str, Actor],
    people: dict[str, Person],
    past: list[PastAppointment],
) -> None:
    """Each completed appointment's visit, signed, and its prescriptions, written in time order.

    The visits are written in bulk as ``VisitService.finish`` leaves them (note, signature and
    note hash, the note's change-history row); one by one they would take a minute.
    """
    visits, changes, prescribed = [], [], []
    for appt in past:
        doctor, p = doctors[appt.doctor_id], people[appt.patient_id]
        encounter = encounter_for(rng, p, appt.service)
        row, change = signed_visit(
            p.id,
            appt.doctor_id,
            doctor,
            appt.starts_at + timedelta(minutes=2),
            appt.starts_at + timedelta(minutes=appt.minutes - 2),
            encounter,
            appt.id,
        )
        visits.append(row)
        changes.append(change)
        items = safe_items(encounter.items, p)
        if items:
            at = appt.starts_at + timedelta(minutes=appt.minutes - 4)
            prescribed.append((at, doctor, row["id"], p.id, items, encounter.valid_days))
    with session.store.write(session.actor) as s:
        outbox.bulk_insert(s, Visit, visits)
        outbox.bulk_insert(s, ChartChange, changes)
        audit.append(s, session.actor, "visit.import", "visits", None, count=len(visits))
    clock = [utcnow()]
    prescriptions = PrescriptionService(session.store, clock=lambda: clock[0])
    for at, doctor, visit_id, patient_id, items, days in sorted(prescribed, key=lambda x: x[0]):
        clock[0] = at
        reasons = {
            w.key: ACKNOWLEDGED[w.kind] for w in prescriptions.check(doctor, patient_id, items)
        }
        written = prescriptions.write(doctor, visit_id, items, reasons, valid_days=days)
        if rng.random() < 0.06:
            clock[0] += timedelta(minutes=1)
            prescriptions.cancel(doctor, written.id, rng.choice(CANCEL_REASONS))
            prescriptions.write(doctor, visit_id, items, reasons, valid_days=days)


TODAYS_COMPLAINT = VisitNote(
    "Cough for a week, now with green sputum and a temperature last night."
)


def open_todays_visits(session: ClinicSession, now: datetime) -> None:
    """The patient a doctor called in today is with them: the visit is open, the complaint
    already typed (a visit opened before is left as it is)."""
    doctors = _doctor_actors(session)
    with session.store.read() as s:
        called = s.execute(
            select(QueueEntry.id, QueueEntry.called_doctor_id).where(
                QueueEntry.day == clinic_day(s, now),
                QueueEntry.status == CALLED,
                QueueEntry.called_doctor_id.is_not(None),
            )
        ).all()
    visits = VisitService(session.store, session.appointments, clock=lambda: now)
    for entry_id, doctor_id in called:
        doctor = doctors[doctor_id]
        visit = visits.start_for_queue_entry(doctor, entry_id)
        if visit.status == OPEN and not visit.note.complaint:
            visits.save_note(doctor, visit.id, TODAYS_COMPLAINT, visit.version)

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
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from clinicdesk.ids import new_id, utcnow
from clinicdesk.paths import RESOURCES
from clinicdesk.permissions import Actor
from clinicdesk.rx.payload import AS_NEEDED, FIXED_TIMES, PER_DAY, Frequency
from clinicdesk.services import attachments
from clinicdesk.services.access import ClinicSession
from clinicdesk.services.booking import clinic_zone
from clinicdesk.services.chart import ADDED, CHANGED
from clinicdesk.services.patients import age_on
from clinicdesk.services.prescription_checks import ItemInput
from clinicdesk.services.prescriptions import PrescriptionService
from clinicdesk.services.queue import CALLED
from clinicdesk.services.users import parse_roles
from clinicdesk.services.visit_views import SIGNED
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
LAB = "South Thames Pathology · Blood Sciences, St Olave's Wing, London SE1 7EH"

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
RESOLVED = (
    "Community-acquired pneumonia",
    "Frozen shoulder (left)",
    "Iron-deficiency anaemia",
    "Plantar fasciitis",
    "Glandular fever",
    "Otitis media",
    "Cellulitis of the right leg",
    "Postnatal depression",
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


def _weighted(rng: random.Random, options: Iterable[tuple[int, str]]) -> str:
    weights, values = zip(*options, strict=True)
    return rng.choices(values, weights)[0]


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


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
        adult = p.born + timedelta(days=365 * min(p.age, 18))
        for name, note, chance in CHRONIC:
            if rng.random() < chance(p.age, p.sex):
                p.conditions.add(name)
                onset = _day_between(
                    rng,
                    max(adult, self.today - timedelta(days=365 * 15)),
                    self.today - timedelta(days=400),
                )
                onset = max(onset, p.born)
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
        if p.age >= 2 and rng.random() < 0.25:
            name = rng.choice(RESOLVED)
            onset = _day_between(rng, p.born + timedelta(days=365), self.today - timedelta(days=60))
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
            kind, title, file_name, content = _document(rng, p, dated)
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


# ---------------------------------------------------------------- documents

# (test, unit, low, high, typical, decimals)
PANELS: dict[str, list[tuple[str, str, float, float, float, int]]] = {
    "Full blood count": [
        ("Haemoglobin", "g/L", 120, 160, 138, 0),
        ("White cell count", "×10⁹/L", 4.0, 11.0, 6.8, 1),
        ("Platelets", "×10⁹/L", 150, 400, 260, 0),
        ("Neutrophils", "×10⁹/L", 2.0, 7.5, 4.1, 1),
        ("Lymphocytes", "×10⁹/L", 1.0, 4.0, 2.0, 1),
        ("MCV", "fL", 80, 100, 89, 0),
    ],
    "Urea and electrolytes": [
        ("Sodium", "mmol/L", 133, 146, 139, 0),
        ("Potassium", "mmol/L", 3.5, 5.3, 4.3, 1),
        ("Urea", "mmol/L", 2.5, 7.8, 5.1, 1),
        ("Creatinine", "µmol/L", 59, 104, 82, 0),
        ("eGFR", "mL/min/1.73m²", 60, 120, 84, 0),
    ],
    "HbA1c": [("HbA1c", "mmol/mol", 20, 41, 38, 0)],
    "Lipid profile": [
        ("Total cholesterol", "mmol/L", 0, 5.0, 5.4, 1),
        ("HDL cholesterol", "mmol/L", 1.0, 3.0, 1.3, 1),
        ("LDL cholesterol", "mmol/L", 0, 3.0, 3.3, 1),
        ("Triglycerides", "mmol/L", 0, 1.7, 1.6, 1),
    ],
    "Thyroid function": [
        ("TSH", "mU/L", 0.27, 4.2, 2.1, 2),
        ("Free T4", "pmol/L", 12, 22, 16, 1),
    ],
}


def _results(rng: random.Random, p: Person, panel: str) -> list[tuple[str, str, str, str, str]]:
    out = []
    for test, unit, low, high, typical, decimals in PANELS[panel]:
        value = typical * rng.gauss(1, 0.08)
        if test == "HbA1c" and "Type 2 diabetes mellitus" in p.conditions:
            value = rng.gauss(58, 8)
        if test == "TSH" and "Hypothyroidism" in p.conditions:
            value = rng.uniform(3.0, 7.5)
        flag = "H" if value > high else "L" if value < low else ""
        limits = f"< {high:g}" if low == 0 else f"{low:g} – {high:g}"
        out.append((test, f"{value:.{decimals}f}", unit, limits, flag))
    return out


def _panel_for(rng: random.Random, p: Person) -> str:
    if "Type 2 diabetes mellitus" in p.conditions and rng.random() < 0.6:
        return "HbA1c"
    if "Hypothyroidism" in p.conditions and rng.random() < 0.6:
        return "Thyroid function"
    return rng.choice(("Full blood count", "Urea and electrolytes", "Lipid profile"))


def _document(rng: random.Random, p: Person, dated: date) -> tuple[str, str, str, bytes]:
    """(kind, title, file name, content) of one generated document."""
    roll = rng.random()
    panel = _panel_for(rng, p)
    stamp = f"{dated:%Y-%m-%d}"
    if roll < 0.55:
        content = _lab_pdf(rng, p, panel, dated)
        return "lab", panel, f"{panel.lower().replace(' ', '-')}-{stamp}.pdf", content
    if roll < 0.8:
        content = _lab_png(rng, p, panel, dated)
        return "lab", f"{panel} (scanned)", f"scan-{stamp}.png", content
    if p.age >= 40 and roll < 0.92:
        return "image", "ECG rhythm strip", f"ecg-{stamp}.png", _ecg_png(rng, dated)
    content = _letter_pdf(rng, p, dated)
    return "letter", "Hospital clinic letter", f"letter-{stamp}.pdf", content


def _lab_pdf(rng: random.Random, p: Person, panel: str, dated: date) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from clinicdesk.printing import fonts

    fonts.register()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    width, height = A4
    y = height - 20 * mm
    c.setFont(fonts.BOLD, 14)
    c.drawString(20 * mm, y, "South Thames Pathology")
    c.setFont(fonts.REGULAR, 8)
    c.drawString(20 * mm, y - 12, LAB)
    y -= 32
    c.setFont(fonts.REGULAR, 10)
    for label, value in (
        ("Patient", p.name),
        ("Born", f"{p.born:%d/%m/%Y}"),
        ("NHS number", p.national_id or "not given"),
        ("Collected", f"{dated:%d/%m/%Y} 09:{rng.randint(0, 59):02d}"),
        ("Requested by", "Riverside Family Practice"),
    ):
        c.drawString(20 * mm, y, f"{label}:")
        c.drawString(55 * mm, y, value)
        y -= 14
    y -= 10
    c.setFont(fonts.BOLD, 12)
    c.drawString(20 * mm, y, panel)
    y -= 18
    columns = (20 * mm, 75 * mm, 100 * mm, 135 * mm, 175 * mm)
    c.setFont(fonts.BOLD, 9)
    for x, head in zip(
        columns, ("Test", "Result", "Units", "Reference range", "Flag"), strict=True
    ):
        c.drawString(x, y, head)
    c.line(20 * mm, y - 4, width - 20 * mm, y - 4)
    c.setFont(fonts.REGULAR, 9)
    for row in _results(rng, p, panel):
        y -= 15
        for x, text in zip(columns, row, strict=True):
            c.drawString(x, y, text)
    c.setFont(fonts.REGULAR, 8)
    c.drawString(20 * mm, 20 * mm, "Authorised by Dr R. Mensah, Consultant Chemical Pathologist")
    c.showPage()
    c.save()
    return out.getvalue()


def _letter_pdf(rng: random.Random, p: Person, dated: date) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    from clinicdesk.printing import fonts

    fonts.register()
    clinic, doctor, text = rng.choice(
        (
            (
                "Cardiology Outpatients",
                "Dr A. Fernandes, Consultant Cardiologist",
                "Thank you for referring this patient with palpitations. The 24-hour tape showed "
                "sinus rhythm with occasional ectopic beats and no arrhythmia. Echocardiogram was "
                "normal. I have reassured them and discharged them back to your care.",
            ),
            (
                "Orthopaedic Clinic",
                "Mr J. Okoro, Consultant Orthopaedic Surgeon",
                "Seen for knee pain. X-rays show moderate medial compartment osteoarthritis. We "
                "discussed weight loss, physiotherapy and simple analgesia; they are not keen on "
                "surgery at present. Happy to see again if symptoms worsen.",
            ),
            (
                "Dermatology Department",
                "Dr L. Haddad, Consultant Dermatologist",
                "The lesion on the left forearm was excised and histology confirms a benign "
                "dermatofibroma. No further follow-up is needed.",
            ),
        )
    )
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    width, height = A4
    c.setFont(fonts.BOLD, 13)
    c.drawString(20 * mm, height - 22 * mm, f"Guy's and St Thomas' Hospital · {clinic}")
    c.setFont(fonts.REGULAR, 10)
    y = height - 40 * mm
    for line in (
        f"{dated:%d %B %Y}",
        "",
        "Dr C. Okafor, Riverside Family Practice",
        "",
        f"Re: {p.name}, born {p.born:%d/%m/%Y}",
        "",
    ):
        c.drawString(20 * mm, y, line)
        y -= 14
    for line in simpleSplit(text, fonts.REGULAR, 10, width - 40 * mm):
        c.drawString(20 * mm, y, line)
        y -= 14
    c.drawString(20 * mm, y - 20, "Yours sincerely,")
    c.drawString(20 * mm, y - 48, doctor)
    c.showPage()
    c.save()
    return out.getvalue()


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(RESOURCES / "fonts" / "DejaVuSans.ttf"), size)


def _lab_png(rng: random.Random, p: Person, panel: str, dated: date) -> bytes:
    """A scanned result slip: off-white paper, a little tilted, grey text."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (900, 560), 246)
    draw = ImageDraw.Draw(image)
    big, small = _font(26), _font(18)
    draw.text((40, 30), "South Thames Pathology", fill=40, font=big)
    draw.text(
        (40, 70),
        f"{p.name}   born {p.born:%d/%m/%Y}   collected {dated:%d/%m/%Y}",
        fill=60,
        font=small,
    )
    draw.text((40, 115), panel, fill=30, font=big)
    y = 165
    for x, head in zip(
        (40, 330, 450, 620, 820), ("Test", "Result", "Units", "Range", "Flag"), strict=True
    ):
        draw.text((x, y), head, fill=30, font=small)
    draw.line((40, y + 28, 860, y + 28), fill=90, width=2)
    for row in _results(rng, p, panel):
        y += 40
        for x, text in zip((40, 330, 450, 620, 820), row, strict=True):
            draw.text((x, y), text, fill=50, font=small)
    image = image.rotate(rng.uniform(-1.2, 1.2), fillcolor=235, resample=Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def _ecg_png(rng: random.Random, dated: date) -> bytes:
    """A 10-second lead II rhythm strip on ECG paper (25 mm/s, 10 mm/mV, 4 px a mm)."""
    import math

    from PIL import Image, ImageDraw

    px, width, height = 4, 1000, 200
    image = Image.new("RGB", (width, height), (255, 244, 244))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, px):
        draw.line((x, 0, x, height), fill=(250, 210, 210) if x % (5 * px) else (238, 150, 150))
    for y in range(0, height, px):
        draw.line((0, y, width, y), fill=(250, 210, 210) if y % (5 * px) else (238, 150, 150))
    rate = rng.randint(58, 96)
    beat = 60 / rate
    points = []
    for x in range(width):
        t = (x / px / 25) % beat  # seconds since the last beat
        mv = (
            0.15 * math.exp(-(((t - 0.12) / 0.03) ** 2))
            - 0.1 * math.exp(-(((t - 0.2) / 0.01) ** 2))
            + 1.2 * math.exp(-(((t - 0.22) / 0.012) ** 2))
            - 0.25 * math.exp(-(((t - 0.245) / 0.012) ** 2))
            + 0.3 * math.exp(-(((t - 0.45) / 0.05) ** 2))
        )
        points.append((x, height * 0.65 - mv * 10 * px))
    draw.line(points, fill=(20, 20, 20), width=2)
    draw.text(
        (8, 6),
        f"II  25 mm/s  10 mm/mV  {dated:%d/%m/%Y}  sinus rhythm {rate}/min",
        fill=(60, 60, 60),
        font=_font(14),
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# ---------------------------------------------------------------- visits and prescriptions


def _item(
    drug: str,
    strength: str,
    form: str,
    dose: str,
    freq: Frequency,
    days: int,
    qty: int,
    unit: str,
    instructions: str = "",
    route: str = "by mouth",
    refills: int = 0,
) -> ItemInput:
    return ItemInput(
        drug,
        dose,
        route,
        freq,
        days,
        qty,
        unit,
        strength=strength,
        form=form,
        refills=refills,
        instructions=instructions,
    )


TWICE, THREE, FOUR, ONCE = (Frequency(PER_DAY, n) for n in (2, 3, 4, 1))
PRN4 = Frequency(AS_NEEDED, 4)
AVOID = {"Penicillin": ("Amoxicillin", "Flucloxacillin"), "NSAIDs": ("Naproxen", "Ibuprofen")}
# alternatives when the patient is allergic to what the note would give
INSTEAD = {
    "Amoxicillin": _item("Clarithromycin", "500 mg", "tablet", "1 tablet", TWICE, 5, 10, "tablets"),
    "Flucloxacillin": _item(
        "Clarithromycin", "500 mg", "tablet", "1 tablet", TWICE, 7, 14, "tablets"
    ),
    "Naproxen": _item(
        "Paracetamol",
        "500 mg",
        "tablet",
        "2 tablets",
        PRN4,
        7,
        32,
        "tablets",
        "No more than 8 tablets in 24 hours.",
    ),
    "Ibuprofen": _item(
        "Paracetamol",
        "500 mg",
        "tablet",
        "2 tablets",
        PRN4,
        5,
        32,
        "tablets",
        "No more than 8 tablets in 24 hours.",
    ),
    "Nitrofurantoin": _item("Cefalexin", "500 mg", "capsule", "1 capsule", TWICE, 3, 6, "capsules"),
}


@dataclass(frozen=True)
class Encounter:
    complaint: str
    findings: str
    diagnosis: str
    plan: str
    items: tuple[ItemInput, ...] = ()
    valid_days: int = 30
    sex: str = ""  # only for patients of this sex


ACUTE_ADULT = (
    Encounter(
        "Sore throat and blocked nose for 4 days; dry cough at night. No shortness of breath.",
        "T 37.4 °C. Pharynx mildly injected, no exudate. No cervical lymphadenopathy. Chest "
        "clear, RR 14.",
        "Viral upper respiratory tract infection (FeverPAIN 1)",
        "Self-care: fluids, rest, paracetamol as needed. No antibiotic indicated. Return if not "
        "improving in 7 days or if short of breath.",
    ),
    Encounter(
        "Burning on passing urine and frequency for 2 days. No loin pain, no fever. Not pregnant.",
        "Afebrile. Abdomen soft, mild suprapubic tenderness, no renal angle tenderness. Urine "
        "dip: nitrites +, leucocytes ++.",
        "Uncomplicated lower urinary tract infection",
        "Nitrofurantoin 3 days. Increase fluids. Urine sent for culture. Return if fever, loin "
        "pain or not settling in 48 hours.",
        (
            _item(
                "Nitrofurantoin",
                "100 mg",
                "capsule",
                "1 capsule",
                TWICE,
                3,
                6,
                "capsules",
                "Take with food.",
            ),
        ),
        7,
        "female",
    ),
    Encounter(
        "Low back pain for 10 days after lifting boxes. No leg weakness, no numbness, bladder and "
        "bowels normal.",
        "Paraspinal muscle tenderness L4–L5. SLR 80° both sides. Power, reflexes and sensation "
        "normal in both legs.",
        "Acute mechanical low back pain; no red flags",
        "Keep active; heat. Naproxen short course with omeprazole cover. Physiotherapy "
        "self-referral leaflet. Review in 3 weeks if not better.",
        (
            _item(
                "Naproxen",
                "500 mg",
                "tablet",
                "1 tablet",
                TWICE,
                7,
                14,
                "tablets",
                "Take with or after food.",
            ),
            _item(
                "Omeprazole",
                "20 mg",
                "capsule",
                "1 capsule",
                ONCE,
                7,
                7,
                "capsules",
                "Take 30 minutes before breakfast.",
            ),
        ),
        14,
    ),
    Encounter(
        "Red, hot, swollen area on the left shin for 3 days after a graze. Feels a little "
        "feverish.",
        "T 37.9 °C. 8 × 6 cm area of erythema and warmth over the left shin, margin marked with "
        "pen. No abscess. Pulses present.",
        "Cellulitis of the left lower leg",
        "Flucloxacillin 7 days. Elevate the leg. Return the same day if the redness spreads "
        "beyond the mark or if unwell.",
        (
            _item(
                "Flucloxacillin",
                "500 mg",
                "capsule",
                "1 capsule",
                FOUR,
                7,
                28,
                "capsules",
                "Take on an empty stomach, 1 hour before food.",
            ),
        ),
        7,
    ),
    Encounter(
        "Heartburn most evenings for 6 weeks, worse after large meals and lying down. No weight "
        "loss, no difficulty swallowing.",
        "Well. Abdomen soft, mild epigastric tenderness, no masses. BMI noted.",
        "Gastro-oesophageal reflux, no alarm features",
        "Lifestyle advice: smaller evening meals, raise the head of the bed, less alcohol. "
        "Omeprazole 4 weeks then review.",
        (
            _item(
                "Omeprazole",
                "20 mg",
                "capsule",
                "1 capsule",
                ONCE,
                28,
                28,
                "capsules",
                "Take 30 minutes before breakfast.",
            ),
        ),
    ),
    Encounter(
        "Feeling low and tired for two months since a redundancy; poor sleep, less interest in "
        "things. No thoughts of self-harm.",
        "Good eye contact, tearful at times. PHQ-9 score 14. No psychotic features. Safety plan "
        "discussed.",
        "Moderate depressive episode",
        "Talking therapies self-referral given. Started sertraline 50 mg; warned about early side "
        "effects. Review in 2 weeks by phone.",
        (
            _item(
                "Sertraline",
                "50 mg",
                "tablet",
                "1 tablet",
                ONCE,
                28,
                28,
                "tablets",
                "Take in the morning.",
            ),
        ),
    ),
)
ACUTE_CHILD = (
    Encounter(
        "Ear pain and fever since last night; pulling at the right ear. Eating less, drinking "
        "well.",
        "T 38.2 °C. Right tympanic membrane red and bulging. Left normal. Throat mildly red. "
        "Chest clear.",
        "Acute otitis media (right)",
        "Paracetamol or ibuprofen for pain. Amoxicillin as symptoms over 3 days with fever. "
        "Return if drowsy, rash or not drinking.",
        (
            _item(
                "Amoxicillin",
                "250 mg/5 ml",
                "oral suspension",
                "5 ml",
                THREE,
                5,
                1,
                "bottle (100 ml)",
                "Shake the bottle well. Use the oral syringe.",
            ),
        ),
        7,
    ),
    Encounter(
        "Vomiting and loose stools for a day; two wet nappies since this morning.",
        "Alert, playful. Mucous membranes moist, capillary refill under 2 s. Abdomen soft, "
        "non-tender.",
        "Viral gastroenteritis, no clinical dehydration",
        "Small frequent drinks; oral rehydration solution. Stay off nursery for 48 hours after "
        "the last episode. Return if fewer wet nappies or lethargic.",
        (
            _item(
                "Oral rehydration salts",
                "1 sachet",
                "sachet",
                "1 sachet in 200 ml water",
                Frequency(AS_NEEDED, 6),
                3,
                12,
                "sachets",
                "After each loose stool.",
            ),
        ),
        7,
    ),
    Encounter(
        "Itchy dry patches in the elbow and knee creases for 3 weeks, waking at night.",
        "Dry, excoriated eczematous patches in both antecubital and popliteal fossae. No signs of "
        "infection.",
        "Atopic eczema flare",
        "Emollient generously and often. Hydrocortisone 1% once daily to the patches for 7 days. "
        "Eczema leaflet given.",
        (
            _item(
                "Hydrocortisone cream",
                "1%",
                "cream",
                "a thin layer",
                ONCE,
                7,
                1,
                "tube (30 g)",
                "Apply to the red patches only.",
                route="on the skin",
            ),
        ),
    ),
    Encounter(
        "Cough and runny nose for 5 days; mild wheeze at night. Known asthma.",
        "T 37.6 °C. RR 24, SpO₂ 97%. Scattered wheeze, good air entry. Talking in full sentences.",
        "Viral-induced wheeze in a child with asthma",
        "Salbutamol via spacer as needed; asthma action plan reviewed. Return if needing it more "
        "often than every 4 hours.",
        (
            _item(
                "Salbutamol",
                "100 micrograms per dose",
                "inhaler",
                "2 to 4 puffs via spacer",
                PRN4,
                30,
                1,
                "inhaler",
                "Shake well; use with the spacer.",
                route="inhaled",
            ),
        ),
    ),
)
REVIEWS = {
    "Essential hypertension": Encounter(
        "Blood pressure review; home readings average 144/88. No chest pain, no headaches. Taking "
        "tablets regularly.",
        "BP 146/90, pulse 72 regular. Heart sounds normal. No ankle oedema.",
        "Essential hypertension, not yet at target",
        "Increase amlodipine to 10 mg once daily. U&E and urine ACR before the next review. "
        "Review in 4 weeks with home readings.",
        (
            _item(
                "Amlodipine",
                "10 mg",
                "tablet",
                "1 tablet",
                ONCE,
                28,
                28,
                "tablets",
                "Ankle swelling can occur; tell us if it does.",
                refills=2,
            ),
        ),
    ),
    "Type 2 diabetes mellitus": Encounter(
        "Diabetes review. Feeling well; walking more. Occasional tingling in the feet.",
        "HbA1c 58 mmol/mol (was 63). BP 134/80. Feet: pulses present, monofilament sensation "
        "reduced on the left big toe.",
        "Type 2 diabetes, improving control; early peripheral neuropathy",
        "Continue metformin. Podiatry referral. Retinal screening booked. Repeat HbA1c in 3 "
        "months.",
        (
            _item(
                "Metformin",
                "500 mg",
                "tablet",
                "2 tablets",
                TWICE,
                28,
                112,
                "tablets",
                "Take with meals.",
                refills=2,
            ),
        ),
    ),
    "Asthma": Encounter(
        "Asthma review. Using the blue inhaler 3–4 times a week, waking once a week with cough.",
        "Chest clear. Peak flow 410 L/min (best 480). Inhaler technique good with a spacer.",
        "Asthma, partly controlled",
        "Start regular preventer; personalised asthma action plan updated. Review in 6 weeks.",
        (
            _item(
                "Beclometasone",
                "100 micrograms per dose",
                "inhaler",
                "2 puffs",
                TWICE,
                30,
                1,
                "inhaler",
                "Rinse the mouth after use.",
                route="inhaled",
                refills=3,
            ),
            _item(
                "Salbutamol",
                "100 micrograms per dose",
                "inhaler",
                "2 puffs",
                PRN4,
                30,
                1,
                "inhaler",
                "For wheeze or breathlessness.",
                route="inhaled",
                refills=1,
            ),
        ),
    ),
    "Hypothyroidism": Encounter(
        "Thyroid review. Still tired; weight up 2 kg.",
        "TSH 6.8 mU/L on levothyroxine 50 micrograms. No goitre.",
        "Primary hypothyroidism, under-replaced",
        "Increase levothyroxine to 75 micrograms (50 + 25). Repeat TSH in 6–8 weeks.",
        (
            _item(
                "Levothyroxine",
                "50 micrograms",
                "tablet",
                "1 tablet",
                Frequency(FIXED_TIMES, 0, ("07:00",)),
                56,
                56,
                "tablets",
                "On an empty stomach, 30 minutes before breakfast.",
            ),
            _item(
                "Levothyroxine",
                "25 micrograms",
                "tablet",
                "1 tablet",
                Frequency(FIXED_TIMES, 0, ("07:00",)),
                56,
                56,
                "tablets",
                "Together with the 50 microgram tablet.",
            ),
        ),
    ),
}
VACCINATION = Encounter(
    "Seasonal influenza vaccination.",
    "Consent given. No egg allergy, no previous reaction, afebrile. Given IM left deltoid, batch "
    "FLU-24-0917.",
    "Influenza vaccination given",
    "Observed for 15 minutes, no reaction. Paracetamol if sore arm.",
)
CHILD_CHECK = Encounter(
    "Routine child health check.",
    "Growth along the 50th centile. Development appropriate for age: walking, 10+ words. Hips and "
    "heart normal.",
    "Healthy child; development normal",
    "Immunisations up to date. Vitamin D drops advised. Next check as scheduled.",
)
ACKNOWLEDGED = {
    "duplicate": "Intended: two strengths make up the dose",
    "allergy": "Taken since without a reaction; patient counselled",
}
CANCEL_REASONS = (
    "Wrong strength selected; rewritten",
    "Patient already has a supply at home",
    "Changed to a liquid form for ease of swallowing",
)


def _encounter(rng: random.Random, p: Person, service: str) -> Encounter:
    if service == "Vaccination":
        return VACCINATION
    if service == "Child health check":
        return CHILD_CHECK
    reviews = [REVIEWS[c] for c in sorted(p.conditions) if c in REVIEWS]
    if reviews and rng.random() < 0.5:
        return rng.choice(reviews)
    acute = ACUTE_CHILD if p.age < 16 else ACUTE_ADULT
    return rng.choice([e for e in acute if e.sex in ("", p.sex)])


def _safe_items(items: Iterable[ItemInput], p: Person) -> list[ItemInput]:
    """What the doctor writes instead of a drug the patient is allergic to."""
    avoid = {drug for a in p.allergies for drug in AVOID.get(a, ())}
    return [INSTEAD[i.drug] if i.drug in avoid else i for i in items]


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
        today = now.astimezone(clinic_zone(s)).date()
        past = [
            PastAppointment(
                a.id, a.patient_id, a.doctor_id, a.starts_at, svc.duration_minutes, svc.name
            )
            for a, svc in s.execute(
                select(Appointment, CareService)
                .join(CareService, CareService.id == Appointment.service_id)
                .where(Appointment.status == "completed", Appointment.starts_at < now)
                .order_by(Appointment.starts_at, Appointment.id)
            ).tuples()
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
    _open_todays_visit(session, doctors, now)


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
        encounter = _encounter(rng, p, appt.service)
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
        items = _safe_items(encounter.items, p)
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


def _open_todays_visit(session: ClinicSession, doctors: dict[str, Actor], now: datetime) -> None:
    """The patient a doctor called in this morning is with them: the visit is open, the
    complaint already typed."""
    with session.store.read() as s:
        called = s.execute(
            select(QueueEntry.id, QueueEntry.called_doctor_id).where(
                QueueEntry.status == CALLED, QueueEntry.called_doctor_id.is_not(None)
            )
        ).all()
    visits = VisitService(session.store, session.appointments, clock=lambda: now)
    for entry_id, doctor_id in called:
        doctor = doctors[doctor_id]
        visit = visits.start_for_queue_entry(doctor, entry_id)
        note = VisitNote("Cough for a week, now with green sputum and a temperature last night.")
        visits.save_note(doctor, visit.id, note, visit.version)

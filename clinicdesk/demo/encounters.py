"""Visits of the demo clinic: notes a doctor would write (complaint, findings, diagnosis, plan)
for common encounters, with the items prescribed, and what is written instead for an allergy.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinicdesk.rx.payload import AS_NEEDED, FIXED_TIMES, PER_DAY, Frequency
from clinicdesk.services.prescription_checks import ItemInput

if TYPE_CHECKING:
    from clinicdesk.demo.clinical import Person


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
# fmt: off
# alternatives when the patient is allergic to what the note would give
INSTEAD = {
    "Amoxicillin": _item("Clarithromycin", "500 mg", "tablet", "1 tablet", TWICE, 5, 10, "tablets"),
    "Flucloxacillin": _item(
        "Clarithromycin", "500 mg", "tablet", "1 tablet", TWICE, 7, 14, "tablets",
    ),
    "Naproxen": _item(
        "Paracetamol", "500 mg", "tablet", "2 tablets", PRN4, 7, 32, "tablets",
        "No more than 8 tablets in 24 hours.",
    ),
    "Ibuprofen": _item(
        "Paracetamol", "500 mg", "tablet", "2 tablets", PRN4, 5, 32, "tablets",
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
                "Nitrofurantoin", "100 mg", "capsule", "1 capsule", TWICE, 3, 6, "capsules",
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
                "Naproxen", "500 mg", "tablet", "1 tablet", TWICE, 7, 14, "tablets",
                "Take with or after food.",
            ),
            _item(
                "Omeprazole", "20 mg", "capsule", "1 capsule", ONCE, 7, 7, "capsules",
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
                "Flucloxacillin", "500 mg", "capsule", "1 capsule", FOUR, 7, 28, "capsules",
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
                "Omeprazole", "20 mg", "capsule", "1 capsule", ONCE, 28, 28, "capsules",
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
                "Sertraline", "50 mg", "tablet", "1 tablet", ONCE, 28, 28, "tablets",
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
                "Amoxicillin", "250 mg/5 ml", "oral suspension", "5 ml", THREE, 5, 1,
                "bottle (100 ml)", "Shake the bottle well. Use the oral syringe.",
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
                "Oral rehydration salts", "1 sachet", "sachet", "1 sachet in 200 ml water",
                Frequency(AS_NEEDED, 6), 3, 12, "sachets", "After each loose stool.",
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
                "Hydrocortisone cream", "1%", "cream", "a thin layer", ONCE, 7, 1, "tube (30 g)",
                "Apply to the red patches only.", route="on the skin",
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
                "Salbutamol", "100 micrograms per dose", "inhaler", "2 to 4 puffs via spacer",
                PRN4, 30, 1, "inhaler", "Shake well; use with the spacer.", route="inhaled",
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
                "Amlodipine", "10 mg", "tablet", "1 tablet", ONCE, 28, 28, "tablets",
                "Ankle swelling can occur; tell us if it does.", refills=2,
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
                "Metformin", "500 mg", "tablet", "2 tablets", TWICE, 28, 112, "tablets",
                "Take with meals.", refills=2,
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
                "Beclometasone", "100 micrograms per dose", "inhaler", "2 puffs", TWICE, 30, 1,
                "inhaler", "Rinse the mouth after use.", route="inhaled", refills=3,
            ),
            _item(
                "Salbutamol", "100 micrograms per dose", "inhaler", "2 puffs", PRN4, 30, 1,
                "inhaler", "For wheeze or breathlessness.", route="inhaled", refills=1,
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
                "Levothyroxine", "50 micrograms", "tablet", "1 tablet",
                Frequency(FIXED_TIMES, 0, ("07:00",)), 56, 56, "tablets",
                "On an empty stomach, 30 minutes before breakfast.",
            ),
            _item(
                "Levothyroxine", "25 micrograms", "tablet", "1 tablet",
                Frequency(FIXED_TIMES, 0, ("07:00",)), 56, 56, "tablets",
                "Together with the 50 microgram tablet.",
            ),
        ),
    ),
}
# fmt: on
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


def encounter_for(rng: random.Random, p: Person, service: str) -> Encounter:
    if service == "Vaccination":
        return VACCINATION
    if service == "Child health check":
        return CHILD_CHECK
    due = [c for c in sorted(p.conditions) if c in REVIEWS and c not in p.reviewed]
    if due and rng.random() < 0.5:
        condition = rng.choice(due)
        p.reviewed.add(condition)  # one review of each condition in the ten days
        return REVIEWS[condition]
    acute = ACUTE_CHILD if p.age < 16 else ACUTE_ADULT
    return rng.choice([e for e in acute if e.sex in ("", p.sex)])


def safe_items(items: Iterable[ItemInput], p: Person) -> list[ItemInput]:
    """What the doctor writes instead of a drug the patient is allergic to."""
    avoid = {drug for a in p.allergies for drug in AVOID.get(a, ())}
    return [INSTEAD[i.drug] if i.drug in avoid else i for i in items]

"""Realistic prescription items, each a different drug, with the long instructions GPs write."""

from __future__ import annotations

from clinicdesk.rx.payload import AS_NEEDED, PER_DAY, Frequency
from clinicdesk.services.prescription_checks import ItemInput

_DRUGS = [
    (
        "Ibuprofen",
        "400 mg",
        "tablet",
        "1 tablet",
        3,
        "Take with or after food. Stop and seek advice if you notice black stools or stomach pain.",
    ),
    (
        "Omeprazole",
        "20 mg",
        "capsule",
        "1 capsule",
        1,
        "Take 30 minutes before breakfast, "
        "swallowed whole with a glass of water; do not crush or chew.",
    ),
    (
        "Metformin",
        "500 mg",
        "modified-release tablet",
        "1 tablet",
        2,
        "Take with the evening meal for the first week, then with breakfast and the evening meal.",
    ),
    (
        "Atorvastatin",
        "20 mg",
        "tablet",
        "1 tablet",
        1,
        "Take at night. Tell the surgery about "
        "any unexplained muscle pain, tenderness or weakness.",
    ),
    (
        "Amlodipine",
        "5 mg",
        "tablet",
        "1 tablet",
        1,
        "Take at the same time each day. Ankle "
        "swelling is common in the first weeks; mention it at your review.",
    ),
    (
        "Sertraline",
        "50 mg",
        "tablet",
        "1 tablet",
        1,
        "Take in the morning. It may take four to "
        "six weeks to help; do not stop suddenly without talking to your doctor.",
    ),
    (
        "Levothyroxine",
        "75 micrograms",
        "tablet",
        "1 tablet",
        1,
        "Take on an empty stomach, "
        "30 minutes before breakfast or other medicines, with water only.",
    ),
    (
        "Cetirizine",
        "10 mg",
        "tablet",
        "1 tablet",
        1,
        "May cause drowsiness. Do not drive or use "
        "machines if affected; avoid alcohol while taking it.",
    ),
    (
        "Paracetamol",
        "500 mg",
        "tablet",
        "2 tablets",
        4,
        "Leave at least four hours between doses and take no more than eight tablets in 24 hours.",
    ),
    (
        "Salbutamol",
        "100 micrograms per dose",
        "inhaler",
        "2 puffs",
        4,
        "Shake well before use. "
        "If you need it more than three times a week, book an asthma review.",
    ),
]


def items(count: int) -> list[ItemInput]:
    return [
        ItemInput(
            drug,
            dose,
            "inhaled" if form == "inhaler" else "by mouth",
            Frequency(AS_NEEDED if form == "inhaler" else PER_DAY, per_day),
            28,
            1 if form == "inhaler" else 28 * per_day,
            "inhaler" if form == "inhaler" else "tablets",
            strength=strength,
            form=form,
            instructions=instructions,
        )
        for drug, strength, form, dose, per_day, instructions in _DRUGS[:count]
    ]

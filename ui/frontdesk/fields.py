"""How patient fields are named and shown to staff."""

from __future__ import annotations

import re
from datetime import date

from clinicdesk.services.patients import SEXES, PatientRecord
from ui.widgets.dates import format_day

FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "phone": "Phone",
    "email": "Email",
    "address": "Address",
    "national_id": "National ID",
    "emergency_contact_name": "Emergency contact",
    "emergency_contact_phone": "Emergency contact phone",
}


def list_name(patient: PatientRecord) -> str:
    """Family name first, as registers and lists are read."""
    return f"{patient.family_name}, {patient.given_name}"


def born_text(patient: PatientRecord, today: date) -> str:
    """'14/05/1979  (46 years)', the age on the clinic's ``today``."""
    if patient.date_of_birth is None:
        return ""
    return f"{format_day(patient.date_of_birth)}  ({patient.age_text(today)})"


def shown_value(field: str, value: object) -> str:
    """A stored value (as kept in the change history) the way staff read it."""
    if value in (None, ""):
        return "(empty)"
    if field == "sex":
        return SEXES.get(str(value), str(value))
    if isinstance(value, date):
        return format_day(value)
    if field == "date_of_birth" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        return format_day(date.fromisoformat(str(value)))
    return str(value)

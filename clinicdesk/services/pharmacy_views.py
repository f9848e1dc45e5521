"""What the pharmacist sees: the verdict on a scanned prescription, dispenses and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from clinicdesk.rx import reference
from clinicdesk.rx.errors import CodeRefused
from clinicdesk.rx.payload import PrescriptionContent, RxItem
from clinicdesk.services.chart_sections import SEVERITIES
from clinicdesk.services.inventory import BatchView

SCANNER, PICTURE, CAMERA, TYPED = "scanner", "picture", "camera", "reference"
PASTED = "pasted"  # a code's text copied from elsewhere, not read off paper here
METHOD_LABELS = {
    SCANNER: "Scanner",
    PASTED: "Pasted text",
    PICTURE: "Picture or PDF",
    CAMERA: "Camera",
    TYPED: "Reference number",
}
VERIFIED, REFUSED, REJECTED = "verified", "refused", "rejected"
SERIOUS = ("severe", "life-threatening")
EVENT_LABELS = {VERIFIED: "Verified", REFUSED: "Refused", REJECTED: "Not dispensed"}


def prescribed_text(item: RxItem) -> str:
    """'Amoxicillin 500 mg capsule'."""
    return " ".join(p for p in (item.drug, item.strength, item.form) if p)


@dataclass(frozen=True)
class Fill:
    """An earlier handing-over of part of an item."""

    at: datetime
    by: str
    quantity: int
    given: str
    batch_number: str
    substituted: bool


@dataclass(frozen=True)
class ItemBalance:
    line: int
    item: RxItem
    directions: str
    allowed: int  # the quantity for each fill, times (refills + 1)
    dispensed: int
    fills: tuple[Fill, ...]
    batches: tuple[BatchView, ...]  # in-date stock of the drug, first-expiry-first-out
    substitutes: tuple[BatchView, ...]  # same ingredients, strength and form; where allowed

    @property
    def remaining(self) -> int:
        return self.allowed - self.dispensed

    @property
    def prescribed(self) -> str:
        return prescribed_text(self.item)


@dataclass(frozen=True)
class PharmacyEventView:
    at: datetime
    kind: str
    method: str
    detail: str
    by: str

    @property
    def label(self) -> str:
        return EVENT_LABELS[self.kind]

    @property
    def method_label(self) -> str:
        return METHOD_LABELS.get(self.method, self.method)


@dataclass(frozen=True)
class AllergyNote:
    """One of the patient's recorded allergies, as the chart holds it now."""

    substance: str
    reaction: str
    severity: str  # a key of clinicdesk.services.chart_sections.SEVERITIES

    @property
    def serious(self) -> bool:
        return self.severity in SERIOUS

    @property
    def text(self) -> str:
        """'Penicillin (hives; Severe)'."""
        details = "; ".join(
            x for x in (self.reaction, SEVERITIES.get(self.severity, self.severity)) if x
        )
        return f"{self.substance} ({details})"


@dataclass(frozen=True)
class Verdict:
    """A genuine prescription that may be dispensed, and what remains of each item."""

    code: str
    content: PrescriptionContent
    signed_by_clinic: str  # the name on the signing key (no two trusted clinics share one)
    own_clinic: bool  # signed with this clinic's own key
    kid: str
    items: tuple[ItemBalance, ...]
    scans: int  # verified scans so far, this one included
    history: tuple[PharmacyEventView, ...]  # newest first
    issuer: str  # the signing clinic's id, from the key that signed
    key_fingerprint: str  # the signing key's fingerprint (rx.keys.fingerprint)
    # The patient's allergies as the chart has them now, serious ones first; None when the
    # prescription is another clinic's, whose patient's chart is not kept here.
    allergies: tuple[AllergyNote, ...] | None

    @property
    def reference_grouped(self) -> str:
        return reference.grouped(self.content.reference)

    @property
    def signed_by_text(self) -> str:
        """Which clinic signed, unmistakably: 'this clinic (…)', or another clinic's name with
        its key, which tells it from another clinic of the same name."""
        if self.own_clinic:
            return f"this clinic ({self.signed_by_clinic})"
        return f"{self.signed_by_clinic}, another clinic (key {self.key_fingerprint})"

    @property
    def allergies_text(self) -> str:
        if self.allergies is None:
            return "Not known here: the patient's chart is kept by the clinic that signed."
        if not self.allergies:
            return "No known allergies recorded"
        return ", ".join(a.text for a in self.allergies)

    @property
    def fully_dispensed(self) -> bool:
        return all(i.remaining == 0 for i in self.items)


class AlreadyDispensed(CodeRefused):
    """Genuine, but every item has been given out: says when and by whom."""

    def __init__(self, at_text: str, by: str, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__(
            f"This prescription was dispensed in full on {at_text} by {by}. Do not dispense it "
            "again; the patient needs a new prescription."
        )


@dataclass(frozen=True)
class DispenseInput:
    line: int  # the prescription item's line
    batch_id: str
    quantity: int


@dataclass(frozen=True)
class DispensedLine:
    line: int
    prescribed: str
    given: str
    substituted: bool
    batch_number: str
    expiry: date
    quantity: int
    unit: str
    unit_price: int
    price: int
    directions: str


@dataclass(frozen=True)
class DispenseView:
    id: str
    at: datetime  # in the clinic's time zone
    by: str
    reference: str
    patient_name: str
    patient_born: date
    issuing_clinic: str
    doctor_name: str
    lines: tuple[DispensedLine, ...]
    total: int
    currency: str
    pharmacy_name: str
    pharmacy_address: str
    pharmacy_phone: str

    @property
    def reference_grouped(self) -> str:
        return reference.grouped(self.reference)


@dataclass(frozen=True)
class HistoryFilter:
    since: date | None = None  # clinic-local dates, inclusive
    until: date | None = None
    text: str = ""  # part of the patient's name, a drug, a batch or the reference
    pharmacist: str = ""


@dataclass(frozen=True)
class HistoryRow:
    """One dispensed line, for the history screen and its CSV export."""

    dispense_id: str
    at: datetime
    reference: str
    patient_name: str
    prescribed: str
    given: str
    substituted: bool
    batch_number: str
    expiry: date
    quantity: int
    unit: str
    price: int
    currency: str
    by: str

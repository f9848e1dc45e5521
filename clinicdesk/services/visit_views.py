"""Read-only views of visits, shared by the chart and the visit service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.store.models import DoctorProfile, User, Visit

OPEN, SIGNED = "open", "signed"
VISIT_STATUS_LABELS = {OPEN: "Open", SIGNED: "Signed"}


@dataclass(frozen=True)
class VisitSummary:
    id: str
    started_at: datetime
    doctor_name: str
    complaint: str
    diagnosis: str
    status: str
    signed_at: datetime | None

    @property
    def status_label(self) -> str:
        return VISIT_STATUS_LABELS[self.status]


def visit_summaries(s: Session, patient_id: str) -> list[VisitSummary]:
    """Newest first, doctors' names joined in the same query."""
    stmt = (
        select(
            Visit.id,
            Visit.started_at,
            User.display_name,
            Visit.complaint,
            Visit.diagnosis,
            Visit.status,
            Visit.signed_at,
        )
        .join(DoctorProfile, DoctorProfile.id == Visit.doctor_id)
        .join(User, User.id == DoctorProfile.user_id)
        .where(Visit.patient_id == patient_id, Visit.deleted_at.is_(None))
        .order_by(Visit.started_at.desc())
    )
    return [VisitSummary(*row) for row in s.execute(stmt)]

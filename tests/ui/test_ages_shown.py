"""A baby's age wherever staff read it (chart and visit header, front desk, the pharmacy's
verdict): days under a month, months under two years, on the clinic's date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from clinicdesk.services.patients import PatientRecord
from ui.doctor.chart_view import patient_line
from ui.frontdesk.fields import born_text
from ui.frontdesk.models import PatientTableModel
from ui.pharmacy.verdict_view import VerdictView
from ui.widgets.date_field import DateField

BORN = date(2026, 2, 28)
BABY = PatientRecord("Mia", "Okafor", BORN, "female", mrn="MRN-000042")
ON = {date(2026, 3, 20): "20 days", date(2026, 3, 28): "1 month", date(2028, 1, 30): "23 months"}


def test_the_chart_and_visit_header_give_a_babys_age_on_the_clinics_date():
    for today, said in ON.items():
        assert patient_line(BABY, today) == f"MRN-000042 · {said} · Female · born 28/02/2026"


def test_the_front_desk_gives_a_babys_age_on_the_clinics_date(qtbot):
    for today, said in ON.items():
        assert born_text(BABY, today) == f"28/02/2026  ({said})"
        model = PatientTableModel(lambda today=today: today)
        assert model.cells(BABY)[2] == f"28/02/2026  ({said})"
    field = DateField(BORN)
    assert field.spelled_out("20 days") == "28 February 2026 · 20 days"


def test_the_pharmacys_verdict_gives_a_babys_age_on_the_clinics_date(qtbot, counter):
    ph = counter.pharmacist
    verdict = ph.pharmacy.verdict(ph.actor, counter.rx.code)
    zone = ZoneInfo("Europe/Helsinki")  # the clinic's zone, whatever this computer's is
    today = datetime.now(UTC).astimezone(zone).date()
    baby = replace(verdict, content=replace(verdict.content, patient_born=today - timedelta(20)))
    view = VerdictView(zone.key)
    qtbot.addWidget(view)
    view.show_verdict(baby)
    shown = view.fields["patient"].text()
    # "21 days" only if the clinic's midnight passed between the two readings of the date
    assert "(20 days)" in shown or "(21 days)" in shown
    assert "year" not in shown

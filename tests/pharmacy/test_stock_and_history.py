"""The pharmacy's stock (deliveries, adjustments, alerts, the stock report and its CSV) and the
dispensing history with its filters and CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinicdesk.errors import ValidationError
from clinicdesk.services.formulary import DrugInput
from clinicdesk.services.inventory import MAX_UNITS, BatchInput
from clinicdesk.services.pharmacy import PharmacyService
from clinicdesk.services.pharmacy_views import DispenseInput, HistoryFilter
from tests.clinic_time import clinic_today
from tests.pharmacy.pharmacy_setup import (
    Counter,
    add_pharmacist,
    counter_fixture,
    drug_id,
    shelf,
)

pytestmark = pytest.mark.clock  # dated by the clinic's calendar; see .ci/run

counter = counter_fixture()


def delivery(counter: Counter, number="AMX-7", days=200, quantity=50, **changes) -> BatchInput:
    batch = BatchInput(
        drug_id(counter.pharmacist, "Amoxicillin"),
        number,
        clinic_today(counter.pharmacist) + timedelta(days=days),
        quantity,
        unit_cost=8,
        unit_price=15,
        strength="500 mg",
        form="capsule",
        supplier="Phoenix",
    )
    return replace(batch, **changes)


def refused_delivery(counter: Counter, batch: BatchInput, field: str, words: str) -> None:
    ph = counter.pharmacist
    before = shelf(counter)
    with pytest.raises(ValidationError) as caught:
        ph.inventory.receive(ph.actor, batch)
    assert words in caught.value.fields[field]
    assert shelf(counter) == before


def test_a_delivery_makes_a_batch_and_the_same_batch_again_adds_to_it(counter):
    ph, inv = counter.pharmacist, counter.pharmacist.inventory
    first = inv.receive(ph.actor, delivery(counter))
    assert (first.drug_name, first.received, first.on_hand, first.expired) == (
        "Amoxicillin",
        50,
        50,
        False,
    )
    assert first.description == "Amoxicillin 500 mg capsule"
    again = inv.receive(ph.actor, delivery(counter, number=" AMX-7 ", quantity=30, unit_price=16))
    assert again.id == first.id
    assert (again.received, again.on_hand, again.unit_price) == (80, 80, 16)
    assert [(m.kind_label, m.change, m.reason) for m in inv.movements(ph.actor, first.id)] == [
        ("Received", 30, "Phoenix"),
        ("Received", 50, "Phoenix"),
    ]
    refused_delivery(
        counter, delivery(counter, days=201), "expiry", "AMX-7 is on the shelf with expiry"
    )


def test_a_delivery_that_would_overfill_a_batch_is_refused(counter):
    huge = delivery(counter, quantity=MAX_UNITS)
    counter.pharmacist.inventory.receive(counter.pharmacist.actor, huge)
    refused_delivery(counter, delivery(counter, quantity=1), "quantity", "more than 1,000,000")


def test_a_delivery_that_is_expired_empty_or_unnumbered_is_refused(counter):
    refused_delivery(counter, delivery(counter, days=-1), "expiry", "in the past")
    for quantity in (0, -5, 2.5, True, "10"):  # half a box would never be dispensable
        refused_delivery(
            counter, delivery(counter, quantity=quantity), "quantity", "whole number of units"
        )
    refused_delivery(counter, delivery(counter, unit_cost=0.5), "unit_cost", "not a valid price")
    refused_delivery(counter, delivery(counter, number="  "), "batch_number", "is required")
    refused_delivery(counter, delivery(counter, unit_price=-1), "unit_price", "not a valid price")
    ph = counter.pharmacist
    today_expiry = ph.inventory.receive(ph.actor, delivery(counter, days=0))
    assert not today_expiry.expired and today_expiry.near_expiry


def test_an_adjustment_needs_a_reason_and_never_leaves_less_than_nothing(counter):
    ph, inv = counter.pharmacist, counter.pharmacist.inventory
    batch = counter.batches["omeprazole"]
    before = shelf(counter)
    for change, reason, field, words in [
        (-2, "  ", "reason", "say why"),
        (0, "count", "change", "at least 1"),
        (1.5, "count", "change", "a whole number of units"),
        (-57, "count", "change", "batch OME-1 holds 56"),
    ]:
        with pytest.raises(ValidationError) as caught:
            inv.adjust(ph.actor, batch.id, change, reason)
        assert words in caught.value.fields[field]
    assert shelf(counter) == before
    after = inv.adjust(ph.actor, batch.id, -2, "two capsules crushed")
    assert after.on_hand == 54
    emptied = inv.adjust(ph.actor, batch.id, -54, "recalled by the maker")
    assert emptied.on_hand == 0
    latest = inv.movements(ph.actor, batch.id)[0]
    assert (latest.kind_label, latest.change, latest.reason, latest.by) == (
        "Adjusted",
        -54,
        "recalled by the maker",
        "Priya Shah",
    )
    assert "OME-1" not in {b.batch_number for b in inv.batches(ph.actor)}
    assert shelf(counter).on_hand["OME-1"] == 0


def test_alerts_for_low_stock_near_expiry_and_expired_on_the_shelf(counter):
    ph, inv = counter.pharmacist, counter.pharmacist.inventory
    alerts = inv.alerts(ph.actor)
    assert alerts.low_stock == ()
    assert [b.batch_number for b in alerts.near_expiry] == ["IBU-SOON"]  # 60 days left
    assert [b.batch_number for b in alerts.expired] == ["IBU-OLD"]
    ibuprofen = drug_id(ph, "Ibuprofen")
    inv.set_reorder_level(ph.actor, ibuprofen, 110)  # 110 in date: at the level is low
    assert [line.drug_name for line in inv.alerts(ph.actor).low_stock] == ["Ibuprofen"]
    inv.set_reorder_level(ph.actor, ibuprofen, 109)
    assert inv.alerts(ph.actor).low_stock == ()
    with pytest.raises(ValidationError) as caught:
        inv.set_reorder_level(ph.actor, ibuprofen, -1)
    assert "must be 0 to" in caught.value.fields["reorder_level"]
    inv.receive(ph.actor, delivery(counter, days=90))
    inv.receive(ph.actor, delivery(counter, number="AMX-8", days=91))
    near = [b.batch_number for b in inv.alerts(ph.actor).near_expiry]
    assert "AMX-7" in near and "AMX-8" not in near
    assert inv.alerts(ph.actor).count == 3


def test_the_stock_report_counts_units_values_and_the_nearest_expiry(counter):
    ph = counter.pharmacist
    lines = {line.drug_name: line for line in ph.inventory.stock(ph.actor)}
    ibuprofen = lines["Ibuprofen"]
    assert (ibuprofen.on_hand, ibuprofen.expired_units, ibuprofen.batches) == (110, 20, 3)
    assert ibuprofen.nearest_expiry == counter.batches["ibuprofen_soon"].expiry
    # the value is of what can still be sold: the 20 expired tablets are worth nothing
    assert (ibuprofen.value_at_cost, ibuprofen.value_at_price) == (110 * 6, 110 * 12)
    assert (lines["Salbutamol"].value_at_cost, lines["Salbutamol"].value_at_price) == (
        5 * 225,
        5 * 450,
    )
    never = lines["Amoxicillin"]
    assert (never.on_hand, never.batches, never.nearest_expiry, never.value_at_cost) == (
        0,
        0,
        None,
        0,
    )


def formula_drug(counter: Counter) -> str:
    """A drug whose name a spreadsheet would run as a formula, with stock on the shelf."""
    admin, ph = counter.admin, counter.pharmacist
    admin.formulary.add(admin.actor, DrugInput("=HYPERLINK(evil)", "ibuprofen"))
    batch = replace(
        delivery(counter, number="+EVIL-1", quantity=10),
        drug_id=drug_id(ph, "=HYPERLINK(evil)"),
        strength="400 mg",
        form="tablet",
    )
    return ph.inventory.receive(ph.actor, batch).id


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_stock_csv_reads_back_and_never_runs_a_formula(counter):
    formula_drug(counter)
    ph = counter.pharmacist
    rows = rows_of(ph.inventory.stock_csv(ph.actor))
    by_batch = {r["Batch"]: r for r in rows}
    assert set(by_batch) == {"IBU-SOON", "IBU-LATE", "IBU-OLD", "OME-1", "SAL-1", "'+EVIL-1"}
    assert by_batch["IBU-OLD"]["Status"] == "expired"
    assert by_batch["IBU-SOON"]["Status"] == "near expiry"
    assert by_batch["IBU-LATE"] | {"Expiry": ""} == {
        "Drug": "Ibuprofen",
        "Strength": "400 mg",
        "Form": "tablet",
        "Batch": "IBU-LATE",
        "Expiry": "",
        "On hand": "100",
        "Unit cost": "0.06",
        "Unit price": "0.12",
        "Supplier": "Alliance Healthcare",
        "Status": "",
    }
    assert by_batch["'+EVIL-1"]["Drug"] == "'=HYPERLINK(evil)"
    assert (by_batch["SAL-1"]["Unit cost"], by_batch["SAL-1"]["Unit price"]) == ("2.25", "4.50")


def dispense_at(counter: Counter, when: datetime, *lines: tuple[int, str, int]):
    service = PharmacyService(counter.pharmacist.store, clock=lambda: when)
    chosen = [DispenseInput(line, counter.batches[b].id, q) for line, b, q in lines]
    return service.dispense(counter.pharmacist.actor, counter.rx.code, chosen)


def test_history_filters_by_local_date_text_and_pharmacist_and_exports_csv(counter):
    admin = counter.admin
    zone = "Pacific/Kiritimati"  # UTC+14: the local date is a day ahead of UTC at noon
    admin.clinic.update(admin.actor, replace(admin.clinic.details(), time_zone=zone))
    today = clinic_today(admin)
    noon = datetime.combine(today + timedelta(days=1), time(12), UTC)
    local_day = noon.astimezone(ZoneInfo(zone)).date()
    assert local_day == today + timedelta(days=2)
    dispense_at(counter, noon, (1, "ibuprofen_soon", 10), (2, "omeprazole", 28))
    other = add_pharmacist(admin, "pharmacist2", "Tomás Reyes")
    next_day = noon + timedelta(days=1)
    service = PharmacyService(other.store, clock=lambda: next_day)
    salbutamol = DispenseInput(3, counter.batches["salbutamol"].id, 1)
    service.dispense(other.actor, counter.rx.code, [salbutamol])
    ph = counter.pharmacist

    def shown(**where) -> list[tuple[str, int, str]]:
        rows = ph.pharmacy.history(ph.actor, HistoryFilter(**where))
        return [(r.prescribed.split()[0], r.quantity, r.by) for r in rows]

    assert shown() == [
        ("Salbutamol", 1, "Tomás Reyes"),
        ("Ibuprofen", 10, "Priya Shah"),
        ("Omeprazole", 28, "Priya Shah"),
    ]
    assert shown(since=local_day, until=local_day) == shown()[1:]
    assert shown(since=local_day + timedelta(days=1)) == shown()[:1]
    assert shown(until=local_day - timedelta(days=1)) == []
    assert shown(since=noon.date(), until=noon.date()) == []  # the UTC date is not the clinic's
    assert shown(text="ibupro") == [("Ibuprofen", 10, "Priya Shah")]
    assert shown(text="ΝΙΚΟΣ") == shown()  # the patient's name, case folded
    assert shown(text=counter.rx.reference_grouped) == shown()
    assert shown(text="OME-1") == [("Omeprazole", 28, "Priya Shah")]
    assert shown(pharmacist="tomas") == [("Salbutamol", 1, "Tomás Reyes")]
    assert shown(text="no such drug") == []

    rows = rows_of(ph.pharmacy.history_csv(ph.actor, HistoryFilter(since=local_day)))
    assert [r["Dispensed at"] for r in rows] == [
        f"{(local_day + timedelta(days=1)).isoformat()} 02:00",
        f"{local_day.isoformat()} 02:00",
        f"{local_day.isoformat()} 02:00",
    ]
    first = rows[1]
    assert first | {"Expiry": ""} == {
        "Dispensed at": f"{local_day.isoformat()} 02:00",
        "Reference": counter.rx.reference_grouped,
        "Patient": "Νίκος Παπαδόπουλος",
        "Prescribed": "Ibuprofen 400 mg tablet",
        "Given": "Ibuprofen 400 mg tablet",
        "Substituted": "no",
        "Batch": "IBU-SOON",
        "Expiry": "",
        "Quantity": "10",
        "Unit": "tablets",
        "Price": "1.20",
        "Currency": "GBP",
        "Pharmacist": "Priya Shah",
    }
    other.close()


def test_the_history_csv_never_runs_a_formula(counter):
    batch = formula_drug(counter)
    ph = counter.pharmacist
    ph.pharmacy.dispense(ph.actor, counter.rx.code, [DispenseInput(1, batch, 10)])
    [row] = rows_of(ph.pharmacy.history_csv(ph.actor))
    assert (row["Given"], row["Batch"], row["Substituted"]) == (
        "'=HYPERLINK(evil) 400 mg tablet",
        "'+EVIL-1",
        "yes",
    )

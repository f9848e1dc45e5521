"""Dispensing at the counter: part then the rest, never twice, all lines or none, FEFO, prices."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from clinicdesk.errors import ValidationError
from clinicdesk.services.formulary import DrugInput
from clinicdesk.services.inventory import BatchInput, BatchView
from clinicdesk.services.pharmacy_views import (
    REJECTED,
    SCANNER,
    VERIFIED,
    AlreadyDispensed,
    DispenseInput,
)
from clinicdesk.services.prescription_checks import NeedsAcknowledgement
from clinicdesk.services.prescription_views import DISPENSED, PARTLY
from tests.clinic_time import clinic_today
from tests.clinical.clinic_setup import three_items
from tests.pharmacy.pharmacy_setup import (
    Counter,
    counter_fixture,
    drug_id,
    recorded_scans,
    remaining,
    shelf,
)

counter = counter_fixture()


def batch(counter: Counter, name: str) -> str:
    return counter.batches[name].id


def give(counter: Counter, *lines: tuple[int, str, int]):
    ph = counter.pharmacist
    chosen = [DispenseInput(line, batch(counter, b), q) for line, b, q in lines]
    return ph.pharmacy.dispense(ph.actor, counter.rx.code, chosen)


def status(counter: Counter) -> str:
    return counter.doctor.prescriptions.get(counter.doctor.actor, counter.rx.id).status


def stock(counter: Counter, drug: str, number: str, strength: str, form: str) -> BatchView:
    """Another batch on the shelf (a different drug or strength)."""
    ph = counter.pharmacist
    received = ph.inventory.receive(
        ph.actor,
        BatchInput(
            drug_id(ph, drug),
            number,
            clinic_today(ph) + timedelta(days=30),
            10,
            100,
            200,
            strength,
            form,
        ),
    )
    counter.batches[number] = received
    return received


def refused(counter: Counter, lines, field: str, *words: str) -> None:
    """The dispense is refused for that item, in those words, and nothing changed."""
    before, left = shelf(counter), remaining(counter)
    with pytest.raises(ValidationError) as caught:
        give(counter, *lines)
    reason = caught.value.fields[field]
    for word in words:
        assert word in reason, reason
    assert field.capitalize() in caught.value.message
    assert (shelf(counter), remaining(counter)) == (before, left)


def test_part_now_the_rest_later_then_never_again(counter):
    ph = counter.pharmacist
    assert remaining(counter) == (15, 28, 2)
    first = give(counter, (1, "ibuprofen_soon", 10))
    assert remaining(counter) == (5, 28, 2)
    assert status(counter) == PARTLY
    give(counter, (1, "ibuprofen_late", 5))
    assert remaining(counter) == (0, 28, 2)
    verdict = ph.pharmacy.verdict(ph.actor, counter.rx.code)
    fills = verdict.items[0].fills
    assert [(f.quantity, f.batch_number, f.by) for f in fills] == [
        (10, "IBU-SOON", "Priya Shah"),
        (5, "IBU-LATE", "Priya Shah"),
    ]
    assert status(counter) == PARTLY
    last = give(counter, (2, "omeprazole", 28), (3, "salbutamol", 2))
    assert remaining(counter) == (0, 0, 0)
    assert status(counter) == DISPENSED
    before = shelf(counter)

    with pytest.raises(AlreadyDispensed) as caught:
        ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    message = caught.value.message
    assert f"dispensed in full on {last.at:%d %b %Y at %H:%M} by Priya Shah" in message
    assert caught.value.verdict.fully_dispensed
    [refusal] = recorded_scans(ph)
    assert (refusal.prescription_id, refusal.detail) == (counter.rx.id, message)
    assert [i.dispensed for i in caught.value.verdict.items] == [15, 28, 2]
    with pytest.raises(AlreadyDispensed):
        give(counter, (1, "ibuprofen_late", 1))
    assert shelf(counter) == before
    assert first.at <= last.at


def test_refills_allow_the_quantity_once_more_for_each(counter):
    verdict = counter.pharmacist.pharmacy.verdict(counter.pharmacist.actor, counter.rx.code)
    assert [(i.item.quantity, i.item.refills, i.allowed) for i in verdict.items] == [
        (15, 0, 15),
        (28, 0, 28),
        (1, 1, 2),
    ]
    give(counter, (3, "salbutamol", 1))
    give(counter, (3, "salbutamol", 1))
    refused(counter, [(3, "salbutamol", 1)], "item 3", "already been dispensed in full")


def test_each_bad_quantity_batch_or_drug_is_refused_naming_the_item(counter):
    stock(counter, "Salbutamol", "SAL-200", "200 micrograms per dose", "inhaler")
    refused(counter, [(1, "ibuprofen_late", 0)], "item 1", "at least 1")
    refused(counter, [(1, "ibuprofen_late", -3)], "item 1", "at least 1")
    refused(counter, [(1, "ibuprofen_late", 2.5)], "item 1", "a whole number")
    refused(counter, [(1, "ibuprofen_late", True)], "item 1", "a whole number")
    refused(counter, [("1", "ibuprofen_late", 1)], "items", "by its number on the prescription")
    refused(
        counter,
        [(1, "ibuprofen_late", 16)],
        "item 1",
        "only 15 tablets of Ibuprofen 400 mg tablet remain",
        "16 is more",
    )
    refused(counter, [(1, "ibuprofen_expired", 1)], "item 1", "IBU-OLD expired", "another batch")
    refused(counter, [(1, "ibuprofen_soon", 12)], "item 1", "IBU-SOON holds only 10")
    refused(counter, [(1, "omeprazole", 1)], "item 1", "Omeprazole is not Ibuprofen")
    refused(
        counter,
        [(3, "SAL-200", 1)],
        "item 3",
        "SAL-200 is 200 micrograms per dose inhaler",
        "not the prescribed 100 micrograms per dose inhaler",
    )
    refused(counter, [(4, "ibuprofen_late", 1)], "item 4", "not on this prescription")
    refused(counter, [(0, "ibuprofen_late", 1)], "item 0", "not on this prescription")
    refused(counter, [(1, "ibuprofen_late", 1), (1, "ibuprofen_soon", 1)], "item 1", "twice")
    counter.batches["gone"] = replace(counter.batches["ibuprofen_late"], id="no-such-batch")
    refused(counter, [(1, "gone", 1)], "item 1", "choose a batch from stock")
    with pytest.raises(ValidationError) as caught:
        counter.pharmacist.pharmacy.dispense(counter.pharmacist.actor, counter.rx.code, [])
    assert "items" in caught.value.fields
    assert remaining(counter) == (15, 28, 2)


def test_a_brand_with_the_same_ingredient_may_replace_only_where_substitution_is_allowed(counter):
    admin = counter.admin
    for brand in ("Nurofen", "Ventolin"):
        generic = "ibuprofen" if brand == "Nurofen" else "salbutamol"
        admin.formulary.add(admin.actor, DrugInput(brand, generic))
    stock(counter, "Ventolin", "VEN-1", "100 micrograms per dose", "inhaler")
    refused(counter, [(3, "VEN-1", 1)], "item 3", "did not allow substitution", "Salbutamol")

    stock(counter, "Nurofen", "NUR-1", "400 mg", "tablet")
    given = give(counter, (1, "NUR-1", 10))
    assert (given.lines[0].given, given.lines[0].substituted) == ("Nurofen 400 mg tablet", True)
    ph = counter.pharmacist
    [row] = ph.pharmacy.history(ph.actor)
    assert (row.prescribed, row.given, row.substituted) == (
        "Ibuprofen 400 mg tablet",
        "Nurofen 400 mg tablet",
        True,
    )
    assert ph.pharmacy.verdict(ph.actor, counter.rx.code).items[0].fills[0].substituted


def test_one_bad_line_records_none_of_the_lines(counter):
    before, left = shelf(counter), remaining(counter)
    with pytest.raises(ValidationError) as caught:
        give(
            counter,
            (1, "ibuprofen_soon", 10),
            (2, "omeprazole", 28),
            (3, "salbutamol", 3),
        )
    assert list(caught.value.fields) == ["item 3"]
    assert "only 2 inhaler" in caught.value.fields["item 3"]
    assert (shelf(counter), remaining(counter)) == (before, left)
    ph = counter.pharmacist
    assert ph.pharmacy.history(ph.actor) == []
    assert all(not i.fills for i in ph.pharmacy.verdict(ph.actor, counter.rx.code).items)


def test_each_line_costs_its_unit_price_times_quantity_and_the_total_adds_up(counter):
    given = give(counter, (1, "ibuprofen_soon", 10), (2, "omeprazole", 28), (3, "salbutamol", 2))
    assert [(x.line, x.unit_price, x.quantity, x.price) for x in given.lines] == [
        (1, 12, 10, 120),
        (2, 20, 28, 560),
        (3, 450, 2, 900),
    ]
    assert (given.total, given.currency) == (1580, "GBP")
    again = counter.pharmacist.pharmacy.get_dispense(counter.pharmacist.actor, given.id)
    assert again == given
    assert shelf(counter).on_hand == {
        "IBU-SOON": 0,
        "IBU-LATE": 100,
        "IBU-OLD": 20,
        "OME-1": 28,
        "SAL-1": 3,
    }


def test_batches_are_offered_soonest_expiry_first_never_expired_only_the_prescribed_strength(
    counter,
):
    stock(counter, "Ibuprofen", "IBU-200", "200 mg", "tablet")  # expires before IBU-SOON
    ph = counter.pharmacist
    offered = ph.pharmacy.verdict(ph.actor, counter.rx.code).items[0].batches
    assert [b.batch_number for b in offered] == ["IBU-SOON", "IBU-LATE"]
    assert offered[0].expiry < offered[1].expiry
    give(counter, (1, "ibuprofen_soon", 10))
    offered = ph.pharmacy.verdict(ph.actor, counter.rx.code).items[0].batches
    assert [b.batch_number for b in offered] == ["IBU-LATE"]  # the empty one goes


def test_another_strength_is_never_given_even_where_substitution_is_allowed(counter):
    stock(counter, "Ibuprofen", "IBU-200", "200 mg", "tablet")
    refused(counter, [(1, "IBU-200", 10)], "item 1", "IBU-200 is 200 mg tablet", "400 mg tablet")


def test_products_with_the_same_ingredients_are_offered_as_substitutes_where_allowed(counter):
    admin = counter.admin
    for brand, generic in (("Nurofen", "ibuprofen"), ("Ventolin", "salbutamol")):
        admin.formulary.add(admin.actor, DrugInput(brand, generic))
    stock(counter, "Nurofen", "NUR-1", "400 mg", "tablet")
    stock(counter, "Nurofen", "NUR-2", "200 mg", "tablet")
    stock(counter, "Ventolin", "VEN-1", "100 micrograms per dose", "inhaler")
    ph = counter.pharmacist
    items = ph.pharmacy.verdict(ph.actor, counter.rx.code).items
    assert [b.batch_number for b in items[0].substitutes] == ["NUR-1"]
    assert items[1].substitutes == ()  # nothing else has omeprazole alone
    assert items[2].substitutes == ()  # the prescriber did not allow substitution


def test_every_scan_is_counted_and_kept_in_the_history_a_reread_is_not(counter):
    ph = counter.pharmacist
    first = ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    second = ph.pharmacy.scan(ph.actor, counter.rx.code, SCANNER)
    assert (first.scans, second.scans) == (1, 2)
    assert [e.kind for e in second.history] == [VERIFIED, VERIFIED]
    reread = ph.pharmacy.verdict(ph.actor, counter.rx.code)
    assert reread.scans == 2 and len(reread.history) == 2


def test_declining_to_dispense_needs_a_reason_and_is_kept(counter):
    ph = counter.pharmacist
    with pytest.raises(ValidationError) as caught:
        ph.pharmacy.reject(ph.actor, counter.rx.code, "   ")
    assert "say why" in caught.value.fields["reason"]
    ph.pharmacy.reject(ph.actor, counter.rx.code, "  patient is taking warfarin  ")
    [event] = ph.pharmacy.verdict(ph.actor, counter.rx.code).history
    assert (event.kind, event.detail, event.by, event.label) == (
        REJECTED,
        "patient is taking warfarin",
        "Priya Shah",
        "Not dispensed",
    )
    assert remaining(counter) == (15, 28, 2)


def test_a_batch_whose_strength_was_not_recorded_is_not_given_for_a_named_strength(counter):
    stock(counter, "Ibuprofen", "IBU-BLANK", "", "tablet")
    ph = counter.pharmacist
    offered = ph.pharmacy.verdict(ph.actor, counter.rx.code).items[0].batches
    assert "IBU-BLANK" not in [b.batch_number for b in offered]
    refused(counter, [(1, "IBU-BLANK", 1)], "item 1", "IBU-BLANK is tablet", "400 mg tablet")


def test_two_items_drawing_on_one_batch_cannot_take_more_than_it_holds(counter):
    """Both items of ibuprofen from IBU-SOON (10 tablets): 6 + 6 is refused in words, 5 + 5 is
    given."""
    doctor = counter.doctor
    twice = [replace(three_items()[0], quantity=6), replace(three_items()[0], quantity=6)]
    with pytest.raises(NeedsAcknowledgement) as asked:
        doctor.prescriptions.write(doctor.actor, counter.consultation.visit.id, twice)
    reasons = {w.key: "Two courses on purpose" for w in asked.value.warnings}
    rx = doctor.prescriptions.write(doctor.actor, counter.consultation.visit.id, twice, reasons)
    ph = counter.pharmacist
    soon = counter.batches["ibuprofen_soon"].id
    with pytest.raises(ValidationError) as caught:
        ph.pharmacy.dispense(
            ph.actor, rx.code, [DispenseInput(1, soon, 6), DispenseInput(2, soon, 6)]
        )
    assert "IBU-SOON holds only 10" in caught.value.fields["item 2"]
    assert shelf(counter).on_hand["IBU-SOON"] == 10
    given = ph.pharmacy.dispense(
        ph.actor, rx.code, [DispenseInput(1, soon, 5), DispenseInput(2, soon, 5)]
    )
    assert [x.quantity for x in given.lines] == [5, 5]
    assert shelf(counter).on_hand["IBU-SOON"] == 0


def prescribe(counter: Counter, **item):
    """A new one-item prescription for the counter's patient (ibuprofen, changed by ``item``)."""
    doctor = counter.doctor
    items = [replace(three_items()[0], instructions="", **item)]
    visit = counter.consultation.visit.id
    try:
        return doctor.prescriptions.write(doctor.actor, visit, items)
    except NeedsAcknowledgement as asked:
        reasons = {w.key: "On purpose" for w in asked.warnings}
        return doctor.prescriptions.write(doctor.actor, visit, items, reasons)


def dispense_refused(counter: Counter, code: str, batch_id: str, *words: str) -> None:
    ph = counter.pharmacist
    before = shelf(counter)
    with pytest.raises(ValidationError) as caught:
        ph.pharmacy.dispense(ph.actor, code, [DispenseInput(1, batch_id, 10)])
    for word in words:
        assert word in caught.value.fields["item 1"], caught.value.fields["item 1"]
    assert shelf(counter) == before


def test_a_decimal_point_in_the_strength_counts_two_point_five_is_not_twenty_five(counter):
    rx = prescribe(counter, drug="Prednisolone", strength="2.5 mg", substitution=True)
    ten_times = stock(counter, "Prednisolone", "PRED-25", "25 mg", "tablet")
    same = stock(
        counter, "Prednisolone", "PRED-2,5", "2,5 mg", "Tablet"
    )  # written the European way
    ph = counter.pharmacist
    offered = ph.pharmacy.verdict(ph.actor, rx.code).items[0].batches
    assert [b.batch_number for b in offered] == ["PRED-2,5"]
    dispense_refused(counter, rx.code, ten_times.id, "PRED-25 is 25 mg tablet", "2.5 mg tablet")
    given = ph.pharmacy.dispense(ph.actor, rx.code, [DispenseInput(1, same.id, 10)])
    assert (given.lines[0].batch_number, given.lines[0].substituted) == ("PRED-2,5", False)


def test_a_drug_named_by_part_of_a_longer_name_is_not_the_prescribed_drug(counter):
    """'Paracetamol and codeine' written by hand is not plain paracetamol: giving paracetamol
    is refused, even where the prescriber left the strength out."""
    rx = prescribe(counter, drug="Paracetamol and codeine", strength="", substitution=False)
    plain = stock(counter, "Paracetamol", "PARA-1", "500 mg", "tablet")
    ph = counter.pharmacist
    item = ph.pharmacy.verdict(ph.actor, rx.code).items[0]
    assert item.batches == () and item.substitutes == ()
    dispense_refused(counter, rx.code, plain.id, "Paracetamol is not Paracetamol and codeine")


def test_free_text_takes_a_product_with_all_the_ingredients_it_names_and_no_fewer(counter):
    rx = prescribe(counter, drug="Zapain codeine and paracetamol", strength="", substitution=True)
    codeine = stock(counter, "Codeine", "COD-1", "30 mg", "tablet")
    dispense_refused(counter, rx.code, codeine.id, "Codeine is not Zapain")
    both = stock(counter, "Co-codamol", "COC-1", "30 mg/500 mg", "tablet")
    ph = counter.pharmacist
    given = ph.pharmacy.dispense(ph.actor, rx.code, [DispenseInput(1, both.id, 10)])
    assert (given.lines[0].given, given.lines[0].substituted) == (
        "Co-codamol 30 mg/500 mg tablet",
        True,
    )

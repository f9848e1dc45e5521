"""Reference numbers: every mistyped digit and every swap of neighbours is caught, and the
pharmacy finds a prescription by its number typed the way people type it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from clinic_setup import Consultation, new_clinic, three_items, walk_in_consultation
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicdesk.errors import NotFound, ValidationError
from clinicdesk.rx import reference
from clinicdesk.services.prescription_views import PrescriptionView

bodies = st.integers(0, 10**reference.BODY_DIGITS - 1).map(
    lambda n: f"{n:0{reference.BODY_DIGITS}d}"
)


def substitutions(number: str) -> Iterator[str]:
    for pos, digit in enumerate(number):
        for other in "0123456789":
            if other != digit:
                yield number[:pos] + other + number[pos + 1 :]


def transpositions(number: str) -> Iterator[str]:
    for pos in range(len(number) - 1):
        a, b = number[pos], number[pos + 1]
        if a != b:
            yield number[:pos] + b + a + number[pos + 2 :]


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_every_wrong_digit_and_every_swap_of_neighbours_is_caught(body):
    number = body + reference.check_digits(body)
    assert reference.is_valid(number)
    wrong = list(substitutions(number))
    assert len(wrong) == 9 * reference.LENGTH
    assert not any(reference.is_valid(w) for w in wrong)
    assert not any(reference.is_valid(t) for t in transpositions(number))


def test_new_references_are_twelve_digits_that_check():
    numbers = {reference.new_reference() for _ in range(300)}
    assert len(numbers) == 300
    for number in numbers:
        assert len(number) == reference.LENGTH and number.isdigit()
        assert reference.is_valid(number)
        assert not any(reference.is_valid(w) for w in substitutions(number))
        assert not any(reference.is_valid(t) for t in transpositions(number))


# the last: a valid number in full-width digits, which Python counts as digits too
@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "1234567890123",
        "12345678901a",
        "".join(chr(0xFF10 + int(d)) for d in "000000000098"),
    ],
)
def test_numbers_of_the_wrong_shape_are_not_valid(typed):
    assert not reference.is_valid(typed)


def test_printed_in_groups_of_four():
    assert reference.grouped("482105739916") == "4821 0573 9916"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Iterator[tuple[Consultation, PrescriptionView]]:
    admin = new_clinic(tmp_path_factory.mktemp("reference") / "clinic")
    consultation = walk_in_consultation(admin)
    doctor = consultation.doctor
    yield (
        consultation,
        doctor.prescriptions.write(doctor.actor, consultation.visit.id, three_items()),
    )
    doctor.close()
    admin.close()


@pytest.mark.parametrize("spelling", ["bare", "grouped", "dashes", "padded"])
def test_the_right_number_finds_the_prescription_however_it_is_spaced(written, spelling):
    c, rx = written
    typed = {
        "bare": rx.reference,
        "grouped": rx.reference_grouped,
        "dashes": rx.reference_grouped.replace(" ", "-"),
        "padded": f"  {rx.reference_grouped}\t",
    }[spelling]

    found = c.doctor.prescriptions.find_by_reference(c.doctor.actor, typed)

    assert found.id == rx.id
    assert [i.drug for i in found.items] == ["Ibuprofen", "Omeprazole", "Salbutamol"]


def test_a_typo_in_the_number_says_a_digit_is_wrong(written):
    c, rx = written
    typos = [next(substitutions(rx.reference)), *list(transpositions(rx.reference))[:1]]
    typos.append(rx.reference[:-1])  # a digit left out
    for typo in typos:
        with pytest.raises(ValidationError) as refused:
            c.doctor.prescriptions.find_by_reference(c.doctor.actor, reference.grouped(typo))
        assert refused.value.fields == {
            "reference": "is not a valid reference number: a digit is wrong or missing "
            "(it has 12 digits; check each one)"
        }


def test_a_valid_number_of_no_prescription_here_is_not_found(written):
    c, rx = written
    body = f"{(int(rx.reference[:10]) + 1) % 10**10:010d}"
    other = body + reference.check_digits(body)

    with pytest.raises(NotFound) as refused:
        c.doctor.prescriptions.find_by_reference(c.doctor.actor, other)

    assert "scan the code if it is from another clinic" in refused.value.message

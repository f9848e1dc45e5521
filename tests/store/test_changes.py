"""The change feed screens follow: told after a commit which patients' rows changed; never told
of a refused or rolled-back change, nor of a mere read (which would make screens reload forever)."""

from __future__ import annotations

from datetime import date

import pytest

from clinicdesk.changes import Change
from clinicdesk.errors import ValidationError
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.models import Allergy

PENICILLIN = {"substance": "Penicillin", "reaction": "Hives", "severity": "severe"}


@pytest.fixture
def patient_id(admin) -> str:
    return admin.patients.register(
        admin.actor,
        PatientInput("Ines", "Berg", date(1980, 1, 1), "female"),
        not_a_duplicate=True,
    ).id


@pytest.fixture
def heard(admin) -> list[Change]:
    changes: list[Change] = []
    stop = admin.store.changes.subscribe(changes.append)
    yield changes
    stop()


def test_a_committed_change_names_the_patient_and_its_tables(admin, patient_id, heard):
    entry = admin.chart.add(admin.actor, patient_id, "allergies", PENICILLIN)
    [added] = heard
    assert added.touches(patient_id, frozenset({"allergies"}))
    assert not added.touches(patient_id, frozenset({"conditions"}))
    assert not added.touches("another patient")

    admin.chart.remove(admin.actor, "allergies", entry.id, "entered in error")
    assert len(heard) == 2 and heard[1].touches(patient_id, frozenset({"allergies"}))


def test_reads_refusals_and_rollbacks_tell_nothing(admin, patient_id, heard):
    admin.chart.open(admin.actor, patient_id)  # audited, but no patient data changes
    admin.chart.allergies(admin.actor, patient_id)
    with pytest.raises(ValidationError):
        admin.chart.add(admin.actor, patient_id, "allergies", PENICILLIN | {"severity": "?"})
    with pytest.raises(RuntimeError), admin.store.write(admin.actor) as s:
        s.add(Allergy(patient_id=patient_id, substance="Latex", reaction="", severity="mild"))
        s.flush()
        raise RuntimeError("the unit of work fails after its flush")

    assert heard == []
    assert admin.chart.allergies(admin.actor, patient_id) == []


def test_a_failing_listener_never_fails_the_committed_change(admin, patient_id, heard):
    def broken(_change: Change) -> None:
        raise RuntimeError("a screen that went away")

    stop = admin.store.changes.subscribe(broken)
    try:
        admin.chart.add(admin.actor, patient_id, "allergies", PENICILLIN)
    finally:
        stop()
    assert len(heard) == 1  # the other listeners are still told
    assert [e.values["substance"] for e in admin.chart.allergies(admin.actor, patient_id)] == [
        "Penicillin"
    ]


def test_a_commit_names_every_synced_row_it_touched_by_table_and_id(admin, patient_id, heard):
    entry = admin.queue.add_walk_in(admin.actor, patient_id)
    [queued] = heard
    assert ("queue_entries", entry.id) in queued.entities
    assert "queue_entries" in queued.tables


def test_another_desks_commit_is_told_through_the_outbox_watch(admin, patient_id, heard):
    from clinicdesk.services.access import sign_in
    from clinicdesk.store.change_watch import ChangeWatch
    from tests.conftest import ADMIN_PASSWORD

    other = sign_in(admin.folder, "admin", ADMIN_PASSWORD)  # its own store: another desk
    try:
        watch = ChangeWatch(admin.store)
        watch.start()
        watch.stop()  # checked by hand below, so the test never waits on the thread
        entry = other.queue.add_walk_in(other.actor, patient_id)
        assert heard == []  # this desk's feed knows nothing of the other desk's commit ...
        told = watch.check()  # ... until its watch reads the outbox
        assert told is not None and ("queue_entries", entry.id) in told.entities
        assert heard == [told]
        assert watch.check() is None  # told once
    finally:
        other.close()

"""Three to five desks of one clinic register and edit patients, drop offline and come back, and
lose answers to the network, in orders Hypothesis chooses (a rule-based state machine against
the real server over HTTPS; each desk in a folder of its own with its own encrypted database,
behind a proxy of its own that can cut it off).

Once every desk is back and has synced twice in turn:

- the server's log holds every change made, once: each op once, and each edit of a patient as
  one change (a change whose answer was lost and was sent again is not there twice);
- every desk has sent all it made and stands at the log's head;
- every desk holds every patient registered anywhere;
- a patient edited at one desk at a time is the same at every desk: the newest edit, its
  version and its fields, as in the server's log;
- an edit that met a concurrent edit of the same patient is, at every desk, what the desk shows
  or kept in its ``sync_conflicts`` (itself, or an edit built on it): never lost without a word;
- nothing is kept for review where nothing was edited concurrently.

The model records every edit with the edit it was made from (what that desk showed when the
edit was made), so what a desk shows is always traced back to edits that were made.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from clinicdesk.ids import new_id
from clinicdesk.permissions import Role
from clinicdesk.services.access import AdminAccount, ClinicSession, create_clinic, sign_in
from clinicdesk.services.patients import PatientInput
from clinicdesk.store.models import Patient, SyncConflict
from clinicdesk.sync import chain, client, desk
from clinicdesk.sync.apply import LINK, cursor, set_meta
from clinicdesk.sync.client import Offline
from clinicdesk.sync.protocol import PulledChange
from clinicdesk.sync.server.store import AuthedDevice, ServerStore
from tests.conftest import ADMIN_PASSWORD, DETAILS, FAST_KDF, STAFF_PASSWORD
from tests.sync.conftest import BACKENDS, RunningServer, connect, register
from tests.sync.proxy import Fault, FaultyProxy

MOST_DESKS = 5
FIELDS = ("address", "phone")


class KnownFaults(AssertionError):
    """What the examples met of the faults known so far (``KNOWN_FAULTS``), told at the end."""


# Faults known so far, told once every example has run (see ``run``), so that their first
# example does not end the search for others. It has a short case in test_desks_apart.py.
PATIENT_MISSING = "a desk lacks a patient registered at another desk"


@dataclass(frozen=True)
class Edit:
    """A patient as one desk saved it: registered (``parent`` None) or edited from ``parent``."""

    desk: int
    patient: str
    version: int
    address: str
    phone: str
    parent: Edit | None

    @property
    def state(self) -> tuple[str, int, str, str]:
        return (self.patient, self.version, self.address, self.phone)

    def lineage(self) -> list[Edit]:
        """This edit and every edit it was built on."""
        edits, at = [], self
        while at is not None:
            edits.append(at)
            at = at.parent
        return edits


@dataclass
class Room:
    """What every example of one test shares: the server, a clinic folder not yet connected
    (its admin and one member of staff per further desk), a proxy per desk, and its folder."""

    server: RunningServer
    server_store: ServerStore
    template: Path
    proxies: list[FaultyProxy]
    folder: Path
    known: dict[str, list[str]] = field(default_factory=dict)  # known faults met, by fault


def make_template(folder: Path) -> Path:
    create_clinic(folder, DETAILS, AdminAccount("admin", "Ada Admin", ADMIN_PASSWORD), kdf=FAST_KDF)
    admin = sign_in(folder, "admin", ADMIN_PASSWORD)
    try:
        for number in range(1, MOST_DESKS):
            admin.users.create(
                admin.actor,
                f"desk{number}",
                f"Desk {number} Staff",
                {Role.RECEPTIONIST},
                STAFF_PASSWORD,
                must_change_password=False,
            )
        for family in ("Adeyemi", "Baptiste"):  # at every desk from the start, to edit
            register(admin, "Ife", family)
    finally:
        admin.close()
    return folder


def held(session: ClinicSession) -> dict[str, tuple[str, int, str, str]]:
    """The patients this desk holds, by id: (id, version, address, phone)."""
    with session.store.read() as s:
        rows = s.execute(select(Patient.id, Patient.version, Patient.address, Patient.phone))
        return {r.id: (r.id, r.version, r.address, r.phone) for r in rows}


def kept(session: ClinicSession) -> dict[str, set[tuple[str, int, str, str]]]:
    """Patients' states this desk keeps for review in ``sync_conflicts`` (both sides), by id."""
    found: dict[str, set[tuple[str, int, str, str]]] = {}
    with session.store.read() as s:
        for c in s.scalars(select(SyncConflict).where(SyncConflict.entity == "patients")):
            for version, payload in (
                (c.remote_version, c.remote_payload),
                (c.local_version, c.local_payload),
            ):
                if payload:
                    row = json.loads(payload)
                    state = (c.entity_id, version, row["address"], row["phone"])
                    found.setdefault(c.entity_id, set()).add(state)
    return found


class DesksOfOneClinic(RuleBasedStateMachine):
    room: Room  # set by ``machine_for``

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(dir=self.room.folder))
        self.sessions: list[ClinicSession] = []
        self.online: list[bool] = []
        self.edits: dict[tuple[str, int, str, str], Edit] = {}
        self.made = 0
        self.stepped = True  # False while a step runs: the final check runs after whole steps
        self.steps: list[str] = []  # what was done, in words, for the known faults' report

    # ---- setting up ----

    @initialize(count=st.integers(3, MOST_DESKS))
    def open_desks(self, count: int) -> None:
        """Desk 0 makes a clinic space of its own and sends the clinic; the others start as
        copies of it as the server holds it, each with a device of its own (as ``two_desks``)."""
        self.stepped = False
        room = self.room
        space = new_id()  # a space of its own per example: the desks' folders hold another id
        made = room.server.operator(
            "/v1/clinics",
            {"clinic_id": space, "clinic_name": DETAILS.name, "device_name": "Desk 0"},
        )
        assert made.status_code == 200, made.text
        self.space, self.first_device = space, made.json()["device_id"]
        first = self.folder / "desk-0"
        shutil.copytree(room.template, first)
        opened = sign_in(first, "admin", ADMIN_PASSWORD)
        try:
            connect(opened, room.server, made.json(), room.proxies[0].url)
            with opened.store.write() as s:  # the log's chain starts from the space's own id
                set_meta(s, LINK, chain.genesis(space))
            desk.sync(opened.store, opened.payload_cipher())
            assert desk.waiting(opened.store) == 0
        finally:
            opened.close()
        for number in range(1, count):
            shutil.copytree(first, self.folder / f"desk-{number}")
        for number in range(count):
            room.proxies[number].set(Fault.NONE)
            if number == 0:
                session = sign_in(first, "admin", ADMIN_PASSWORD)
            else:
                session = sign_in(self.folder / f"desk-{number}", f"desk{number}", STAFF_PASSWORD)
                device = room.server_store.add_device(space, f"Desk {number}")
                answer = {
                    "device_id": device.device_id,
                    "token": device.token,
                    "epoch": room.server_store.epoch(),
                }
                connect(session, room.server, answer, room.proxies[number].url)
            self.sessions.append(session)
            self.online.append(True)
        for state in held(self.sessions[0]).values():
            self._record(0, state, None)
        self.steps.append(f"{count} desks")
        self.stepped = True

    # ---- what staff and the network do ----

    def _desk(self, which: int) -> tuple[int, ClinicSession]:
        number = which % len(self.sessions)
        return number, self.sessions[number]

    def _record(self, number: int, state: tuple[str, int, str, str], parent: Edit | None) -> None:
        self.made += 1
        patient, version, address, phone = state
        edit = Edit(number, patient, version, address, phone, parent)
        assert edit.state not in self.edits
        self.edits[edit.state] = edit

    @rule(which=st.integers(0, MOST_DESKS - 1))
    def register_patient(self, which: int) -> None:
        self.stepped = False
        number, session = self._desk(which)
        patient = register(session, "Amara", f"Okafor{self.made}")
        self.steps.append(f"{number} registers")
        self._record(number, held(session)[patient], None)
        self.stepped = True

    @rule(
        which=st.integers(0, MOST_DESKS - 1),
        pick=st.integers(0, 50),
        field=st.sampled_from(FIELDS),
        caught_up=st.booleans(),
    )
    def edit_patient(self, which: int, pick: int, field: str, caught_up: bool) -> None:
        """A patient's address or phone changed at this desk, from the version it shows; with
        ``caught_up``, an online desk has first synced (as its runner does within a second)."""
        self.stepped = False
        number, session = self._desk(which)
        if caught_up and self.online[number]:
            self.steps.append(f"{number} sync")
            self._sync(session, "sync")
        rows = sorted(held(session).values())
        if rows:
            patient, version, _, _ = rows[pick % len(rows)]
            parent = self.edits[rows[pick % len(rows)]]
            value = (
                f"{self.made} Harbour Road, Springfield"
                if field == "address"
                else f"+44 20 7946 {self.made:04d}"
            )
            record = session.patients.get(session.actor, patient)
            data = PatientInput(**{**record.as_input().__dict__, field: value})
            saved = session.patients.update(session.actor, patient, data, version)
            self.steps.append(f"{number} edits {patient[-4:]} v{version}")
            assert saved.version == version + 1
            self._record(number, held(session)[patient], parent)
        self.stepped = True

    @rule(which=st.integers(0, MOST_DESKS - 1))
    def offline_or_back(self, which: int) -> None:
        """The desk loses its network, or gets it back."""
        number, _ = self._desk(which)
        self.online[number] = not self.online[number]
        self.steps.append(f"{number} {'back' if self.online[number] else 'offline'}")
        self.room.proxies[number].set(Fault.NONE if self.online[number] else Fault.REFUSE)

    @rule(which=st.integers(0, MOST_DESKS - 1), how=st.sampled_from(["sync", "pull", "push"]))
    def sync(self, which: int, how: str) -> None:
        """Push then pull, or only one of them; offline, it fails in words and changes nothing."""
        self.stepped = False
        number, session = self._desk(which)
        before = (desk.waiting(session.store), cursor(session.store), held(session))
        self.steps.append(f"{number} {how}")
        if self.online[number]:
            self._sync(session, how)
        else:
            try:
                self._sync(session, how)
            except Offline:
                pass
            else:  # only a push of nothing asks nothing of the server
                assert how == "push" and before[0] == 0, "a desk offline reached the server"
            after = (desk.waiting(session.store), cursor(session.store), held(session))
            assert after == before
        self.stepped = True

    @rule(which=st.integers(0, MOST_DESKS - 1))
    def answer_lost(self, which: int) -> None:
        """The desk's request reaches the server, its answer is lost on the way back: the desk
        cannot tell whether its push was taken."""
        self.stepped = False
        number, session = self._desk(which)
        if self.online[number]:
            if desk.waiting(session.store):
                event("a push whose answer was lost")
            self.room.proxies[number].set(Fault.DROP)
            self.steps.append(f"{number} answer lost")
            try:
                with pytest.raises(Offline):
                    desk.sync(session.store, session.payload_cipher())
            finally:
                self.room.proxies[number].set(Fault.NONE)
        self.stepped = True

    @staticmethod
    def _sync(session: ClinicSession, how: str) -> None:
        cipher = session.payload_cipher()
        if how == "sync":
            desk.sync(session.store, cipher)
            return
        link = desk.connection(session.store)
        assert link is not None
        each = link.client()
        try:
            if how == "push":
                desk.push(session.store, each, cipher)
            else:
                desk.pull(session.store, each, cipher)
        finally:
            each.close()

    # ---- what holds all along ----

    @invariant()
    def desks_show_only_edits_that_were_made(self) -> None:
        for number, session in enumerate(self.sessions):
            for state in held(session).values():
                assert state in self.edits, f"desk {number} shows {state}, which no desk saved"

    # ---- what holds once every desk is back ----

    def teardown(self) -> None:
        try:
            if self.stepped and self.sessions:
                self.all_back_and_synced()
                self.check_in_step()
        finally:
            for session in self.sessions:
                session.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def all_back_and_synced(self) -> None:
        for number in range(len(self.sessions)):
            self.room.proxies[number].set(Fault.NONE)
            self.online[number] = True
        for _round in range(2):
            for session in self.sessions:
                desk.sync(session.store, session.payload_cipher())

    def server_log(self) -> list[PulledChange]:
        reader = AuthedDevice(self.first_device, self.space, "reader")
        changes: list[PulledChange] = []
        while True:
            page = self.room.server_store.pull(reader, changes[-1].seq if changes else 0)
            changes += page.changes
            if not page.more:
                return changes

    def check_in_step(self) -> None:
        log = self.server_log()
        ops = Counter(c.change.op_id for c in log)
        assert max(ops.values()) == 1, "an op was appended twice"
        others = Counter(
            (c.change.entity, c.change.entity_id, c.change.version)
            for c in log
            if c.change.entity != "patients"
        )
        twice = sorted(v for v, n in others.items() if n > 1)
        assert not twice, f"a version of a row was sent twice: {twice[:5]}"
        cipher = self.sessions[0].payload_cipher()
        sent: Counter[tuple[str, int, str, str]] = Counter()
        newest: dict[str, tuple[str, int, str, str]] = {}
        for pulled in log:
            c = pulled.change
            if c.entity == "patients":
                row = json.loads(
                    cipher.open(c.entity, c.entity_id, c.version, c.deleted, c.key_gen, c.payload)
                )
                state = (c.entity_id, c.version, row["address"], row["phone"])
                sent[state] += 1
                if c.entity_id not in newest or c.version > newest[c.entity_id][1]:
                    newest[c.entity_id] = state
        made = Counter(list(self.edits))
        assert sent == made, (
            f"the server's log holds {sorted((sent - made).elements())} beyond the edits made, "
            f"and lacks {sorted((made - sent).elements())}"
        )

        head = log[-1].seq
        for number, session in enumerate(self.sessions):
            assert desk.waiting(session.store) == 0, f"desk {number} still has changes to send"
            assert cursor(session.store) == head, f"desk {number} is not at the log's head"

        registered = {e.patient for e in self.edits.values()}
        shown = [held(session) for session in self.sessions]
        review = [kept(session) for session in self.sessions]
        concurrent = 0
        for patient in sorted(registered):
            edits = [e for e in self.edits.values() if e.patient == patient]
            at = [n for n in range(len(self.sessions)) if patient in shown[n]]  # the rest: below
            if max(Counter(e.version for e in edits).values()) == 1:  # one desk at a time
                event("a patient edited at one desk at a time")
                last = max(edits, key=lambda e: e.version)
                assert newest[patient] == last.state
                for number in at:
                    assert shown[number][patient] == last.state, (
                        f"desk {number} shows {shown[number][patient]} of a patient edited at "
                        f"one desk at a time; the newest edit is {last.state}"
                    )
                    assert patient not in review[number], (
                        f"desk {number} keeps for review a patient no two desks edited at once"
                    )
                continue
            event("a patient edited at two desks at once")
            concurrent += 1
            for number in at:
                aside = review[number].get(patient, set())
                assert aside <= self.edits.keys(), f"desk {number} keeps what no desk saved"
                there = {shown[number][patient], *aside}  # with what each was built on
                built_on = {e.state for state in there for e in self.edits[state].lineage()}
                for edit in edits:
                    assert edit.state in built_on, (
                        f"desk {number} neither shows nor keeps for review the edit "
                        f"{edit.state} made at desk {edit.desk}, nor one built on it; it shows "
                        f"{shown[number][patient]} and keeps {sorted(aside)}"
                    )

        target(float(concurrent), label="patients edited at two desks at once")
        for number in range(len(self.sessions)):
            lacking = registered - set(shown[number])
            if lacking:
                self.found(
                    PATIENT_MISSING,
                    f"desk {number} of {len(self.sessions)} lacks patients {sorted(lacking)} "
                    f"(kept for review there: {sorted(set(review[number]) & lacking)})",
                )

    def found(self, fault: str, what: str) -> None:
        """A known fault met: kept with the steps that led to it, told when the run is over."""
        self.room.known.setdefault(fault, []).append(f"{what}\n  after: {', '.join(self.steps)}")


def machine_for(room: Room) -> type[DesksOfOneClinic]:
    return type("DesksOfOneClinic", (DesksOfOneClinic,), {"room": room})


@pytest.fixture
def room(server: RunningServer, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(client, "BACKOFF", 0.05)  # an offline desk gives up at once
    proxies = [FaultyProxy(server.port) for _ in range(MOST_DESKS)]
    server_store = ServerStore(server.db_url)
    try:
        template = make_template(tmp_path / "template")
        yield Room(server, server_store, template, proxies, tmp_path)
    finally:
        server_store.close()
        for proxy in proxies:
            proxy.close()


def run(room: Room, examples: int, steps: int, shrink: bool) -> None:
    """Derandomized, so a run in CI is the same each time; shrinking (minutes with these
    examples) only in the long run: the everyday one reports a failing example as it was.
    The known faults are told once every example has run."""
    phases = [Phase.explicit, Phase.generate, Phase.target]
    phases += [Phase.shrink, Phase.explain] if shrink else []
    run_state_machine_as_test(
        machine_for(room),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            database=None,
            phases=phases,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    if room.known:
        raise KnownFaults(
            "\n".join(
                f"{fault}, {len(met)} times; the first: {met[0]}"
                for fault, met in room.known.items()
            )
        )


# Until the known faults are mended (then this mark goes: strict, it fails once they are),
# nothing else may fail these tests.
KNOWN_FAULTS = pytest.mark.xfail(
    raises=KnownFaults,
    strict=True,
    reason="desks apart hand out the same record number, and the second patient is kept for "
    "review (numbers per desk come with the next issue)",
)


@KNOWN_FAULTS
@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_desks_editing_offline_and_back_converge_and_lose_nothing(room):
    run(room, examples=10, steps=20, shrink=False)


@KNOWN_FAULTS
@pytest.mark.long
@pytest.mark.parametrize("server", BACKENDS, indirect=True)
def test_desks_editing_offline_and_back_at_length(room):
    run(room, examples=30, steps=40, shrink=True)

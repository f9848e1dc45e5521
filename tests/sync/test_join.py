"""Adding a workstation with a join code: the admin's desk makes a code, a new PC joins with it
through the real server, pulls the whole clinic, and its staff sign in there with their own
passwords. Refused codes change nothing, on the server or on the new PC's disk."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinicdesk.errors import WrongPassword
from clinicdesk.permissions import Role
from clinicdesk.services.access import ClinicSession, FolderState, folder_state, sign_in
from clinicdesk.store.keyslots import SLOTS_FILE
from clinicdesk.store.models import Drug, SigningKey
from clinicdesk.sync import desk, join
from clinicdesk.sync.apply import cursor
from clinicdesk.sync.join_code import JoinCodeError, code_keys, new_code, read_code
from clinicdesk.sync.protocol import CodeExpired, CodeUsed, UnknownCode
from clinicdesk.sync.server.models import JoinCode
from clinicdesk.sync.server.store import ServerStore
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD
from tests.sync.conftest import (
    DESK_BACKENDS,
    Desk,
    RunningServer,
    connect,
    https,
    libpq_url,
    patients_at,
    register,
    server_head,
)


def connected_clinic(folder: Path, server: RunningServer) -> ClinicSession:
    """The clinic in ``folder``, with a second member of staff and two patients, connected to
    the server with everything sent; the admin's session (the caller closes it)."""
    admin = sign_in(folder, "admin", ADMIN_PASSWORD)
    admin.users.create(
        admin.actor, "ben", "Ben Okoro", {Role.DOCTOR}, STAFF_PASSWORD, must_change_password=False
    )
    register(admin, "Maren", "Lindqvist")
    register(admin, "Tomas", "Brandt")
    made = server.operator(
        "/v1/clinics",
        {"clinic_id": admin.slots.clinic_id, "clinic_name": "Sunrise", "device_name": "Front"},
    )
    assert made.status_code == 200, made.text
    connect(admin, server, made.json())
    desk.sync(admin.store, admin.payload_cipher())
    assert desk.waiting(admin.store) == 0
    return admin


def join_code_request(desk_: Desk, lookup: str = "", expires_in: int = 600):
    """A join code made by hand, as a device of a clinic asks for one."""
    return desk_.http.post(
        f"{desk_.server.url}/v1/join-codes",
        json={
            "lookup": lookup or code_keys(new_code()).lookup,
            "wrapped": base64.b64encode(b"sealed bundle " * 4).decode(),
            "device_name": "Lab",
            "expires_in": expires_in,
        },
        timeout=30,
    )


def join_request(server: RunningServer, lookup: str):
    with https(server.cert) as session:
        return session.post(f"{server.url}/v1/join", json={"lookup": lookup}, timeout=30)


def own_signing_keys(session: ClinicSession) -> set[tuple[str, str]]:
    with session.store.read() as s:
        return {
            (k.kid, k.status) for k in s.scalars(select(SigningKey).where(SigningKey.own.is_(True)))
        }


def drugs_at(session: ClinicSession) -> int:
    with session.store.read() as s:
        return s.scalar(select(func.count()).select_from(Drug)) or 0


def nothing_in(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_code_joins_a_new_pc_once_and_staff_sign_in_there(clinic_dir, tmp_path, server):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        code = admin.sync.make_join_code(admin.actor, "Consulting 2")
        assert code.fingerprint == server.fingerprint and code.server == server.url
        signing_keys = own_signing_keys(admin)
        drugs = drugs_at(admin)
        head = server_head(server, admin)
        new_pc = tmp_path / "new-pc"
        seen: list[tuple[int, int]] = []
        joined = join.join_clinic(
            new_pc,
            server.url,
            code.code,
            server.cert.read_bytes(),
            lambda d, t: seen.append((d, t)),
        )
        assert joined.clinic_id == admin.slots.clinic_id
        assert joined.clinic_name == "Sunrise Family Clinic"
        # progress: changes received out of the server's head, rising to it
        assert seen and seen[-1] == (head, head)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        assert folder_state(new_pc) is FolderState.READY
        assert not (new_pc / join.JOINING).exists()

        # the server lists the new desk under the name the admin gave
        names = [d.name for d in admin.sync.devices(admin.actor)]
        assert "Consulting 2" in names

        # the same code again is refused, and a second PC is left as it was
        other_pc = tmp_path / "other-pc"
        with pytest.raises(CodeUsed, match="used already"):
            join.join_clinic(other_pc, server.url, code.code, server.cert.read_bytes())
        assert nothing_in(other_pc)
        assert [d.name for d in admin.sync.devices(admin.actor)].count("Consulting 2") == 1
    finally:
        admin.close()

    # staff sign in on the new PC with their own passwords and find the clinic's patients
    ben = sign_in(new_pc, "ben", STAFF_PASSWORD)
    try:
        assert ben.actor.display_name == "Ben Okoro"
        assert patients_at(ben) == 2
        assert cursor(ben.store) == head
        assert drugs_at(ben) == drugs  # the clinic's own list, not the starter list again
        # the clinic's signing key came along: a doctor signing in here makes no other one
        assert own_signing_keys(ben) == signing_keys
        with pytest.raises(WrongPassword):
            sign_in(new_pc, "ben", "not his password")
    finally:
        ben.close()
    ada = sign_in(new_pc, "admin", ADMIN_PASSWORD)
    try:
        # a change made on the new PC reaches the server from there
        register(ada, "Ines", "Duarte")
        desk.sync(ada.store, ada.payload_cipher())
        assert desk.waiting(ada.store) == 0
        assert server_head(server, ada) > head
    finally:
        ada.close()


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_the_scanned_qr_text_joins_too(clinic_dir, tmp_path, server):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        code = admin.sync.make_join_code(admin.actor, "Pharmacy")
    finally:
        admin.close()
    scanned = read_code(code.uri)
    assert scanned.server == server.url and scanned.fingerprint == server.fingerprint
    joined = join.join_clinic(tmp_path / "pc", scanned.server, code.uri, server.cert.read_bytes())
    assert joined.clinic_name == "Sunrise Family Clinic"
    session = sign_in(tmp_path / "pc", "ben", STAFF_PASSWORD)
    try:
        assert patients_at(session) == 2
    finally:
        session.close()


def test_a_typed_code_is_checked_before_anything_is_asked():
    code = new_code()
    assert len(code) == 29 and code.count("-") == 5
    assert read_code(code.lower().replace("-", " ")).code  # any case, spaces for dashes
    typo = code[:5] + ("X" if code[5] != "X" else "Y") + code[6:]
    with pytest.raises(JoinCodeError, match="typing mistake"):
        read_code(typo)
    swapped = code[:5] + code[6] + code[5] + code[7:]
    if swapped != code:
        with pytest.raises(JoinCodeError, match="typing mistake"):
            read_code(swapped)
    with pytest.raises(JoinCodeError, match="24 characters"):
        read_code(code[:-5])
    with pytest.raises(JoinCodeError, match="has no 'U'"):
        read_code("U" + code[1:])
    # the lookup and the wrapping key are apart: neither tells the other
    keys = code_keys(code)
    assert keys.lookup != keys.wrap_key.hex() and len(keys.lookup) == 64


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_wrong_and_expired_codes_are_refused_and_change_nothing(clinic_dir, tmp_path, server):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        new_pc = tmp_path / "new-pc"
        cert = server.cert.read_bytes()
        with pytest.raises(UnknownCode, match="knows no such join code"):
            join.join_clinic(new_pc, server.url, new_code(), cert)
        assert not new_pc.exists()

        brief = join.make_code(admin.store, admin.slots, admin._database_keys(), "Lab", life=1)
        time.sleep(1.2)
        with pytest.raises(CodeExpired, match="expired"):
            join.join_clinic(new_pc, server.url, brief.code, cert)
        assert not new_pc.exists()
        assert "Lab" not in [d.name for d in admin.sync.devices(admin.actor)]

        # a code of 30 minutes is the longest the server keeps
        link = desk.connection(admin.store)
        assert link is not None
        answer = join_code_request(Desk(server, link.token, link.epoch), expires_in=31 * 60)
        assert answer.status_code == 400 and "1 to 1800 seconds" in answer.json()["message"]
    finally:
        admin.close()


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_device_of_another_clinic_neither_uses_nor_sees_a_clinics_codes(server):
    clinic_a, front_a = server.new_clinic("Clinic A")
    clinic_b, front_b = server.new_clinic("Clinic B")
    lookup = code_keys(new_code()).lookup
    assert join_code_request(front_a, lookup).status_code == 200
    # B's device cannot make a code under A's lookup, nor learn A's code from the server
    again = join_code_request(front_b, lookup)
    assert again.status_code == 409
    assert "Clinic A" not in again.text and clinic_a not in again.text
    # whoever has the code joins clinic A, never B; B's devices do not show the new desk
    joined = join_request(server, lookup)
    assert joined.status_code == 200 and joined.json()["clinic_id"] == clinic_a
    new_id_ = joined.json()["device_id"]
    assert new_id_ in [d["id"] for d in front_a.devices().json()["devices"]]
    assert new_id_ not in [d["id"] for d in front_b.devices().json()["devices"]]
    # B cannot remove A's new desk either
    assert front_b.revoke(new_id_, "not ours").status_code == 404
    # a removed device makes no codes
    assert front_a.revoke(front_b.device_id, "x").status_code == 404
    other = server.another_desk(clinic_b, "Old PC")
    assert front_b.revoke(other.device_id, "stolen").status_code == 200
    refused = join_code_request(other)
    assert refused.status_code == 401 and refused.json()["error"] == "revoked"
    # without a device's token, no code is made
    with https(server.cert) as anyone:
        body = {"lookup": lookup, "wrapped": "eA==", "device_name": "x", "expires_in": 60}
        assert anyone.post(f"{server.url}/v1/join-codes", json=body, timeout=30).status_code == 401


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_each_refusal_is_told_apart(server):
    _clinic, front = server.new_clinic()
    used = code_keys(new_code()).lookup
    assert join_code_request(front, used).status_code == 200
    assert join_request(server, used).status_code == 200
    expired = code_keys(new_code()).lookup
    assert join_code_request(front, expired, expires_in=1).status_code == 200
    time.sleep(1.2)
    answers = {
        "unknown": join_request(server, code_keys(new_code()).lookup),
        "used": join_request(server, used),
        "expired": join_request(server, expired),
        "garbled": join_request(server, "not a lookup"),
    }
    assert {k: (a.status_code, a.json()["error"]) for k, a in answers.items()} == {
        "unknown": (404, "unknown_code"),
        "used": (409, "code_used"),
        "expired": (410, "code_expired"),
        "garbled": (404, "unknown_code"),
    }
    # none of them made a device
    assert len(front.devices().json()["devices"]) == 2


@pytest.mark.parametrize("own_server", ["sqlite"], indirect=True)
def test_many_wrong_codes_from_one_address_are_refused_for_a_while(own_server):
    _clinic, front = own_server.new_clinic()
    good = code_keys(new_code()).lookup
    assert join_code_request(front, good).status_code == 200
    statuses = [
        join_request(own_server, code_keys(new_code()).lookup).status_code for _ in range(20)
    ]
    assert statuses == [404] * 20
    slowed = join_request(own_server, good)
    assert slowed.status_code == 429 and slowed.json()["error"] == "too_many_tries"
    assert "try again in 10 minutes" in slowed.json()["message"]
    # the right code was not used up by the refused try: no device was made with it
    assert len(front.devices().json()["devices"]) == 1


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_the_server_holds_no_key_it_could_use(clinic_dir, tmp_path, server):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        code = admin.sync.make_join_code(admin.actor, "Consulting 3")
        db_keys = admin._database_keys()
        slots_text = (clinic_dir[0] / SLOTS_FILE).read_text()
    finally:
        admin.close()
    join.join_clinic(tmp_path / "pc", server.url, code.code, server.cert.read_bytes())
    keys = code_keys(code.code)
    if server.backend == "sqlite":
        kept = b"".join(p.read_bytes() for p in server.folder.rglob("*") if p.is_file())
    else:
        if shutil.which("pg_dump") is None:
            pytest.skip("pg_dump is not on PATH, so the PostgreSQL copy cannot be read")
        dump = subprocess.run(
            ["pg_dump", "--dbname", libpq_url(server.db_url)], capture_output=True, timeout=120
        )
        if dump.returncode != 0 and b"version mismatch" in dump.stderr:
            pytest.skip(f"pg_dump cannot dump this server: {dump.stderr.decode().strip()}")
        kept = dump.stdout
    secrets_ = [keys.wrap_key, *db_keys.values()]
    for secret in secrets_:
        for form in (secret, secret.hex().encode(), base64.b64encode(secret)):
            assert form not in kept
    for text in (code.code, code.code.replace("-", ""), keys.lookup):
        assert text.encode() not in kept
    # the key slot file travelled sealed: none of its slots' public keys is there in clear
    for line in slots_text.splitlines():
        if '"public_key"' in line:
            value = line.split(":", 1)[1].strip().strip('",')
            assert value.encode() not in kept
    # once used, the code's bundle is gone from the server: a later copy of its database
    # holds nothing the code would open
    store = ServerStore(server.db_url)
    try:
        with store.engine.connect() as conn:
            kept_codes = conn.execute(
                select(JoinCode.wrapped, JoinCode.used_at).where(
                    JoinCode.lookup_hash == hashlib.sha256(keys.lookup.encode()).hexdigest()
                )
            ).all()
    finally:
        store.close()
    assert [(bytes(w), u is not None) for w, u in kept_codes] == [(b"", True)]
    # what it keeps of the code is the lookup's SHA-256
    assert hashlib.sha256(keys.lookup.encode()).hexdigest().encode() in kept


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_join_cut_off_is_resumed_with_the_same_code(clinic_dir, tmp_path, server):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        code = admin.sync.make_join_code(admin.actor, "Reception 2")
        head = server_head(server, admin)
    finally:
        admin.close()
    new_pc = tmp_path / "pc"
    cert = server.cert.read_bytes()

    class Closed(Exception):
        pass

    def closed(_done: int, _total: int) -> None:
        raise Closed  # the app closed after the first page went in

    with pytest.raises(Closed):
        join.join_clinic(new_pc, server.url, code.code, cert, closed)
    # not a clinic yet, and nothing blocks the folder: the set-up starts as on a new folder
    assert folder_state(new_pc) is FolderState.NEW
    assert not (new_pc / SLOTS_FILE).exists()

    # the same code again: the server is not asked to join again (the code is used), the
    # join goes on from what was kept
    seen: list[tuple[int, int]] = []
    join.join_clinic(new_pc, server.url, code.code, cert, lambda d, t: seen.append((d, t)))
    assert seen[-1] == (head, head)
    session = sign_in(new_pc, "ben", STAFF_PASSWORD)
    try:
        assert patients_at(session) == 2
    finally:
        session.close()


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_join_stopped_while_moving_its_files_in_is_finished_at_the_next_start(
    clinic_dir, tmp_path, server
):
    admin = connected_clinic(clinic_dir[0], server)
    try:
        code = admin.sync.make_join_code(admin.actor, "Reception 3")
    finally:
        admin.close()
    new_pc = tmp_path / "pc"
    join.join_clinic(new_pc, server.url, code.code, server.cert.read_bytes())
    # as it stood when the power went: the database moved in, the key file not yet
    staging = new_pc / join.JOINING
    staging.mkdir()
    for name in (SLOTS_FILE, desk.CERTIFICATE):
        (new_pc / name).replace(staging / name)
    (staging / join.RECEIVED).write_text("{}")
    assert folder_state(new_pc) is FolderState.READY
    session = sign_in(new_pc, "ben", STAFF_PASSWORD)
    try:
        assert patients_at(session) == 2
        assert desk.connection(session.store).certificate == new_pc / desk.CERTIFICATE
    finally:
        session.close()


def test_two_desks_racing_with_one_code_make_one_device(store: ServerStore):
    made = store.create_clinic("clinic-1", "Sunrise", "Front")
    front = store.authenticate(made.token)
    lookup = code_keys(new_code()).lookup
    store.add_join_code(front, lookup, b"sealed" * 8, "Lab", 600)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            store.join(lookup)
            outcomes.append("joined")
        except CodeUsed:
            outcomes.append("used")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["joined", "used", "used", "used"]
    assert len(store.devices("clinic-1")) == 2


def test_an_expired_codes_bundle_is_emptied_on_the_server(store: ServerStore):
    made = store.create_clinic("clinic-2", "Sunrise", "Front")
    front = store.authenticate(made.token)
    brief, later = (code_keys(new_code()).lookup for _ in range(2))
    store.add_join_code(front, brief, b"sealed bundle" * 4, "Lab", 1)
    time.sleep(1.1)
    store.add_join_code(front, later, b"sealed bundle" * 4, "Lab", 600)
    with store.engine.connect() as conn:
        kept = dict(conn.execute(select(JoinCode.lookup_hash, JoinCode.wrapped)).all())
    assert bytes(kept[hashlib.sha256(brief.encode()).hexdigest()]) == b""
    assert bytes(kept[hashlib.sha256(later.encode()).hexdigest()]) == b"sealed bundle" * 4
    with pytest.raises(CodeExpired):
        store.join(brief)

"""The sync server as desks meet it: the real server in its own process, over HTTPS, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time

import requests

from clinicdesk.ids import new_id
from clinicdesk.sync.protocol import EPOCH_HEADER, MAX_BODY, WireChange
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import Desk, RunningServer, https


def changes(count: int, entity: str = "patients") -> list[WireChange]:
    return [
        WireChange(new_id(), entity, new_id(), 1, False, 1, os.urandom(12 + 16 + 64))
        for _ in range(count)
    ]


def head_of(desk: Desk) -> int:
    answer = desk.pull(after=0, limit=1)
    assert answer.status_code == 200, answer.text
    return answer.json()["head"]


def assert_error(answer: requests.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"].endswith((".", ")"))
    assert "Traceback" not in answer.text
    return body


def test_only_an_operator_token_creates_a_clinic_space(server: RunningServer):
    clinic_id = new_id()
    body = {"clinic_id": clinic_id, "clinic_name": "Harbour Clinic", "device_name": "Desk 1"}
    assert_error(server.operator("/v1/clinics", body, token="not-the-token"), 401, "unauthorized")
    no_token = https(server.cert).post(f"{server.url}/v1/clinics", json=body, timeout=10)
    assert_error(no_token, 401, "unauthorized")

    made = server.operator("/v1/clinics", body)
    assert made.status_code == 200, made.text
    answer = made.json()
    assert set(answer) == {"epoch", "clinic_id", "device_id", "token"}
    assert answer["clinic_id"] == clinic_id
    assert answer["token"].startswith(answer["device_id"] + ".")
    assert made.headers[EPOCH_HEADER] == answer["epoch"]
    # the first device may work at once
    desk = Desk(server, answer["token"], answer["epoch"])
    assert desk.pull().json()["changes"] == []
    desk.close()
    # a second desk joins with a code, never by making the space again
    assert_error(server.operator("/v1/clinics", body), 409, "conflict")
    # a device's token is no operator token
    assert_error(server.operator("/v1/clinics", {**body, "clinic_id": new_id()}, answer["token"]),
                 401, "unauthorized")  # fmt: skip


def test_a_push_reaches_another_desk_of_the_clinic_in_order(server: RunningServer):
    clinic_id, front = server.new_clinic()
    doctor = server.another_desk(clinic_id)
    batch = changes(25)
    pushed = front.push(batch)
    assert pushed.status_code == 200, pushed.text
    answer = pushed.json()
    assert answer["head"] == 25
    assert answer["results"] == [
        {"op_id": c.op_id, "seq": n, "duplicate": False} for n, c in enumerate(batch, start=1)
    ]

    received, after, more = [], 0, True
    while more:
        page = doctor.pull(after=after, limit=10).json()
        assert len(page["changes"]) <= 10 and page["head"] == 25
        received += page["changes"]
        after, more = page["changes"][-1]["seq"], page["more"]
    assert [c["seq"] for c in received] == list(range(1, 26))
    assert [WireChange.from_json(c) for c in received] == batch
    assert {c["device_id"] for c in received} == {front.device_id}

    listed = {d["name"]: d for d in doctor.devices().json()["devices"]}
    assert listed["Doctor's room"]["cursor"] == 25  # it has received everything
    assert listed["Doctor's room"]["last_seen_at"] is not None
    assert listed["Front desk"]["cursor"] == 0 and listed["Front desk"]["revoked_at"] is None


def test_a_retried_push_never_appends_twice(server: RunningServer):
    _, desk = server.new_clinic()
    batch = changes(6)
    first = desk.push(batch[:4]).json()
    # the answer was lost; the desk sends the batch again, with what it made since
    again = desk.push(batch).json()
    assert [(r["seq"], r["duplicate"]) for r in again["results"]] == [
        *((r["seq"], True) for r in first["results"]),
        (5, False),
        (6, False),
    ]
    assert again["head"] == 6
    third = desk.push(batch).json()
    assert [r["seq"] for r in third["results"]] == [1, 2, 3, 4, 5, 6] and third["head"] == 6
    assert all(r["duplicate"] for r in third["results"])
    assert [c["op_id"] for c in desk.pull().json()["changes"]] == [c.op_id for c in batch]


def test_a_batch_with_one_malformed_change_applies_nothing(server: RunningServer):
    _, desk = server.new_clinic()
    desk.push(changes(2))
    wires = [c.to_json() for c in changes(5)]
    wires[3]["payload"] = "this is not base64!"
    answer = desk.http.post(f"{server.url}/v1/push", json={"changes": wires}, timeout=10)
    body = assert_error(answer, 400, "bad_request")
    assert "Change 4 of 5" in body["message"] and "payload" in body["message"]
    assert "Nothing of this push was applied" in body["message"]
    assert head_of(desk) == 2

    for raw in (b"{not json", b"[]", b'{"changes": {"op_id": 1}}', b'{"changes": [17]}'):
        bad = desk.http.post(
            f"{server.url}/v1/push",
            data=raw,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert_error(bad, 400, "bad_request")
    assert head_of(desk) == 2


def test_clinics_are_apart(server: RunningServer):
    _, desk_a = server.new_clinic("Sunrise Family Clinic")
    _, desk_b = server.new_clinic("Harbour Clinic")
    desk_b.push(changes(3))
    seen = desk_a.pull(after=0).json()
    assert seen["changes"] == [] and seen["head"] == 0
    assert [d["id"] for d in desk_a.devices().json()["devices"]] == [desk_a.device_id]
    # B's device is not there for A: revoking it is refused as if it did not exist
    assert_error(desk_a.revoke(desk_b.device_id, "not ours"), 404, "not_found")
    assert_error(desk_a.revoke(new_id(), "no such device"), 404, "not_found")
    assert desk_b.pull().status_code == 200
    assert head_of(desk_b) == 3


def test_a_revoked_device_is_refused_at_once_with_the_reason(server: RunningServer):
    clinic_id, front = server.new_clinic()
    laptop = server.another_desk(clinic_id, "Laptop")
    front.push(changes(1))

    polled: dict[str, object] = {}

    def long_poll() -> None:
        started = time.monotonic()
        answer = laptop.pull(after=1, wait=20)
        polled.update(answer=answer, took=time.monotonic() - started)

    waiting = threading.Thread(target=long_poll)
    waiting.start()
    time.sleep(0.5)
    revoked = front.revoke(laptop.device_id, "Laptop stolen from the car park")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["device"]["revoked_reason"] == "Laptop stolen from the car park"
    waiting.join(timeout=30)
    # the laptop's long poll was already waiting: it is refused too, within a tick
    body = assert_error(polled["answer"], 401, "revoked")
    assert polled["took"] < 5
    assert "Laptop stolen from the car park" in body["message"]
    assert body["reason"] == "Laptop stolen from the car park"
    for answer in (laptop.push(changes(1)), laptop.pull(), laptop.devices()):
        assert "Laptop stolen" in assert_error(answer, 401, "revoked")["message"]
    listed = {d["name"]: d for d in front.devices().json()["devices"]}
    assert listed["Laptop"]["revoked_at"] is not None
    assert head_of(front) == 1


def test_a_desk_that_knows_another_epoch_must_pull_again(server: RunningServer):
    _, desk = server.new_clinic()
    epoch = desk.http.headers[EPOCH_HEADER]
    desk.http.headers[EPOCH_HEADER] = "an-epoch-before-a-restore"
    for answer in (desk.pull(), desk.push(changes(1)), desk.devices()):
        body = assert_error(answer, 410, "rebootstrap")
        assert body["epoch"] == epoch  # what the desk sends from now on
    desk.http.headers[EPOCH_HEADER] = epoch
    assert desk.pull().json()["head"] == 0  # nothing of the refused push was applied


def test_a_long_poll_answers_soon_after_a_push_and_waits_when_nothing_comes(
    server: RunningServer,
):
    clinic_id, front = server.new_clinic()
    doctor = server.another_desk(clinic_id)

    started = time.monotonic()
    idle = doctor.pull(after=0, wait=1)
    assert idle.json()["changes"] == [] and time.monotonic() - started >= 0.9

    def arrival_after(push) -> float:
        answers: list[tuple[requests.Response, float]] = []
        head = head_of(front)
        poll = threading.Thread(
            target=lambda: answers.append((doctor.pull(after=head, wait=20), time.monotonic()))
        )
        poll.start()
        time.sleep(0.7)
        assert not answers, "the long poll answered before anything was pushed"
        pushed_at = time.monotonic()
        push()
        poll.join(timeout=30)
        answer, answered_at = answers[0]
        assert [c["seq"] for c in answer.json()["changes"]] == [head + 1]
        return answered_at - pushed_at

    # pushed through this server process: the waiting pull is woken at once
    assert arrival_after(lambda: front.push(changes(1))) < 3
    # pushed by another process on the same database (several servers on one PostgreSQL)
    other = ServerStore(server.db_url)
    try:
        device = other.authenticate(front.token)
        assert arrival_after(lambda: other.push(device, changes(1))) < 3
    finally:
        other.close()


def test_gzip_request_and_answer(server: RunningServer):
    _, desk = server.new_clinic()
    batch = changes(40)
    raw = json.dumps({"changes": [c.to_json() for c in batch]}).encode()
    answer = desk.http.post(
        f"{server.url}/v1/push",
        data=gzip.compress(raw),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["head"] == 40
    pulled = desk.pull(after=0)
    assert pulled.headers.get("content-encoding") == "gzip"  # requests asks for it, and undoes it
    assert len(pulled.json()["changes"]) == 40

    broken = desk.http.post(
        f"{server.url}/v1/push",
        data=gzip.compress(raw)[:-20],
        headers={"Content-Encoding": "gzip"},
        timeout=10,
    )
    assert_error(broken, 400, "bad_request")
    other = desk.http.post(
        f"{server.url}/v1/push", data=raw, headers={"Content-Encoding": "br"}, timeout=10
    )
    assert_error(other, 400, "bad_request")
    assert head_of(desk) == 40


def test_an_oversize_request_is_refused_and_applies_nothing(server: RunningServer):
    _, desk = server.new_clinic()
    padding = " " * MAX_BODY
    body = ('{"changes": []' + padding + "}").encode()
    assert len(body) > MAX_BODY
    answer = desk.http.post(
        f"{server.url}/v1/push", data=body, headers={"Content-Type": "application/json"}
    )
    assert_error(answer, 413, "too_large")

    # 32 MiB of JSON in a few KiB of gzip: refused by what it would become
    wire = changes(1)[0].to_json()
    bomb = json.dumps({"changes": [wire], "pad": " " * (2 * MAX_BODY)}).encode()
    packed = gzip.compress(bomb)
    assert len(packed) < 100_000
    answer = desk.http.post(
        f"{server.url}/v1/push", data=packed, headers={"Content-Encoding": "gzip"}, timeout=30
    )
    assert_error(answer, 413, "too_large")

    too_many = desk.push(changes(501))
    assert "500" in assert_error(too_many, 413, "too_large")["message"]
    assert head_of(desk) == 0


def test_every_error_is_a_sentence_in_json(server: RunningServer):
    _, desk = server.new_clinic()
    assert_error(desk.http.get(f"{server.url}/v1/nowhere", timeout=10), 404, "not_found")
    assert_error(desk.http.delete(f"{server.url}/v1/push", timeout=10), 405, "bad_request")
    for params in ({"after": -1}, {"after": "seven"}, {"limit": 0}, {"wait": "long"}):
        assert_error(desk.http.get(f"{server.url}/v1/pull", params=params, timeout=10),
                     400, "bad_request")  # fmt: skip
    assert_error(desk.revoke(desk.device_id, ""), 400, "bad_request")
    nobody = https(server.cert).get(f"{server.url}/v1/pull", timeout=10)
    assert_error(nobody, 401, "unauthorized")
    forged = Desk(server, f"{desk.device_id}.forged-secret")
    assert_error(forged.pull(), 401, "unauthorized")
    forged.close()


def test_a_pull_takes_at_most_a_thousand(server: RunningServer):
    _, desk = server.new_clinic()
    for _ in range(3):
        desk.push(changes(400))
    page = desk.pull(after=0, limit=5000).json()
    assert len(page["changes"]) == 1000 and page["more"] and page["head"] == 1200
    rest = desk.pull(after=1000).json()
    assert [c["seq"] for c in rest["changes"]] == list(range(1001, 1201)) and not rest["more"]

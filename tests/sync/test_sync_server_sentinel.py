"""A copy of the server's database holds no patient data: a patient's details pushed by a desk
are nowhere in the SQLite file (nor its journal, nor the server's logs) or in a pg_dump, while
the routing fields a relay needs are there in clear; so too with a document sent in parts."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinicdesk.ids import new_id
from clinicdesk.sync import desk
from clinicdesk.sync.protocol import WireChange
from tests.sync.conftest import DESK_BACKENDS, RunningServer, libpq_url, register, server_log


def server_copy(server: RunningServer) -> bytes:
    """All the server keeps: its folder's files (SQLite, its journal, its logs), or a pg_dump."""
    if server.backend == "sqlite":
        files = [p for p in server.folder.rglob("*") if p.is_file()]
        assert any(p.name.startswith("server.db") for p in files)
        return b"".join(p.read_bytes() for p in files)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not on PATH, so the PostgreSQL copy cannot be read")
    dump = subprocess.run(
        [pg_dump, "--dbname", libpq_url(server.db_url)], capture_output=True, timeout=120
    )
    if dump.returncode != 0 and b"version mismatch" in dump.stderr:
        pytest.skip(f"pg_dump cannot dump this server: {dump.stderr.decode().strip()}")
    assert dump.returncode == 0, dump.stderr.decode()
    return dump.stdout


def test_the_server_keeps_no_patient_data(server: RunningServer):
    sentinel = f"Quokka-{secrets.token_hex(6)}"
    clinic_id, desk = server.new_clinic()
    key = AESGCM(AESGCM.generate_key(bit_length=256))
    pushed: list[WireChange] = []
    for n in range(20):
        row = {
            "id": new_id(),
            "first_name": f"{sentinel}-Maren",
            "last_name": "Lindqvist",
            "allergies": f"penicillin ({sentinel})",
            "notes": f"seen {n} times",
        }
        nonce = os.urandom(12)
        bound = f"{clinic_id}|patients|{row['id']}|1|0".encode()
        ciphertext = key.encrypt(nonce, json.dumps(row).encode(), bound)
        pushed.append(WireChange(new_id(), "patients", row["id"], 1, False, 1, nonce + ciphertext))
    assert desk.push(pushed).status_code == 200

    # what went in is what comes back, and only the key opens it
    pulled = [WireChange.from_json(c) for c in desk.pull().json()["changes"]]
    assert pulled == pushed
    first = pulled[0]
    bound = f"{clinic_id}|patients|{first.entity_id}|1|0".encode()
    assert sentinel in key.decrypt(first.payload[:12], first.payload[12:], bound).decode()

    kept = server_copy(server)
    payload_as_kept = pushed[0].payload
    if server.backend == "postgresql":
        payload_as_kept = payload_as_kept.hex().encode()  # bytea is dumped as hex

    assert sentinel.encode() not in kept
    assert sentinel.encode("utf-16-le") not in kept
    assert sentinel.encode().hex().encode() not in kept  # as a bytea would be dumped
    assert b"penicillin" not in kept and b"Lindqvist" not in kept
    # the relay's routing fields are there, in clear, and so is the ciphertext
    for change in pushed:
        assert change.op_id.encode() in kept and change.entity_id.encode() in kept
    assert clinic_id.encode() in kept and b"patients" in kept
    assert payload_as_kept in kept


@pytest.mark.parametrize("server", DESK_BACKENDS, indirect=True)
def test_a_document_sent_in_parts_leaves_no_patient_data_on_the_server(desks, server):
    a, _b = desks
    sentinel = f"Quokka-{secrets.token_hex(6)}"
    patient = register(a, "Maren", "Lindqvist")
    text = f"%PDF-1.7\n% lab report of {sentinel}, penicillin allergy\n".encode()
    content = text * (5 * 2**20 // len(text))  # 5 MB: sent in parts
    a.chart.attach(a.actor, patient, "lab", f"Panel {sentinel}", f"{sentinel}.pdf", content)
    desk.sync(a.store, a.payload_cipher())
    (sent,) = [c for c in server_log(server, a) if c.change.entity == "chart_documents"]
    assert sent.change.parts is not None

    kept = server_copy(server)
    assert sentinel.encode() not in kept
    assert base64.b64encode(text[:48]) not in kept  # nor the file as the payload's JSON has it
    assert b"penicillin" not in kept and b"Lindqvist" not in kept
    assert sent.change.parts.blob.encode() in kept  # the parts' name is there, in clear

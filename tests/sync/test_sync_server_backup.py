"""The operator backs the sync server up while it runs and restores it after a loss:
``clinicdesk server backup`` and ``restore``, run as the operator runs them.

A restored server has a new epoch: a desk that knew the old one is answered 410 ``rebootstrap``,
pulls from the start exactly what the backup held, and then sends what it held that the backup
lacks. A file that is not a backup of the server is refused, saying why, and nothing changes
(tried on the running server the other tests share: the file is checked before anything else). A
backup holds ciphertext only, never a patient's details in clear."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import stat
import subprocess
import threading
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinicdesk.cli import main
from clinicdesk.ids import new_id
from clinicdesk.sync.protocol import EPOCH_HEADER, WireChange
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import Desk, RunningServer, libpq_url, server_command

pytestmark = pytest.mark.slow


def needs_pg_tools(server: RunningServer) -> None:
    if server.backend == "postgresql":
        for tool in ("pg_dump", "pg_restore"):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} is not on PATH, so a PostgreSQL server cannot be backed up")


def sealed(clinic_id: str, key: AESGCM, sentinel: str, n: int) -> WireChange:
    """A patient's row as a desk pushes it: the sentinel only inside the ciphertext."""
    row = {"id": new_id(), "first_name": f"{sentinel}-Maren", "last_name": "Lindqvist", "n": n}
    nonce = os.urandom(12)
    bound = f"{clinic_id}|patients|{row['id']}|1|0".encode()
    sealed = nonce + key.encrypt(nonce, json.dumps(row).encode(), bound)
    return WireChange(new_id(), "patients", row["id"], 1, False, 1, sealed)


def pull_all(desk: Desk) -> tuple[list[WireChange], list[int], str]:
    """Everything from the start, page by page: the changes, their sequence numbers, the
    epoch."""
    changes: list[WireChange] = []
    seqs: list[int] = []
    after = 0
    while True:
        page = desk.pull(after, limit=1000)
        assert page.status_code == 200, page.text
        body = page.json()
        changes += [WireChange.from_json(c) for c in body["changes"]]
        seqs += [c["seq"] for c in body["changes"]]
        after = seqs[-1] if seqs else 0
        if not body["more"]:
            return changes, seqs, body["epoch"]


def backup(server: RunningServer, dest: Path) -> Path:
    done = server_command("backup", str(dest), "--data-dir", str(server.folder))
    assert done.returncode == 0, done.stderr
    written = re.search(r"written: (\S+) \((\d+(?:\.\d)? (?:bytes|KiB|MiB))\)", done.stdout)
    assert written, done.stdout
    assert "ciphertext" in done.stdout and "no patient data in clear" in done.stdout
    return Path(written[1])


def readable(server: RunningServer, backup_file: Path) -> bytes:
    """All a thief of the backup could read in it: its bytes, and for pg_dump's archive (which
    compresses) also the SQL it restores."""
    kept = backup_file.read_bytes()
    if server.backend == "postgresql":
        script = subprocess.run(
            ["pg_restore", "--file=-", str(backup_file)], capture_output=True, timeout=60
        )
        assert script.returncode == 0, script.stderr.decode()
        kept += script.stdout
    return kept


def test_a_restored_server_sends_desks_back_to_pull_exactly_its_backup(
    own_server: RunningServer, tmp_path: Path, capsys
):
    server = own_server
    needs_pg_tools(server)
    sentinel = f"Quokka-{secrets.token_hex(6)}"
    key = AESGCM(AESGCM.generate_key(bit_length=256))
    clinic_id, reception = server.new_clinic()
    doctor = server.another_desk(clinic_id)
    first = [sealed(clinic_id, key, sentinel, n) for n in range(30)]
    assert reception.push(first).status_code == 200
    epoch_before = reception.pull().json()["epoch"]

    # the doctor's desk keeps pushing, five at a time, while the backup is taken
    acknowledged: list[list[WireChange]] = []
    refused: list[str] = []
    stop = threading.Event()
    started = threading.Event()

    def keep_pushing() -> None:
        n = 100
        while not stop.is_set():
            batch = [sealed(clinic_id, key, sentinel, n + i) for i in range(5)]
            answer = doctor.push(batch)
            if answer.status_code != 200:
                refused.append(answer.text)
                break
            acknowledged.append(batch)
            started.set()
            n += 5
            stop.wait(0.02)  # a busy clinic, not a flood: the backup shares two cores with it

    pusher = threading.Thread(target=keep_pushing)
    pusher.start()
    try:
        assert started.wait(30)
        acked_before = len(acknowledged)
        backups = tmp_path / "backups"
        backups.mkdir()
        backup_file = backup(server, backups)
        acked_by_then = len(acknowledged)
    finally:
        stop.set()
        pusher.join(30)
    assert not refused
    assert backup_file.parent == backups
    suffix = "db" if server.backend == "sqlite" else "pgdump"
    assert re.fullmatch(rf"clinicdesk-server-\d{{8}}-\d{{6}}\.{suffix}", backup_file.name)
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert not [p for p in backups.iterdir() if p != backup_file]  # no partial file left

    later = [sealed(clinic_id, key, sentinel, n) for n in range(1000, 1010)]
    assert reception.push(later).status_code == 200

    if server.backend == "sqlite":  # the operator stops the server first
        in_use = main(["server", "restore", str(backup_file), "--data-dir", str(server.folder)])
        assert in_use == 2 and "is in use: stop the sync server" in capsys.readouterr().err
    server.stop()
    restored = server_command("restore", str(backup_file), "--data-dir", str(server.folder))
    assert restored.returncode == 0, restored.stderr
    assert "pull everything again" in restored.stdout
    if server.backend == "sqlite":
        aside = re.search(r"kept in (\S+)\.$", restored.stdout, re.M)
        assert aside and Path(aside[1]).name.startswith("server.db.before-restore-")
        assert Path(aside[1]).is_file()
    server.start()

    # a desk that knew the old epoch is told to start again
    stale = reception.pull()
    assert stale.status_code == 410 and stale.json()["error"] == "rebootstrap"
    assert stale.json()["epoch"] != epoch_before

    # from the start: exactly what the server held when the backup was taken
    del reception.http.headers[EPOCH_HEADER]
    pulled, seqs, epoch_after = pull_all(reception)
    assert epoch_after != epoch_before
    assert seqs == list(range(1, len(pulled) + 1))
    assert pulled[: len(first)] == first
    doctor_part = pulled[len(first) :]
    assert len(doctor_part) % 5 == 0  # a push is in a backup whole, or not at all
    batches = len(doctor_part) // 5
    # what was acknowledged before it began is in; one push may have been answered just after
    assert acked_before <= batches <= acked_by_then + 1
    assert doctor_part == [c for batch in acknowledged[:batches] for c in batch]
    assert f"{len(pulled)} changes" in restored.stdout

    # then the desk sends what it held that the backup lacks: appended after the backup's head
    reception.http.headers[EPOCH_HEADER] = epoch_after
    resent = reception.push(later)
    assert resent.status_code == 200, resent.text
    results = resent.json()["results"]
    assert [r["duplicate"] for r in results] == [False] * len(later)
    assert [r["seq"] for r in results] == list(range(len(pulled) + 1, len(pulled) + 11))

    # the backup holds ciphertext and routing data, never the patient's details in clear
    kept = readable(server, backup_file)
    assert sentinel.encode() not in kept
    assert sentinel.encode("utf-16-le") not in kept
    assert sentinel.encode().hex().encode() not in kept
    assert b"Lindqvist" not in kept
    as_kept = first[0].payload if server.backend == "sqlite" else first[0].payload.hex().encode()
    assert as_kept in kept and first[0].op_id.encode() in kept and clinic_id.encode() in kept


def not_a_servers_database(backend: str, tmp_path: Path, request) -> Path:
    """A database of the server's kind that is not a sync server's."""
    path = tmp_path / "inventory.backup"
    if backend == "sqlite":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE medicines (id TEXT PRIMARY KEY, name TEXT)")
        conn.commit()
        conn.close()
        return path
    url = libpq_url(request.getfixturevalue("pg_schemas")())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE medicines (id TEXT PRIMARY KEY, name TEXT)")
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
    with path.open("wb") as out:
        dumped = subprocess.run(
            ["pg_dump", "--format=custom", f"--schema={schema}", "--dbname", url],
            stdout=out,
            timeout=60,
        )
    assert dumped.returncode == 0
    return path


def state(server: RunningServer) -> tuple:
    """What a restore would change: the epoch, the clinics' heads, and on SQLite the files."""
    store = ServerStore(server.db_url)
    try:
        seen: tuple = (store.epoch(), [(c.id, c.head) for c in store.clinics()])
    finally:
        store.close()
    if server.backend == "sqlite":
        files = sorted(p.name for p in server.folder.iterdir())
        seen += (files, (server.folder / "server.db").read_bytes())
    return seen


def test_a_restore_refuses_what_is_not_a_backup_of_this_server_and_changes_nothing(
    server: RunningServer, tmp_path: Path, request, capsys
):
    needs_pg_tools(server)
    pg = server.backend == "postgresql"
    _, desk = server.new_clinic()
    pushed = [
        WireChange(new_id(), "visits", new_id(), 1, False, 1, os.urandom(40)) for _ in range(8)
    ]
    assert desk.push(pushed).status_code == 200
    folder = str(server.folder)
    good = tmp_path / f"server.{'pgdump' if pg else 'db'}"
    assert main(["server", "backup", str(good), "--data-dir", folder]) == 0
    capsys.readouterr()
    before = state(server)

    notes = tmp_path / "shift-notes.txt"
    notes.write_text("Front desk: call Mrs Lindqvist back about Thursday.\n")
    half = tmp_path / "half-copied.backup"
    half.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    other_kind = tmp_path / "other-kind.backup"
    if pg:
        conn = sqlite3.connect(other_kind)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    else:  # a PostgreSQL server's backup begins so
        other_kind.write_bytes(b"PGDMP\x01\x0f\x00" + os.urandom(200))
    kind = "pg_dump archive" if pg else "SQLite database"
    cases = [
        (notes, f"is not a {kind}, so not a backup of this sync server"),
        (other_kind, f"it is the backup of a server on {'SQLite' if pg else 'PostgreSQL'}"),
        (not_a_servers_database(server.backend, tmp_path, request), "lacks the server's tables"),
        (half, None),  # damaged: said in SQLite's or pg_restore's words
        (tmp_path / "no-such.backup", "There is no file"),
    ]
    for src, reason in cases:
        code = main(["server", "restore", str(src), "--data-dir", folder])
        out, err = capsys.readouterr()
        assert code == 2 and out == "", (src, out, err)
        said = err.strip()
        assert said.startswith("clinicdesk: ") and said.endswith("nothing was changed."), said
        if reason:
            assert reason in said, said
        assert state(server) == before, src

    # the server goes on as it was: the desk's epoch holds, its changes are there
    answer = desk.pull()
    assert answer.status_code == 200, answer.text
    assert [WireChange.from_json(c) for c in answer.json()["changes"]] == pushed

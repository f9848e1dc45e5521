"""``clinicdesk server ...`` as the server's operator uses it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from clinicdesk.cli import main
from clinicdesk.ids import new_id
from clinicdesk.sync.protocol import WireChange
from clinicdesk.sync.server.store import ServerStore
from tests.sync.conftest import Desk, RunningServer, free_port, server_command


def clinicdesk(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def nothing_listens_on(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("host", ["0.0.0.0", "10.20.30.40", "::", "clinic-server.lan"])
def test_plain_http_is_refused_off_loopback(capsys, tmp_path: Path, host: str):
    port = free_port()
    code, out, err = clinicdesk(
        capsys,
        *("server", "run", "--data-dir", str(tmp_path), "--host", host, "--port", str(port)),
        "--insecure-http",
    )
    assert code == 2 and out == ""
    assert f"Plain HTTP is refused on {host}" in err and "Traceback" not in err
    assert nothing_listens_on(port)


def test_plain_http_on_loopback_serves_and_the_command_loads_no_qt(tmp_path: Path):
    folder = tmp_path / "server"
    assert server_command("init", "--data-dir", str(folder)).returncode == 0
    # the clinicdesk command (ui.launcher) runs the server's commands without Qt
    refused = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from ui.launcher import main; "
            "code = main(['server', 'run', '--host', '0.0.0.0', '--insecure-http']); "
            "print(code, 'PySide6' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.stdout.split() == ["2", "False"], refused.stderr

    port = free_port()
    with (folder / "run.log").open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "clinicdesk.cli", "server", "run"),
                *("--data-dir", str(folder), "--host", "127.0.0.1", "--port", str(port)),
                "--insecure-http",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        session = requests.Session()
        session.trust_env = False
        for _ in range(300):
            try:
                answer = session.get(f"http://127.0.0.1:{port}/v1/pull", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, (folder / "run.log").read_text()
                time.sleep(0.05)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_operator_looks_after_clinics_devices_and_tokens(capsys, server: RunningServer):
    folder = str(server.folder)
    code, out, _ = clinicdesk(capsys, "server", "token", "--data-dir", folder)
    assert code == 0
    token = out.splitlines()[1].strip()
    clinic_id = new_id()
    made = server.operator(
        "/v1/clinics",
        {"clinic_id": clinic_id, "clinic_name": "Riverside Clinic", "device_name": "Reception"},
        token=token,
    )
    assert made.status_code == 200, made.text
    desk = Desk(server, made.json()["token"], made.json()["epoch"])
    server.desks.append(desk)
    server.another_desk(clinic_id, "Pharmacy counter")

    code, out, _ = clinicdesk(capsys, "server", "clinics", "--data-dir", folder)
    line = next(x for x in out.splitlines() if x.startswith(clinic_id))
    assert "Riverside Clinic" in line and line.split()[1:4] == ["0", "2", "0"]

    code, out, _ = clinicdesk(capsys, "server", "devices", clinic_id, "--data-dir", folder)
    assert code == 0 and "Reception" in out and "Pharmacy counter" in out

    pushed = desk.push(
        [WireChange(f"op-{n}", "visits", f"v{n}", 1, False, 1, bytes(40)) for n in range(3)]
    )
    assert pushed.status_code == 200, pushed.text
    code, out, _ = clinicdesk(capsys, "server", "verify", clinic_id, "--data-dir", folder)
    assert code == 0 and f"{clinic_id}: the log is intact" in out
    store = ServerStore(server.db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                text("DELETE FROM changes WHERE clinic_id = :c AND seq = 2"), {"c": clinic_id}
            )
    finally:
        store.close()
    code, out, _ = clinicdesk(capsys, "server", "verify", clinic_id, "--data-dir", folder)
    assert code == 1 and "change 2 is missing" in out and "restore them from a backup" in out

    code, out, _ = clinicdesk(
        capsys, "server", "revoke", desk.device_id, "--reason", "Old PC given away", "--data-dir",
        folder,
    )  # fmt: skip
    assert code == 0 and "Old PC given away" in out
    refused = desk.pull()  # the running server refuses it at once
    assert refused.status_code == 401 and refused.json()["error"] == "revoked"
    assert "Old PC given away" in refused.json()["message"]
    code, out, _ = clinicdesk(capsys, "server", "devices", clinic_id, "--data-dir", folder)
    assert "REVOKED" in next(x for x in out.splitlines() if "Reception" in x)


def test_operator_mistakes_are_told_in_a_sentence(capsys, tmp_path: Path):
    empty = str(tmp_path / "nothing-here")
    code, _, err = clinicdesk(capsys, "server", "run", "--data-dir", empty, "--port", "1")
    assert code == 2 and "is not a sync server's folder" in err
    code, _, err = clinicdesk(capsys, "server", "clinics")
    assert code == 2 and "--data-dir" in err
    code, _, err = clinicdesk(capsys, "server")
    assert code == 2 and "Say what to do" in err
    code, _, err = clinicdesk(
        capsys, "server", "init", "--data-dir", empty, "--cert", str(tmp_path / "c.pem")
    )
    assert code == 2 and "both --cert and --key" in err


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_server_is_set_up_once_and_unknown_clinics_are_named(capsys, server: RunningServer):
    folder = str(server.folder)
    code, _, err = clinicdesk(capsys, "server", "init", "--data-dir", folder)
    assert code == 2 and "already holds a sync server" in err
    code, _, err = clinicdesk(capsys, "server", "devices", "no-such-clinic", "--data-dir", folder)
    assert code == 2 and "There is no clinic no-such-clinic" in err
    code, _, err = clinicdesk(
        capsys, "server", "revoke", new_id(), "--reason", "gone", "--data-dir", folder
    )
    assert code == 2 and "There is no device" in err

"""Workstations as real OS processes on one data folder (desk_child.py), each bounded in time."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

CHILD = Path(__file__).with_name("desk_child.py")
REPO = Path(__file__).resolve().parents[2]
ANSWER_TIMEOUT = 120  # seconds: a key change re-encrypts the database under a lock


class Desk:
    """One child process, spoken to in JSON lines."""

    def __init__(self, folder: Path, name: str, log_dir: Path) -> None:
        self.name = name
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.log = log_dir / f"{name}.stderr"
        self._stderr = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            cwd=REPO,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, op: str, **cmd) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **cmd}) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> dict:
        """The next answer; ``{"exited": code}`` if the process ended instead."""
        try:
            line = self.lines.get(timeout=ANSWER_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"{self.name} did not answer in {ANSWER_TIMEOUT} s") from None
        if line is None:
            return {"exited": self.proc.wait(timeout=30)}
        return json.loads(line)

    def ask(self, op: str, **cmd) -> dict:
        self.send(op, **cmd)
        return self.answer()

    def do(self, op: str, **cmd):
        """``ask``, expecting success."""
        answer = self.ask(op, **cmd)
        assert "ok" in answer, f"{self.name} {op}: {answer}\n{self.log.read_text()}"
        return answer["ok"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()

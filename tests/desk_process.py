"""A workstation as a real OS process on a clinic's data folder, spoken to in JSON lines.

The child is a script that reads one JSON command per line and writes one JSON answer per line;
every wait for an answer is bounded, and a child that does not quit when asked is killed.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class DeskProcess:
    def __init__(
        self,
        child: Path,
        folder: Path,
        name: str,
        log_dir: Path,
        *,
        answer_timeout: float,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.answer_timeout = answer_timeout
        environment = {**os.environ, **(env or {})}
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO), environment.get("PYTHONPATH")])
        )
        self.log = log_dir / f"{name}.stderr"
        self._stderr = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(child), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            cwd=REPO,
            env=environment,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send_json(self, command: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> dict:
        """The next answer; ``{"exited": code}`` if the process ended instead."""
        try:
            line = self.lines.get(timeout=self.answer_timeout)
        except queue.Empty:
            raise AssertionError(f"{self.name} did not answer in {self.answer_timeout} s") from None
        if line is None:
            self._stderr.flush()
            return {"exited": self.proc.wait(timeout=30)}
        return json.loads(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send_json({"op": "quit"})
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()

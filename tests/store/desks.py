"""Workstations as real OS processes on one data folder (desk_child.py), each bounded in time."""

from __future__ import annotations

from pathlib import Path

from tests.desk_process import DeskProcess

CHILD = Path(__file__).with_name("desk_child.py")
ANSWER_TIMEOUT = 120  # seconds: a key change re-encrypts the database under a lock


class Desk(DeskProcess):
    """One workstation (desk_child.py) on ``folder``."""

    def __init__(self, folder: Path, name: str, log_dir: Path) -> None:
        super().__init__(CHILD, folder, name, log_dir, answer_timeout=ANSWER_TIMEOUT)

    def send(self, op: str, **cmd) -> None:
        self.send_json({"op": op, **cmd})

    def ask(self, op: str, **cmd) -> dict:
        self.send(op, **cmd)
        return self.answer()

    def do(self, op: str, **cmd):
        """``ask``, expecting success."""
        answer = self.ask(op, **cmd)
        assert "ok" in answer, f"{self.name} {op}: {answer}\n{self.log.read_text()}"
        return answer["ok"]

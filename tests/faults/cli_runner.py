"""The command line run in this process, its passwords on standard input as a script gives them."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

import pytest

from clinicdesk.cli import main
from clinicdesk.logs import log


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str, stdin: str = ""
) -> Ran:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    handlers = list(log.handlers)
    try:
        code = main(list(args))
    finally:  # the command logs into its clinic's folder: that ends with the test
        for added in [h for h in log.handlers if h not in handlers]:
            log.removeHandler(added)
            added.close()
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def assert_refused_with_a_sentence(ran: Ran, *words: str) -> None:
    """Exit code 2 and one line ending in a full stop, naming what is wrong; no traceback."""
    assert ran.code == 2, (ran.out, ran.err)
    assert "Traceback" not in ran.err
    message = ran.err.strip()
    assert message.startswith("clinicdesk: ") and message.endswith("."), message
    for word in words:
        assert word in message, message

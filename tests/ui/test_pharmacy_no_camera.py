"""A pharmacy PC without the PulseAudio library (libpulse), which Qt Multimedia needs on Linux:
the counter still opens and scans, and the Camera button says what is missing instead of
offering a camera that cannot start.

Qt Multimedia's import is made to fail as it does on such a machine, so this runs anywhere.
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

import pytest
from test_pharmacy_counter import own_settings, pharmacy
from test_pharmacy_dispense_ui import look_up

from ui.pharmacy.camera import CameraScanDialog

__all__ = ["own_settings"]  # the fixture shared with the counter's tests

NO_LIBPULSE = "libpulse.so.0: cannot open shared object file: No such file or directory"


class WithoutLibpulse(MetaPathFinder):
    """Qt Multimedia fails to import with the loader's own message, as without libpulse0."""

    def find_spec(self, name, path, target=None):
        if name == "PySide6.QtMultimedia":
            raise ImportError(NO_LIBPULSE)
        return None


@pytest.fixture
def without_libpulse(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "PySide6.QtMultimedia", raising=False)
    monkeypatch.setattr(sys, "meta_path", [WithoutLibpulse(), *sys.meta_path])


def test_the_counter_opens_and_scans_with_the_camera_button_saying_what_is_missing(
    qtbot, make_main, counter, without_libpulse
):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    button = workspace.counter.camera_button
    assert not button.isEnabled()
    assert "camera cannot be used on this computer" in button.toolTip()
    assert "libpulse.so.0" in button.toolTip()
    assert "sudo apt install libpulse0" in button.toolTip()
    assert look_up(qtbot, workspace, counter.rx.reference).startswith("Genuine")


def test_the_camera_dialog_names_the_missing_library(qtbot, make_main, counter, without_libpulse):
    _main, workspace = pharmacy(qtbot, make_main, counter)
    dialog = CameraScanDialog(workspace.counter.ctx, workspace)
    assert dialog.sink is None
    assert "libpulse.so.0" in dialog.message.text()
    assert "type the reference number" in dialog.message.text()

"""A pharmacy PC without the PulseAudio library (libpulse), which Qt Multimedia needs on Linux:
the counter still opens and scans, and the Camera button says what is missing instead of
offering a camera that cannot start.

Qt Multimedia's import is made to fail as it does on such a machine, so this runs anywhere; on a
machine without libpulse, tests/ui/test_pharmacy_camera.py's skip goes through the real failure.
"""

from __future__ import annotations

import pytest
from test_pharmacy_counter import pharmacy
from test_pharmacy_dispense_ui import look_up

from ui.pharmacy import camera
from ui.pharmacy.camera import CameraScanDialog

pytestmark = pytest.mark.usefixtures("own_settings")

NO_LIBPULSE = "libpulse.so.0: cannot open shared object file: No such file or directory"


@pytest.fixture
def without_libpulse(monkeypatch) -> None:
    """Qt Multimedia's import fails with the loader's own message, as it does without libpulse0.

    (Its real import is replaced, not undone: once loaded, Qt Multimedia cannot be unloaded.)
    """

    def fails() -> None:
        raise ImportError(NO_LIBPULSE)

    monkeypatch.setattr(camera, "load_qt_multimedia", fails)


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

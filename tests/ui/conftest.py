"""Fixtures for driving the real widgets: the style sheet applied, a main window signed in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import shiboken6
from PySide6.QtCore import QDate, QEvent, QSettings, Qt
from PySide6.QtWidgets import QApplication

from clinicdesk.services.access import ClinicSession, sign_in
from tests.clinical.clinic_setup import (
    DOCTOR_PASSWORD,
    Consultation,
    add_gp,
    register,
    walk_in_consultation,
)
from tests.pharmacy.pharmacy_setup import Counter, counter_template, open_counter
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.tasks import TaskRunner
from ui.theme import stylesheet

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL_SHIFT = CTRL | SHIFT


@pytest.fixture(autouse=True)
def styled(qapp: QApplication) -> Iterator[None]:
    """The style sheet on; afterwards every window of the test is closed and really deleted.

    Windows left for the interpreter's exit are torn down in no safe order and crash it.
    """
    qapp.setStyleSheet(stylesheet())
    yield
    for widget in QApplication.topLevelWidgets():
        widget.hide()  # not close(): a dialog with typed input would ask to discard it
        widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()


@pytest.fixture
def shared(request: pytest.FixtureRequest) -> ModuleType:
    """tests/conftest.py itself, for its constants (ADMIN_PASSWORD, STAFF_PASSWORD, ...).

    ``import conftest`` here would find this file, not that one.
    """
    root = Path(__file__).resolve().parent.parent / "conftest.py"
    for plugin in request.config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == root:
            return plugin
    raise LookupError("tests/conftest.py is not loaded")


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "ui-settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def own_settings(tmp_path: Path) -> None:
    """Whatever the app remembers (paper size, folders) goes to a file of this test, not the
    user's: ``pytestmark = pytest.mark.usefixtures("own_settings")``."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))


@pytest.fixture
def tasks(qtbot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.wait()


@pytest.fixture
def make_main(qtbot, admin, tasks: TaskRunner):
    """``make_main(session, idle_ms=None)``: a shown main window for a signed-in session.

    Depends on ``admin`` so that its teardown (waiting for background calls) runs before the
    sessions are closed.
    """
    windows: list[MainWindow] = []

    def make(session, idle_ms: int | None = None) -> MainWindow:
        ctx = AppContext(session, tasks, session.clinic.details())
        window = MainWindow(ctx, idle_ms=idle_ms)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
        windows.append(window)
        return window

    yield make
    tasks.wait()
    for window in windows:
        window.idle.detach()


def gone(dialog) -> bool:
    """Closed (and possibly already deleted)."""
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def wait_idle(qtbot, tasks: TaskRunner, timeout: int = 5000) -> None:
    """Until every background call has finished and delivered its result."""
    qtbot.waitUntil(lambda: not tasks.busy, timeout=timeout)


def open_booking_dialog(qtbot, admin: ClinicSession, tasks: TaskRunner, patient, doctor, day):
    """The booking dialog for ``patient`` with ``doctor``, its first day set to ``day``, loaded."""
    from ui.frontdesk.booking_dialog import BookingDialog
    from ui.frontdesk.schedule_data import load_directory

    ctx = AppContext(admin, tasks, admin.clinic.details())
    dialog = BookingDialog(ctx, load_directory(admin, admin.actor), patient, doctor)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_idle(qtbot, tasks)
    dialog.first_day.setDate(QDate(day.year, day.month, day.day))
    wait_idle(qtbot, tasks)
    return dialog


@pytest.fixture
def counter(tmp_path_factory, tmp_path, tasks: TaskRunner) -> Iterator[Counter]:
    """A pharmacy: the three-item prescription, a pharmacist and stock (a copy of one clinic
    built once per run; see tests/pharmacy/pharmacy_setup.py)."""
    template = counter_template(tmp_path_factory.getbasetemp())
    with open_counter(template, tmp_path / "pharmacy") as opened:
        yield opened
        tasks.wait()


@pytest.fixture
def consultation(admin, tasks: TaskRunner) -> Iterator[Consultation]:
    """A walk-in being seen by the GP, their visit open."""
    consult = walk_in_consultation(admin)
    yield consult
    tasks.wait()
    consult.doctor.close()


@pytest.fixture
def doctor(admin, tasks: TaskRunner) -> Iterator[ClinicSession]:
    """The GP signed in, with two walk-ins waiting: Nikos first, then Amara."""
    add_gp(admin)
    for given, family in (("Νίκος", "Παπαδόπουλος"), ("Amara", "Okoye")):
        admin.queue.add_walk_in(admin.actor, register(admin, given, family))
    session = sign_in(admin.folder, "dr.hale", DOCTOR_PASSWORD)
    yield session
    tasks.wait()
    session.close()

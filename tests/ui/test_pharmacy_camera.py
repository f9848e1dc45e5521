"""Scanning with the camera: frames of a printed prescription read on a worker, one at a time.

These need Qt Multimedia, which on Linux needs the PulseAudio library (libpulse0); without it
they are skipped with that reason (tests/ui/test_pharmacy_no_camera.py covers that machine).
"""

from __future__ import annotations

import io

import pytest
import qrcode
from conftest import wait_idle  # tests/ui/conftest.py
from PIL import Image
from PySide6.QtGui import QColor, QImage

from tests.pdf_pages import page_images
from tests.pharmacy.pharmacy_setup import Counter
from ui.context import AppContext
from ui.pharmacy.camera import NO_CAMERA, NOT_A_PRESCRIPTION, CameraScanDialog, camera_unavailable

if (why := camera_unavailable()) is not None:
    pytest.skip(
        f"Qt Multimedia cannot be loaded, so there is no camera to test: {why}",
        allow_module_level=True,
    )

from PySide6.QtMultimedia import QCameraDevice, QMediaDevices, QVideoFrame, QVideoSink


@pytest.fixture
def ctx(counter, tasks) -> AppContext:
    session = counter.pharmacist
    return AppContext(session, tasks, session.clinic.details())


def frame_of(picture: Image.Image) -> QVideoFrame:
    png = io.BytesIO()
    picture.save(png, "PNG")
    return QVideoFrame(QImage.fromData(png.getvalue(), "PNG"))


def page_frame(counter: Counter) -> QVideoFrame:
    """The printed prescription as a camera would see it: the A5 page at about 110 dpi."""
    doctor = counter.doctor
    return frame_of(page_images(doctor.prescriptions.pdf(doctor.actor, counter.rx.id), 110)[0])


def blank_frame() -> QVideoFrame:
    image = QImage(640, 480, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    return QVideoFrame(image)


def open_dialog(qtbot, ctx: AppContext, sink: QVideoSink) -> tuple[CameraScanDialog, list[str]]:
    dialog = CameraScanDialog(ctx, sink=sink)
    found: list[str] = []
    dialog.codeFound.connect(found.append)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog, found


def test_the_camera_reads_the_printed_prescription(qtbot, ctx, counter, tasks):
    sink = QVideoSink()
    dialog, found = open_dialog(qtbot, ctx, sink)
    sink.setVideoFrame(page_frame(counter))
    qtbot.waitUntil(lambda: bool(found), timeout=10000)
    assert found == [counter.rx.code]
    assert not dialog.isVisible()


def test_frames_arriving_while_one_is_read_are_dropped(qtbot, ctx, counter, tasks):
    sink = QVideoSink()
    dialog, found = open_dialog(qtbot, ctx, sink)
    frames = [page_frame(counter) for _ in range(5)]
    for frame in frames:  # the first is being read: its answer comes back through the event loop
        sink.setVideoFrame(frame)
    assert (dialog.frames_read, dialog.frames_dropped) == (1, 4)
    qtbot.waitUntil(lambda: bool(found), timeout=10000)
    assert found == [counter.rx.code]  # once, though five frames held the code
    wait_idle(qtbot, tasks)
    assert found == [counter.rx.code]


def test_a_blank_frame_finds_nothing_and_the_camera_keeps_looking(qtbot, ctx, counter, tasks):
    sink = QVideoSink()
    dialog, found = open_dialog(qtbot, ctx, sink)
    sink.setVideoFrame(blank_frame())
    qtbot.waitUntil(lambda: not dialog.decoding, timeout=10000)
    assert found == [] and dialog.isVisible()
    assert NOT_A_PRESCRIPTION not in dialog.message.text()
    sink.setVideoFrame(page_frame(counter))  # then the paper comes into view
    qtbot.waitUntil(lambda: bool(found), timeout=10000)
    assert found == [counter.rx.code]


def test_a_code_that_is_not_a_prescription_gets_a_hint(qtbot, ctx, tasks):
    picture = qrcode.make("https://example.org/not-a-prescription").get_image()
    sink = QVideoSink()
    dialog, found = open_dialog(qtbot, ctx, sink)
    sink.setVideoFrame(frame_of(picture))
    qtbot.waitUntil(lambda: NOT_A_PRESCRIPTION in dialog.message.text(), timeout=10000)
    assert found == [] and dialog.isVisible()


def test_without_a_camera_the_dialog_says_how_else_to_scan(qtbot, ctx, monkeypatch):
    """No video input here (the test machine has none)."""
    monkeypatch.setattr(QMediaDevices, "defaultVideoInput", staticmethod(QCameraDevice))
    dialog = CameraScanDialog(ctx)
    assert dialog.message.text() == NO_CAMERA and dialog.sink is None

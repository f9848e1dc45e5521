"""Scanning a prescription with the webcam (Qt Multimedia); frames decoded on a worker.

Every frame the camera delivers is shown; a frame is also turned into 8-bit grey on the UI
thread (cheap) and read by zxing-cpp on a worker. While one frame is being read, the frames
that arrive are shown but not read: nothing queues up behind a slow decode, so the newest
picture is always the next one read.

Qt Multimedia is imported only when the pharmacy opens: a machine without it (Linux without
the PulseAudio library, libpulse) or without a camera still runs the rest of the pharmacy. The
Camera button is then disabled and says what is missing, and the dialog says how else to scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QSizePolicy, QWidget

from clinicdesk.rx.code_text import prescription_code
from clinicdesk.rx.scan import codes_in_frame
from ui.context import AppContext
from ui.errors import describe
from ui.system_libraries import install_command, library_in_error
from ui.theme import set_kind
from ui.widgets.dialogs import titled_layout

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QVideoFrame, QVideoSink

OTHER_WAYS = "Scan with the hand scanner, open a picture, or type the reference number."
NO_CAMERA = f"No camera was found. {OTHER_WAYS}"
LOOKING = "Hold the prescription's square code up to the camera."
NOT_A_PRESCRIPTION = "That code is not a prescription. Show the code printed on the prescription."
CAMERA_UNUSABLE = "The camera cannot be used on this computer"
PREVIEW_SIZE = (640, 400)
BEST_PIXELS = 1280 * 720  # sharp enough for the code at arm's length, cheap enough to read


def load_qt_multimedia() -> None:
    """Import Qt Multimedia; on Linux its import fails when libpulse is not installed."""
    import PySide6.QtMultimedia  # noqa: F401


def camera_unavailable() -> str | None:
    """Why the camera cannot be used on this computer, in words (what is missing and how to
    install it); None when Qt Multimedia loads."""
    try:
        load_qt_multimedia()
    except ImportError as error:
        library = library_in_error(error)
        if library is None:
            return f"{CAMERA_UNUSABLE}: Qt Multimedia could not be loaded ({error}). {OTHER_WAYS}"
        return (
            f"{CAMERA_UNUSABLE}: the library {library} that Qt Multimedia needs is not installed "
            f"(on Debian or Ubuntu an administrator installs it with "
            f"'{install_command([library])}'). {OTHER_WAYS}"
        )
    return None


def frame_format(formats: list) -> object | None:
    """The camera's largest picture up to 1280×720 (else its smallest): a 4K frame would only
    slow every read down."""
    if not formats:
        return None

    def pixels(f) -> int:
        return f.resolution().width() * f.resolution().height()

    small = [f for f in formats if pixels(f) <= BEST_PIXELS]
    return max(small, key=pixels) if small else min(formats, key=pixels)


def grey_frame(image: QImage) -> tuple[bytes, int, int, int]:
    """The picture as 8-bit grey pixels: (bytes, width, height, bytes per line)."""
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return bytes(grey.constBits()), grey.width(), grey.height(), grey.bytesPerLine()


class CameraScanDialog(QDialog):
    """Shows the camera; emits ``codeFound`` with the first prescription code seen, then closes.

    ``sink`` replaces the camera as the source of frames (each ``videoFrameChanged`` is read as
    a camera frame would be).
    """

    codeFound = Signal(str)

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, sink: QVideoSink | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Scan with the camera")
        self.decoding = False
        self.frames_read = 0
        self.frames_dropped = 0
        self._found = False
        self.camera = None
        self.capture = None
        layout, _title = titled_layout(self, "Scan with the camera")
        self.preview = QLabel()
        self.preview.setAccessibleName("Camera picture")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(*PREVIEW_SIZE)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setStyleSheet("QLabel { background: #1d2a35; border-radius: 8px; }")
        layout.addWidget(self.preview, 1)
        self.message = QLabel(LOOKING)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Camera message")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.finished.connect(self._stop)
        self.sink = sink if sink is not None else self._open_camera()
        if self.sink is not None:
            self.sink.videoFrameChanged.connect(self.feed_frame)

    # ---- the camera ----

    def _open_camera(self) -> QVideoSink | None:
        why = camera_unavailable()
        if why is not None:
            self._no_camera(why)
            return None
        from PySide6.QtMultimedia import QCamera, QMediaCaptureSession, QMediaDevices, QVideoSink

        device = QMediaDevices.defaultVideoInput()
        if device.isNull():
            self._no_camera(NO_CAMERA)
            return None
        sink = QVideoSink(self)
        self.camera = QCamera(device, self)
        chosen = frame_format(device.videoFormats())
        if chosen is not None:
            self.camera.setCameraFormat(chosen)
        self.camera.errorOccurred.connect(self._camera_failed)
        self.capture = QMediaCaptureSession(self)
        self.capture.setCamera(self.camera)
        self.capture.setVideoSink(sink)
        self.camera.start()
        return sink

    def _camera_failed(self, _error, text: str) -> None:
        self._no_camera(f"The camera stopped working ({text}). {OTHER_WAYS}")

    def _no_camera(self, text: str) -> None:
        self.preview.setText("No camera picture")
        self.preview.setStyleSheet("QLabel { background: #f1f5f8; color: #5b6b79; }")
        self.message.setText(text)
        set_kind(self.message, "banner")

    def _stop(self, _result: int = 0) -> None:
        if self.camera is not None:
            self.camera.stop()

    # ---- frames ----

    def feed_frame(self, frame: QVideoFrame) -> None:
        """Show the frame; read it on a worker unless a frame is being read already."""
        if self._found or not frame.isValid():
            return
        image = frame.toImage()
        if image.isNull():
            return
        self._show(image)
        if self.decoding:
            self.frames_dropped += 1
            return
        self.decoding = True
        self.frames_read += 1
        self.ctx.tasks.submit(
            codes_in_frame,
            *grey_frame(image),
            on_result=self._read,
            on_error=self._failed,
            owner=self,
        )

    def _show(self, image: QImage) -> None:
        size = self.preview.size()
        self.preview.setPixmap(
            QPixmap.fromImage(image).scaled(
                size,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )

    def _read(self, texts: list[str]) -> None:
        self.decoding = False
        code = prescription_code(texts)
        if code is not None and not self._found:
            self._found = True
            self.codeFound.emit(code)
            self.accept()
        elif texts:
            self.message.setText(NOT_A_PRESCRIPTION)
            set_kind(self.message, "banner")

    def _failed(self, error: BaseException) -> None:
        self.decoding = False
        self.message.setText(describe(error))
        set_kind(self.message, "banner")

"""The counter: one screen per patient at the counter. Scan, read the verdict, dispense, print.

A prescription arrives by the USB scanner (caught wherever the focus is, ui/pharmacy/wedge.py),
as a picture or PDF (opened with Ctrl+O, pasted with Ctrl+V or dropped here), through the
camera, or as its reference number typed by hand. Decoding and every service call run on the
workers; ``verdictShown`` fires once the answer is on screen. Esc readies it for the next patient.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.money import money_text
from clinicdesk.rx import reference
from clinicdesk.rx.code_text import looks_like_code
from clinicdesk.rx.scan import (
    MAX_FILE_BYTES,
    UnreadablePicture,
    best_code,
    codes_in_file,
    codes_in_image,
)
from clinicdesk.services.pharmacy_views import (
    CAMERA,
    PASTED,
    PICTURE,
    DispenseView,
    Verdict,
)
from ui.context import AppContext
from ui.pharmacy.camera import CameraScanDialog, camera_unavailable, grey_frame
from ui.pharmacy.dispense_dialog import DispenseDialog
from ui.pharmacy.dispense_printing import LABELS, RECEIPT, print_dispense, save_dispense
from ui.pharmacy.reference_field import ReferenceField
from ui.pharmacy.verdict_view import VerdictView
from ui.tasks import Task
from ui.theme import icon, set_kind
from ui.widgets.keys import view_shortcuts
from ui.widgets.printing import keys_back
from ui.widgets.reason_dialog import ask_reason

PICTURE_FILTER = "Pictures and PDFs (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif *.pdf)"


def read_picture(path: Path) -> bytes:
    """The file's bytes, refused in words when it is too large or cannot be opened."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnreadablePicture(f"it is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        return path.read_bytes()
    except OSError as error:
        raise UnreadablePicture(f"it could not be opened ({error.strerror or error})") from None


def code_in_file(path: Path) -> str:
    return best_code(codes_in_file(read_picture(path)))


def code_in_pixels(pixels: bytes, width: int, height: int, stride: int) -> str:
    """A pasted picture's code from its grey pixels (made by ``grey_frame``)."""
    image = Image.frombuffer("L", (width, height), pixels, "raw", "L", stride, 1)
    return best_code(codes_in_image(image))


class CounterView(QWidget):
    verdictShown = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: Task | None = None
        self.dispense: DispenseView | None = None
        self.dialog: DispenseDialog | None = None
        self.setAcceptDrops(True)

        self.verdict_view = VerdictView(ctx.details.time_zone)
        self.status = QLabel()
        set_kind(self.status, "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(self._scan_strip())
        layout.addWidget(self.status)
        layout.addWidget(self.verdict_view, 1)
        layout.addLayout(self._actions())
        view_shortcuts(
            self,
            (
                ("Ctrl+O", self.open_picture),
                ("Ctrl+V", self.paste),
                ("Ctrl+D", self.open_dispense),
                ("Ctrl+Shift+L", self.print_labels),
                ("Ctrl+Shift+R", self.print_receipt),
                ("Esc", self.clear),
            ),
        )
        self.clear()

    def _scan_strip(self) -> QFrame:
        strip = QFrame(objectName="ScanStrip")
        hint = QLabel("Scan the prescription's code")
        set_kind(hint, "title")
        more = QLabel(
            "Or open a picture or PDF of it, paste one, use the camera, or type its reference "
            "number."
        )
        set_kind(more, "muted")
        more.setWordWrap(True)
        self.open_button = QPushButton("Open picture or PDF…  Ctrl+O")
        self.open_button.clicked.connect(self.open_picture)
        self.paste_button = QPushButton("Paste  Ctrl+V")
        self.paste_button.setToolTip("A picture, or a code copied as text")
        self.paste_button.clicked.connect(self.paste)
        self.camera_button = QPushButton("Camera…")
        self.camera_button.clicked.connect(self.open_camera)
        unavailable = camera_unavailable()
        if unavailable is not None:
            self.camera_button.setEnabled(False)
            self.camera_button.setToolTip(unavailable)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.paste_button, self.camera_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(hint)
        left.addWidget(more)
        left.addLayout(buttons)

        caption = QLabel("Reference number")
        set_kind(caption, "section")
        self.reference = ReferenceField()
        self.reference.setFixedWidth(280)  # steady while its message changes as digits come
        self.reference.submitted.connect(self.look_up)
        right = QVBoxLayout()
        right.addWidget(caption)
        right.addWidget(self.reference)
        right.addStretch(1)

        row = QHBoxLayout(strip)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(left, 1)
        row.addSpacing(24)
        row.addLayout(right)
        return strip

    def _actions(self) -> QHBoxLayout:
        self.dispense_button = QPushButton(icon("check", "#ffffff"), "Dispense…  Ctrl+D")
        set_kind(self.dispense_button, "primary")
        self.dispense_button.clicked.connect(self.open_dispense)
        self.reject_button = QPushButton("Do not dispense…")
        set_kind(self.reject_button, "danger")
        self.reject_button.clicked.connect(self.ask_reject)
        self.labels_button = QPushButton(icon("print"), "Labels  Ctrl+Shift+L")
        self.labels_button.setToolTip("Print a label for each item given")
        self.labels_button.setAccessibleName("Print labels")
        self.labels_button.clicked.connect(self.print_labels)
        self.receipt_button = QPushButton(icon("print"), "Receipt  Ctrl+Shift+R")
        self.receipt_button.setToolTip("Print the receipt")
        self.receipt_button.setAccessibleName("Print receipt")
        self.receipt_button.clicked.connect(self.print_receipt)
        self.save_button = QPushButton("Save as PDF")
        saving = QMenu(self.save_button)
        self.save_labels_action = saving.addAction("Labels…", lambda: self._save(LABELS))
        self.save_receipt_action = saving.addAction("Receipt…", lambda: self._save(RECEIPT))
        self.save_button.setMenu(saving)
        self.next_button = QPushButton("Next patient  Esc")
        self.next_button.clicked.connect(self.clear)
        row = QHBoxLayout()
        for button in (
            self.dispense_button,
            self.reject_button,
            self.labels_button,
            self.receipt_button,
            self.save_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.next_button)
        return row

    def focus_view(self) -> None:
        """The reference field while the counter waits; else where the keys already are."""
        idle = not self.verdict_view.banner.isVisibleTo(self)
        if idle or not self.isAncestorOf(QApplication.focusWidget()):
            self.reference.edit.setFocus()

    def refresh(self) -> None:
        """Re-read the verdict on screen (not counted as a scan) when the counter is shown
        again: what remains, and the patient's allergies, may have changed meanwhile."""
        verdict = self._settled()
        if verdict is None or self.dialog is not None:
            return
        pharmacy, actor = self.ctx.session.pharmacy, self.ctx.actor
        self._ask(
            lambda: pharmacy.verdict(actor, verdict.code),
            "Reading the prescription again…",
            self._reread,
        )

    def _reread(self, verdict: Verdict) -> None:
        self.task = None
        self.verdict_view.show_verdict(verdict)
        self._say("")
        self._update_actions()
        self.verdictShown.emit()

    # ---- the four ways in ----

    def scan(self, code: str, method: str) -> None:
        pharmacy, actor = self.ctx.session.pharmacy, self.ctx.actor
        self._ask(lambda: pharmacy.scan(actor, code, method), "Checking the prescription…")

    def look_up(self, digits: str) -> None:
        pharmacy, actor = self.ctx.session.pharmacy, self.ctx.actor
        self.reference.set_digits(digits)
        self._ask(lambda: pharmacy.look_up(actor, digits), "Looking up the reference number…")

    def scan_picture(self, find_code: Callable[[], str]) -> None:
        """Read and decode on a worker, then verify there too: the picture never blocks."""
        pharmacy, actor = self.ctx.session.pharmacy, self.ctx.actor
        self._ask(lambda: pharmacy.scan(actor, find_code(), PICTURE), "Reading the picture…")

    def open_picture(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Open a picture or PDF of the prescription", "", PICTURE_FILTER
        )
        keys_back(self)
        if path:
            self.scan_picture(lambda: code_in_file(Path(path)))

    def paste(self) -> None:
        mime = QApplication.clipboard().mimeData()
        text = (mime.text() or "").strip() if mime is not None else ""
        image = QImage(mime.imageData()) if mime is not None and mime.hasImage() else QImage()
        if not image.isNull():
            # grey pixels here take a few ms; encoding a page as PNG here took seconds
            grey = grey_frame(image)
            self.scan_picture(lambda: code_in_pixels(*grey))
        elif looks_like_code(text):
            self.scan(text, PASTED)
        elif reference.is_valid(reference.normalize(text)):
            self.look_up(reference.normalize(text))
        elif mime is not None and mime.hasUrls() and mime.urls()[0].isLocalFile():
            path = Path(mime.urls()[0].toLocalFile())
            self.scan_picture(lambda: code_in_file(path))
        else:
            self._say("The clipboard holds no picture, prescription code or reference number.")

    def open_camera(self) -> None:
        dialog = CameraScanDialog(self.ctx, self)
        dialog.codeFound.connect(lambda code: self.scan(code, CAMERA))
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self._back_from_dialog)
        dialog.open()

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = Path(event.mimeData().urls()[0].toLocalFile())
        event.acceptProposedAction()
        self.scan_picture(lambda: code_in_file(path))

    # ---- the answer ----

    def _ask(
        self,
        call: Callable[[], Verdict],
        doing: str,
        on_result: Callable[[Verdict], None] | None = None,
    ) -> None:
        """One question at a time: a newer scan replaces the answer of an older one (a re-read
        after a dispense included), so no answer about another code lands on the screen."""
        if self.task is not None:
            self.task.cancel()
        self._say(doing)
        self.task = self.ctx.tasks.submit(
            call, on_result=on_result or self._verdict, on_error=self._refused, owner=self
        )

    def _verdict(self, verdict: Verdict) -> None:
        self.task = None
        self.dispense = None
        self.verdict_view.show_verdict(verdict)
        self._shown()

    def _refused(self, error: BaseException) -> None:
        self.task = None
        self.dispense = None
        self.verdict_view.show_refusal(error)
        self._shown()

    def _shown(self) -> None:
        self._say("")
        self._update_actions()
        if self.verdict_view.genuine:
            self.dispense_button.setFocus()
        elif not self.isAncestorOf(QApplication.focusWidget()):
            self.next_button.setFocus()
        self.verdictShown.emit()

    def clear(self) -> None:
        """Ready for the next patient."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.dispense = None
        self.verdict_view.clear()
        self.reference.clear()
        self._say("")
        self._update_actions()
        if self.isVisible():
            self.reference.edit.setFocus()

    def _update_actions(self) -> None:
        genuine = self.verdict_view.genuine
        self.dispense_button.setVisible(genuine)
        self.reject_button.setVisible(genuine and self.dispense is None)  # then: print
        for button in (self.labels_button, self.receipt_button, self.save_button):
            button.setVisible(self.dispense is not None)
        self.next_button.setVisible(self.verdict_view.banner.isVisibleTo(self))

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # ---- dispensing ----

    def _settled(self) -> Verdict | None:
        """The genuine verdict on screen, unless another answer is on its way to replace it."""
        verdict = self.verdict_view.verdict
        if not self.verdict_view.genuine or self.task is not None:
            return None
        return verdict

    def open_dispense(self) -> None:
        verdict = self._settled()
        if verdict is None or self.dialog is not None:
            return
        dialog = DispenseDialog(self.ctx, verdict, self)
        dialog.submitted.connect(lambda view: self._dispensed(view, verdict.code))
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self, _result: int) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None
        self._back_from_dialog()

    def _back_from_dialog(self, _result: int = 0) -> None:
        keys_back(self)
        self.focus_view()

    def _dispensed(self, view: DispenseView, code: str) -> None:
        """Re-read the prescription just dispensed (``code``), not whatever the screen shows."""
        items = "1 item" if len(view.lines) == 1 else f"{len(view.lines)} items"
        total = money_text(view.total, view.currency)
        self.ctx.notify(f"Dispensed to {view.patient_name}: {items}, {total}.")
        pharmacy, actor = self.ctx.session.pharmacy, self.ctx.actor
        self._ask(
            lambda: pharmacy.verdict(actor, code),
            "Reading what remains…",
            lambda fresh: self._after_dispense(fresh, view),
        )

    def _after_dispense(self, verdict: Verdict, view: DispenseView) -> None:
        self.task = None
        self.verdict_view.show_verdict(verdict)
        self.dispense = view
        self._update_actions()
        self._say(f"Dispensed at {view.at:%H:%M} by {view.by}. Print the labels and receipt.")
        self.labels_button.setFocus()
        self.verdictShown.emit()

    def ask_reject(self) -> None:
        verdict = self._settled()
        if verdict is None:
            return
        pharmacy, actor = self.ctx.session.pharmacy, self.ctx.actor

        def rejected(_none: None) -> None:
            self.ctx.notify(f"{verdict.content.patient_name}: not dispensed; the reason is kept.")
            if self.verdict_view.verdict is verdict:  # not a patient scanned meanwhile
                self.clear()

        asked = ask_reason(
            self.ctx,
            self,
            "Do not dispense",
            "Why is this prescription not dispensed?",
            "Do not dispense",
            lambda reason: partial(pharmacy.reject, actor, verdict.code, reason),
            rejected,
            hint="The reason is kept with the prescription.",
        )
        asked.finished.connect(self._back_from_dialog)  # given or cancelled: keys come back

    # ---- labels and receipt ----

    def print_labels(self) -> None:
        self._print(LABELS)

    def print_receipt(self) -> None:
        self._print(RECEIPT)

    def _print(self, what: str) -> None:
        if self.dispense is not None:
            print_dispense(self.ctx, self, self.dispense.id, what)

    def _save(self, what: str) -> None:
        if self.dispense is not None:
            save_dispense(self.ctx, self, self.dispense.id, self.dispense.reference, what)

"""Changing the clinic's key from the Users screen: a confirmation that says what happens, the
work on a worker thread, and a progress window that names each stage as the core reports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from clinicdesk.services.users import KeyChange
from ui.context import AppContext

CHANGE_KEY_QUESTION = (
    "Change the clinic's key?\n\n"
    "The clinic's data is encrypted again with a new key. Everyone keeps their password, and "
    "other workstations carry on by themselves after a moment. A copy of the key file or a "
    "password that someone should no longer have will not open the clinic's data afterwards.\n\n"
    "Backups made before still open with the passwords of their time, including those of "
    "removed accounts."
)


def not_carried_text(names: tuple[str, ...]) -> str:
    """What a key change does to accounts whose slot it cannot carry over, said before it."""
    if not names:
        return ""
    count = len(names)
    return (
        f"\n\n{count} account{'s have' if count != 1 else ' has'} not signed in since ClinicDesk "
        f"was updated; {'they' if count != 1 else 'it'} will need a new password (set with the "
        f"recovery key): {', '.join(names)}."
    )


class _Stages(QObject):
    """Carries the core's progress reports from the worker to the UI thread."""

    stage = Signal(str)


def run_key_change(
    parent: QWidget,
    ctx: AppContext,
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
) -> None:
    """Run ``fn(*args, progress=...)`` off the UI thread with a progress window."""
    dialog = QProgressDialog("Preparing the new key…", "", 0, 0, parent)
    dialog.setWindowTitle("Changing the clinic's key")
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    stages = _Stages(dialog)
    stages.stage.connect(lambda text: dialog.setLabelText(text + "…"))
    dialog.show()

    def finished(value: Any) -> None:
        dialog.close()
        dialog.deleteLater()
        on_result(value)

    def failed(error: BaseException) -> None:
        dialog.close()
        dialog.deleteLater()
        on_error(error)

    ctx.tasks.submit(
        fn, *args, progress=stages.stage.emit, on_result=finished, on_error=failed, owner=parent
    )


def show_outcome(parent: QWidget, change: KeyChange | None) -> None:
    """A new recovery key is shown once, as at set-up."""
    if change is None or not change.recovery_key:
        return
    box = QMessageBox(parent)
    box.setWindowTitle("New recovery key")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setText(
        "The old recovery key could not be carried over to the new key, so the clinic has a new "
        "one. Print it or write it down and keep it somewhere safe: it is shown only now.\n\n"
        f"{change.recovery_key}"
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()

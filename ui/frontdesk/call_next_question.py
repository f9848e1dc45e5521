"""The question "Call next" asks while a patient is still with the doctor.

Calling the next patient never finishes the one in the room: the doctor chooses to finish
that visit first (it opens), or to leave it open and call the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtWidgets import QMessageBox, QWidget

from clinicdesk.services.queue import QueueView, StillInConsultation


class Answer(Enum):
    FINISH_FIRST = "finish"
    LEAVE_OPEN = "leave open"
    CANCEL = "cancel"


def ask_still_in_consultation(
    parent: QWidget,
    refusal: StillInConsultation,
    then: Callable[[Answer, QueueView], None],
    can_open_visit: bool,
) -> QMessageBox:
    """Ask, without blocking; ``then(answer, patient still in the room)`` once answered.

    Enter takes the first choice, Escape cancels, Alt+F and Alt+L choose. Reception cannot
    open a visit, so there the first choice is to leave it open.
    """
    current = refusal.with_doctor[0]
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Still in consultation",
        refusal.message,
        QMessageBox.StandardButton.Cancel,
        parent,
    )
    choices: dict[object, Answer] = {}
    if can_open_visit:
        finish = box.addButton(
            f"&Finish {current.patient_name}'s visit first", QMessageBox.ButtonRole.AcceptRole
        )
        choices[finish] = Answer.FINISH_FIRST
        box.setDefaultButton(finish)
    else:
        box.setInformativeText(
            f"The doctor finishes {current.patient_name}'s visit. If they have already left "
            "the room, Finished (Alt+F) marks them as seen."
        )
    leave = box.addButton("&Leave it open and call next", QMessageBox.ButtonRole.ActionRole)
    choices[leave] = Answer.LEAVE_OPEN
    if not can_open_visit:
        box.setDefaultButton(leave)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.finished.connect(lambda _r: then(choices.get(box.clickedButton(), Answer.CANCEL), current))
    box.finished.connect(box.deleteLater)
    box.open()
    return box

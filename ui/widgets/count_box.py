"""A spin box that counts something by name: '1 minute', '15 minutes'."""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox


class CountBox(QSpinBox):
    def __init__(
        self, one: str, minimum: int, maximum: int, value: int, many: str | None = None
    ) -> None:
        super().__init__()
        self.one, self.many = one, many or one + "s"
        self.setRange(minimum, maximum)
        self.valueChanged.connect(self._name_unit)
        self.setValue(value)
        self._name_unit(value)

    def _name_unit(self, value: int) -> None:
        self.setSuffix(f" {self.one if value == 1 else self.many}")

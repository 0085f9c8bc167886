"""A spin box for loss weights: keeps and shows small weights whole (``0.00127``, not
``0.001``), and steps by a tenth of the value's own size, so one click never turns 0.00127
into 0.101."""

from __future__ import annotations

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QWidget

#: Significant digits a weight keeps.
DIGITS = 6


class WeightSpinBox(QDoubleSpinBox):
    """Weights from 0 to a million, shown with up to :data:`DIGITS` significant digits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)  # kept: the text below shows what matters
        self.setRange(0.0, 1e6)  # a negative weight cannot be typed
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt's name
        return f"{value:.{DIGITS}g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt's name
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: ANN201 - Qt's (state, text, pos)
        stripped = text.strip().replace(",", ".")
        if stripped in ("", ".", "-"):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            if stripped.lower().endswith(("e", "e-", "e+")):
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


__all__ = ["WeightSpinBox"]

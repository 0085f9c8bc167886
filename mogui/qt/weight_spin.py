"""Number boxes that show a number's significant digits: settings (``0.001``, not
``0.001000``) and loss weights, which keep small weights whole (``0.00127``, not ``0.001``)
and step by a tenth of the value's own size, so one click never turns 0.00127 into 0.101."""

from __future__ import annotations

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QWidget

#: Significant digits a weight keeps.
DIGITS = 6


class SignificantSpinBox(QDoubleSpinBox):
    """A number box showing up to :data:`DIGITS` significant digits (``0.001``, not
    ``0.001000``; ``0.00127``, not ``0.001``); typed numbers in any notation (``2.5e-4``)."""

    def __init__(self, low: float, high: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)  # kept: the text below shows what matters
        self.setRange(low, high)
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




class WeightSpinBox(SignificantSpinBox):
    """Loss weights from 0 to a million, stepping by a tenth of the value's own size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0.0, 1e6, parent)  # a negative weight cannot be typed
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)


__all__ = ["SignificantSpinBox", "WeightSpinBox"]

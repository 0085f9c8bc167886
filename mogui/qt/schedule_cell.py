"""A head's loss-weight schedule in the Losses table: its kind and its parameters, in one cell.

The cell only shows a :class:`~mogui.core.project.WeightSchedule` and reports what the user
chose (``kind_chosen``, ``parameter_changed``); the table turns those into document edits. Each
parameter box shows its name as a prefix and takes values within the schedule's range only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QSpinBox, QWidget

from mogui.core.balancing import WEIGHT_SCHEDULES, Parameter
from mogui.core.project import WeightSchedule
from mogui.qt.balancing_form import NumberBox, parameter_tooltip


def schedule_text(schedule: WeightSchedule) -> str:
    """The schedule in words, with its parameters: ``Step: gamma 0.5, every 10``."""
    kind = WEIGHT_SCHEDULES[schedule.kind]
    settings = {**kind.defaults, **schedule.params}
    values = ", ".join(f"{name} {settings[name]:g}" for name in kind.defaults)
    return f"{kind.title}: {values}" if values else kind.title


class ScheduleCell(QWidget):
    """Kind | one box per parameter of the kind, for the head ``head``."""

    kind_chosen = Signal(str)  # a schedule kind the user picked
    parameter_changed = Signal(str, float)  # parameter name, value the user entered

    def __init__(self, head: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.head = head
        self._kind: str | None = None
        self.boxes: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.combo = QComboBox(self)
        self.combo.setObjectName(f"scheduleCombo_{head}")
        for kind in WEIGHT_SCHEDULES.values():
            self.combo.addItem(kind.title, kind.name)
            self.combo.setItemData(self.combo.count() - 1, f"{kind.title}: {kind.summary}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.activated.connect(lambda i: self.kind_chosen.emit(self.combo.itemData(i)))
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(2, 0, 2, 0)
        self._layout.setSpacing(4)
        self._layout.addWidget(self.combo)
        self._layout.addStretch(1)

    @property
    def kind(self) -> str | None:
        """The kind shown."""
        return self._kind

    def show_schedule(self, schedule: WeightSchedule, enabled: bool = True) -> None:
        """Show ``schedule`` (signals held); ``enabled`` False for a head without a loss."""
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(schedule.kind))
        self.combo.blockSignals(False)
        if schedule.kind != self._kind:
            self._make_boxes(schedule.kind)
        settings = {**WEIGHT_SCHEDULES[schedule.kind].defaults, **schedule.params}
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setValue(settings[name])
            box.blockSignals(False)
        self.setEnabled(enabled)
        self.setToolTip(f"'{self.head}': {schedule_text(schedule)}. How the loss weight changes "
                        "over the epochs; select several heads to set it for all of them")

    def _make_boxes(self, kind: str) -> None:
        for box in self.boxes.values():
            self._layout.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for index, parameter in enumerate(WEIGHT_SCHEDULES[kind].parameters, start=1):
            box = self._box(parameter)
            self._layout.insertWidget(index, box)
            self.boxes[parameter.name] = box
        self._kind = kind

    def _box(self, parameter: Parameter) -> QSpinBox | QDoubleSpinBox:
        box: QSpinBox | QDoubleSpinBox
        if parameter.integer:
            box = QSpinBox(self)
            box.setRange(int(parameter.minimum), int(parameter.maximum))
        else:
            box = NumberBox(self)
            box.setDecimals(4)
            box.setRange(parameter.minimum, parameter.maximum)
            box.setSingleStep(0.1)
        box.setPrefix(f"{parameter.name} ")
        box.setObjectName(f"scheduleParam_{self.head}_{parameter.name}")
        box.setToolTip(parameter_tooltip(parameter))
        box.setKeyboardTracking(False)
        box.valueChanged.connect(
            lambda value, name=parameter.name: self.parameter_changed.emit(name, float(value)))
        return box

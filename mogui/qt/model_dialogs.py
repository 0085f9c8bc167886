"""Small dialogs of the model editor: add a head, add a layer (kind picker)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from mogui.core.layers import LAYER_KINDS
from mogui.core.tasks import TASKS, Task


def _buttons(dialog: QDialog, form: QFormLayout) -> None:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                           | QDialogButtonBox.StandardButton.Cancel)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    form.addRow(box)


class AddHeadDialog(QDialog):
    """Asks for a new head's name, task and number of units."""

    def __init__(self, suggested_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add head")
        form = QFormLayout(self)
        self.name_edit = QLineEdit(suggested_name, objectName="headNameEdit")
        self.task_combo = QComboBox(objectName="headTaskCombo")
        for task in Task:
            self.task_combo.addItem(TASKS[task].label, task.value)
        self.units_spin = QSpinBox(objectName="headUnitsSpin")
        self.units_spin.setRange(1, 100_000)
        self.units_spin.setValue(1)
        form.addRow("Name", self.name_edit)
        form.addRow("Task", self.task_combo)
        form.addRow("Units", self.units_spin)
        _buttons(self, form)

    def values(self) -> tuple[str, Task, int]:
        return (self.name_edit.text().strip(), Task(self.task_combo.currentData()),
                self.units_spin.value())


class AddLayerDialog(QDialog):
    """Picks a layer kind from the catalog and a name for the new layer."""

    def __init__(self, title: str, name_for_kind, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.setWindowTitle(title)
        self._name_for_kind = name_for_kind
        form = QFormLayout(self)
        self.kind_combo = QComboBox(objectName="layerKindCombo")
        for kind in sorted(LAYER_KINDS.values(), key=lambda k: (k.category, k.name)):
            self.kind_combo.addItem(f"{kind.category}: {kind.name} — {kind.summary}", kind.name)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData("Dense"))
        self.name_edit = QLineEdit(name_for_kind("Dense"), objectName="layerNameEdit")
        self.kind_combo.currentIndexChanged.connect(self._suggest_name)
        form.addRow("Kind", self.kind_combo)
        form.addRow("Name", self.name_edit)
        _buttons(self, form)

    def set_kind(self, kind: str) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def _suggest_name(self) -> None:
        self.name_edit.setText(self._name_for_kind(self.kind_combo.currentData()))

    def values(self) -> tuple[str, str]:
        return self.kind_combo.currentData(), self.name_edit.text().strip()

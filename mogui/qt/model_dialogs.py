"""Small dialogs of the model editor: add a head, add a layer (kind picker), rename.

Given the project, each dialog checks what it asks for with the project's own rules (a name
unique across inputs, layers and heads and usable by Keras; units of at least 1) when OK is
pressed, and stays open with the reason under the field until it is fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from mogui.core.demo_targets import DemoQuantity
from mogui.core.layers import LAYER_KINDS
from mogui.core.project import HeadLoss, HeadSpec, Project
from mogui.core.tasks import TASKS, Task
from mogui.core.validation import field_problems, name_problem
from mogui.qt.form_editors import INT_LIMIT, with_message

#: The "Trains on" entry for a head the demo data does not feed.
NO_DEMO_TARGET = "(none: no demo target; switch its loss off or use your own data)"


def _buttons(dialog: QDialog, form: QFormLayout) -> None:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                           | QDialogButtonBox.StandardButton.Cancel)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    form.addRow(box)


class AddHeadDialog(QDialog):
    """Asks for a new head's name, task and number of units.

    With ``demo_quantities`` (the project trains on the demo data) a "Trains on" combo offers
    them; choosing one fills in the task and units, and the name (``name_for(quantity)``, a
    free name) unless the user typed one.
    """

    def __init__(self, suggested_name: str, parent: QWidget | None = None,
                 demo_quantities: Sequence[DemoQuantity] | None = None,
                 name_for: Callable[[str], str] = str, *,
                 project: Project | None = None) -> None:
        """``project``: the head is checked against it on OK (name, units)."""
        super().__init__(parent)
        self.setWindowTitle("Add head")
        self.setMinimumWidth(420)  # room for a message of a few words a line
        form = QFormLayout(self)
        self._project = project
        self._name_for = name_for
        self._name_typed = False
        self.name_edit = QLineEdit(suggested_name, objectName="headNameEdit")
        self.name_edit.textEdited.connect(self._mark_name_typed)
        self.task_combo = QComboBox(objectName="headTaskCombo")
        for task in Task:
            self.task_combo.addItem(TASKS[task].label, task.value)
        self.units_spin = QSpinBox(objectName="headUnitsSpin")
        self.units_spin.setRange(-INT_LIMIT, INT_LIMIT)  # the project's rules judge it
        self.units_spin.setValue(1)
        self.name_check, name_field = with_message(self.name_edit, "headName")
        self.units_check, units_field = with_message(self.units_spin, "headUnits")
        self.demo_combo: QComboBox | None = None
        if demo_quantities is not None:
            self.demo_combo = QComboBox(objectName="headDemoTargetCombo")
            for quantity in demo_quantities:
                self.demo_combo.addItem(quantity.label, quantity)
            self.demo_combo.addItem(NO_DEMO_TARGET, None)
            self.demo_combo.setToolTip("Which target of the demo shapes data the head learns")
            self.demo_combo.currentIndexChanged.connect(self._apply_demo_target)
            form.addRow("Trains on", self.demo_combo)
        form.addRow("Name", name_field)
        form.addRow("Task", self.task_combo)
        form.addRow("Units", units_field)
        _buttons(self, form)
        self._apply_demo_target()

    def accept(self) -> None:
        """Close with OK only when the project takes the head as it is filled in."""
        if self._project is not None:
            name, task, units = self.values()
            self.name_check.report(_name_text(name_problem(self._project, name, head=True)))
            trial = self._project.model_copy(deep=True)
            trial.heads.append(HeadSpec.model_construct(name=name, task=task, units=units,
                                                        activation=None, source=None,
                                                        layers=[], loss=HeadLoss()))
            field = f"heads[{len(trial.heads) - 1}].units"
            self.units_check.report("; ".join(
                f"Units {p.message}" for p in field_problems(trial, field)))
            if self.name_check.local_error or self.units_check.local_error:
                self._fit_messages()
                return
        super().accept()

    def _fit_messages(self) -> None:
        """Grow to show the message lines whole (a wrapped label's height depends on its
        width, which the form's size hint does not follow)."""
        self.layout().activate()
        needed = self.layout().totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def demo_target(self) -> str | None:
        """The chosen demo quantity's name, or ``None``."""
        quantity = self.demo_combo.currentData() if self.demo_combo is not None else None
        return quantity.name if quantity is not None else None

    def set_demo_target(self, name: str | None) -> None:
        if self.demo_combo is None:
            raise ValueError("the project's data is not the demo")
        for i in range(self.demo_combo.count()):
            quantity = self.demo_combo.itemData(i)
            if (quantity.name if quantity is not None else None) == name:
                self.demo_combo.setCurrentIndex(i)
                return
        raise ValueError(f"{name!r} is not offered")

    def _mark_name_typed(self) -> None:
        self._name_typed = True

    def _apply_demo_target(self) -> None:
        if self.demo_combo is None:
            return
        quantity = self.demo_combo.currentData()
        fixed = quantity is not None
        self.task_combo.setEnabled(not fixed)
        self.units_spin.setEnabled(not fixed)
        if not fixed:
            return
        self.task_combo.setCurrentIndex(self.task_combo.findData(quantity.task.value))
        self.units_spin.setValue(quantity.units)
        if not self._name_typed:
            self.name_edit.setText(self._name_for(quantity.name))

    def values(self) -> tuple[str, Task, int]:
        return (self.name_edit.text().strip(), Task(self.task_combo.currentData()),
                self.units_spin.value())


class AddLayerDialog(QDialog):
    """Picks a layer kind from the catalog and a name for the new layer."""

    def __init__(self, title: str, name_for_kind, parent: QWidget | None = None, *,  # noqa: ANN001
                 project: Project | None = None) -> None:
        """``project``: the name is checked against it on OK."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self._name_for_kind = name_for_kind
        self._project = project
        form = QFormLayout(self)
        self.kind_combo = QComboBox(objectName="layerKindCombo")
        for kind in sorted(LAYER_KINDS.values(), key=lambda k: (k.category, k.name)):
            self.kind_combo.addItem(f"{kind.category}: {kind.name} — {kind.summary}", kind.name)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData("Dense"))
        self.name_edit = QLineEdit(name_for_kind("Dense"), objectName="layerNameEdit")
        self.name_check, name_field = with_message(self.name_edit, "layerName")
        self.kind_combo.currentIndexChanged.connect(self._suggest_name)
        form.addRow("Kind", self.kind_combo)
        form.addRow("Name", name_field)
        _buttons(self, form)

    def accept(self) -> None:
        """Close with OK only when the name can be used."""
        if self._project is not None:
            _kind, name = self.values()
            self.name_check.report(_name_text(name_problem(self._project, name)))
            if self.name_check.local_error:
                return
        super().accept()

    def set_kind(self, kind: str) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def _suggest_name(self) -> None:
        self.name_edit.setText(self._name_for_kind(self.kind_combo.currentData()))

    def values(self) -> tuple[str, str]:
        return self.kind_combo.currentData(), self.name_edit.text().strip()


class RenameDialog(QDialog):
    """Asks for a new name for the item at ``path``; OK only with a name the project takes."""

    def __init__(self, project: Project, path: str, current: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rename")
        self._project = project
        self._path = path
        form = QFormLayout(self)
        self.name_edit = QLineEdit(current, objectName="renameEdit")
        self.name_edit.selectAll()
        self.name_check, name_field = with_message(self.name_edit, "rename")
        form.addRow(f"New name for {current}", name_field)
        _buttons(self, form)

    def name(self) -> str:
        return self.name_edit.text().strip()

    def accept(self) -> None:
        self.name_check.report(_name_text(name_problem(self._project, self.name(), self._path)))
        if not self.name_check.local_error:
            super().accept()


def _name_text(problem: str | None) -> str:
    """A name problem as a sentence under the name field."""
    return f"The name {problem}" if problem else ""

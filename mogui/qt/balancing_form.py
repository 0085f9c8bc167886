"""The Training tab's Balancing group: how the heads' losses are combined, and on how many
devices training runs.

The method list is grouped by family (fixed, loss-based, gradient-based); each entry's tooltip
gives what it does and its paper. The chosen method's parameters get typed number boxes that
show their values (the defaults until changed). Every change is one undoable edit of the
document; a value the method does not allow is not applied, and the reason shows under its box.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mogui.core.balancing import BALANCING_METHODS, BalancingMethod, Parameter
from mogui.core.project import Project
from mogui.qt.document import ProjectDocument
from mogui.qt.form_editors import FLOAT_LIMIT, INT_LIMIT, Editor, compact, spin_editor

#: (kind, heading in the method list, what a step costs).
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("fixed", "Fixed", "One backward pass per step."),
    ("loss", "Loss-based", "Weights from the losses: one backward pass per step, like fixed "
     "weights."),
    ("gradient", "Gradient-based", "Works on each head's gradient of the shared layers: one "
     "backward pass per head each step, so a step costs about as many passes as heads."),
)
_COST = {kind: cost for kind, _heading, cost in FAMILIES}


def method_tooltip(method: BalancingMethod) -> str:
    """What the method does and where it comes from, for its entry in the list."""
    text = f"{method.title}: {method.summary}."
    return f"{text}\n{method.paper}" if method.paper else text


def parameter_tooltip(parameter: Parameter) -> str:
    return (f"{parameter.help}: from {parameter.minimum:g} to {parameter.maximum:g}, "
            f"default {parameter.default:g}")


class NumberBox(QDoubleSpinBox):
    """A number box that shows values as written (0.025, 1e-06), not with fixed decimals."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt's name
        return f"{value:.6g}"


def _parameter_box(parameter: Parameter) -> QSpinBox | QDoubleSpinBox:
    """A box for ``parameter`` that takes any number: the method's range is checked on commit
    (with a message), not by clamping what is typed."""
    box: QSpinBox | QDoubleSpinBox
    if parameter.integer:
        box = QSpinBox()
        box.setRange(-INT_LIMIT, INT_LIMIT)
        compact(box)
    else:
        box = NumberBox()
        box.setDecimals(9)
        box.setRange(-FLOAT_LIMIT, FLOAT_LIMIT)
        box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        compact(box, "-0.000000")
    box.setKeyboardTracking(False)
    box.setObjectName(f"balancingParam_{parameter.name}")
    box.setToolTip(parameter_tooltip(parameter))
    box.setAccessibleName(parameter.name)
    return box


class BalancingGroup(QGroupBox):
    """Edits ``project.training.balancing`` and ``project.training.devices`` of the document."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__("Balancing", parent)
        self.setObjectName("balancingGroup")
        self._document = document
        self._shown_method: str | None = None
        self.parameters: dict[str, Editor] = {}

        self.method_combo = QComboBox(self)
        self.method_combo.setObjectName("balancingMethod")
        self.method_combo.setAccessibleName("Balancing method")
        self.method_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        # Wide enough for the longest name ("Geometric loss strategy"), never cut short.
        self.method_combo.setMinimumContentsLength(
            max(len(m.title) for m in BALANCING_METHODS.values()))
        self._fill_methods()
        self.method_combo.activated.connect(self._on_method_chosen)

        self.devices = spin_editor(self._committer("devices", "Devices", int))
        self.devices.widget.setObjectName("setting_devices")
        self.devices.widget.setAccessibleName("Devices")
        self.devices.widget.setToolTip(
            "Devices (GPUs) trained on at once, each on a share of every batch "
            "(tf.distribute.MirroredStrategy); 1 trains on one device")
        self.devices.error_label.setObjectName("error_devices")

        self.note = QLabel(self)
        self.note.setObjectName("balancingNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        self.problem_label = QLabel(self)
        self.problem_label.setObjectName("balancingProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #c62828;")
        self.problem_label.hide()

        # One row, as wide as the settings above it and no wider: method, its parameters,
        # devices, what a step costs; the messages of refused entries go under the row.
        self.row = QHBoxLayout()
        self.row.setSpacing(6)
        self.row.addWidget(QLabel("Method:", self))
        self.row.addWidget(self.method_combo)
        self._parameter_widgets: list[QWidget] = []
        self.row.addSpacing(12)
        self.row.addWidget(QLabel("Devices:", self))
        self.row.addWidget(self.devices.widget)
        self.row.addSpacing(12)
        self.row.addWidget(self.note, 1)
        self.messages = QVBoxLayout()
        self.messages.setSpacing(2)
        self.messages.addWidget(self.devices.error_label)
        self.messages.addWidget(self.problem_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addLayout(self.row)
        layout.addLayout(self.messages)
        document.changed.connect(self.sync)
        self.sync()

    # -- the method list --------------------------------------------------------------------
    def _fill_methods(self) -> None:
        combo = self.method_combo
        model = combo.model()
        assert isinstance(model, QStandardItemModel)
        heading_font = QFont(combo.font())
        heading_font.setBold(True)
        for kind, heading, _cost in FAMILIES:
            combo.addItem(heading)
            item = model.item(combo.count() - 1)
            item.setFlags(item.flags() & ~(Qt.ItemFlag.ItemIsSelectable
                                           | Qt.ItemFlag.ItemIsEnabled))
            item.setFont(heading_font)
            for method in BALANCING_METHODS.values():
                if method.kind == kind:
                    combo.addItem(f"   {method.title}", method.name)
                    combo.setItemData(combo.count() - 1, method_tooltip(method),
                                      Qt.ItemDataRole.ToolTipRole)

    def method_names(self) -> list[str]:
        """The methods the list offers, in its order (headings left out)."""
        combo = self.method_combo
        return [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i)]

    def choose_method(self, name: str) -> None:
        """Pick ``name`` in the list as a user would (for tests and scripts)."""
        index = self.method_combo.findData(name)
        self.method_combo.setCurrentIndex(index)
        self.method_combo.activated.emit(index)

    def _on_method_chosen(self, index: int) -> None:
        name = self.method_combo.itemData(index)
        if not name:
            return
        method = BALANCING_METHODS[name]

        def mutate(project: Project) -> None:
            balancing = project.training.balancing
            if balancing.method != name:
                balancing.method = name
                balancing.params = {}  # another method's parameters do not apply

        self._document.edit(f"Balancing: {method.title}", mutate)
        self.sync()

    # -- parameters -------------------------------------------------------------------------
    def _show_parameters(self, method: BalancingMethod) -> None:
        """One box per parameter of ``method`` (rows of another method are removed)."""
        for widget in self._parameter_widgets:
            widget.setParent(None)  # out of the layout and the group now, deleted later
            widget.deleteLater()
        self._parameter_widgets = []
        self.parameters = {}
        for index, parameter in enumerate(method.parameters):
            box = _parameter_box(parameter)
            kind: type = int if parameter.integer else float
            editor = Editor(box, lambda value, b=box: b.setValue(value))
            editor.error_label.setObjectName(f"balancingParamError_{parameter.name}")
            box.valueChanged.connect(self._committer(parameter.name, parameter.name, kind,
                                                     parameter))
            self.parameters[parameter.name] = editor
            label = QLabel(f"{parameter.name}:", self)
            label.setToolTip(parameter.help)
            label.setIndent(10)
            self.row.insertWidget(2 + 2 * index, label)
            self.row.insertWidget(3 + 2 * index, box)
            self.messages.insertWidget(index, editor.error_label)
            self._parameter_widgets += [label, box, editor.error_label]
        self._shown_method = method.name

    def _committer(self, name: str, label: str, kind: type,
                   parameter: Parameter | None = None) -> Callable[[Any], None]:
        def commit(value: Any) -> None:
            value = kind(value)
            editor = self.devices if parameter is None else self.parameters[name]
            if parameter is None:
                field, text = "training.devices", f"Devices: {value}"

                def mutate(project: Project) -> None:
                    project.training.devices = value
            else:
                field, text = "training.balancing", f"Balancing {label}: {value:g}"

                def mutate(project: Project) -> None:
                    params = project.training.balancing.params
                    if value == parameter.default:
                        params.pop(name, None)  # a missing parameter takes its default
                    else:
                        params[name] = float(value)

            editor.local_error = ""
            refused = self._document.edit_field(text, field, mutate)
            if refused:
                kept = self._value(name) if parameter is not None else \
                    self._document.project.training.devices
                method = self._document.project.training.balancing.method
                reasons = " ".join(p.message.removeprefix(f"Balancing '{method}': ").rstrip(".")
                                   + "." for p in refused)
                shown = f"{kept:g}" if isinstance(kept, float) else str(kept)
                prefix = "" if parameter is not None else f"{label} "
                editor.report(f"{prefix}{reasons} Not applied: still {shown}.")
            else:
                editor.report("")
            self.sync()

        return commit

    def _value(self, name: str) -> float:
        return self._document.project.training.balancing.settings()[name]

    def error_text(self, name: str) -> str:
        """Why the entry for parameter ``name`` (or ``"devices"``) was not applied."""
        editor = self.devices if name == "devices" else self.parameters[name]
        return editor.error_label.text()

    # -- project -> widgets -----------------------------------------------------------------
    def sync(self) -> None:
        """Show the document's method, parameters and devices."""
        training = self._document.project.training
        method = BALANCING_METHODS[training.balancing.method]
        combo = self.method_combo
        combo.blockSignals(True)
        combo.setCurrentIndex(combo.findData(method.name))
        combo.blockSignals(False)
        combo.setToolTip(method_tooltip(method))
        if method.name != self._shown_method:
            self._show_parameters(method)
        settings = training.balancing.settings()
        for name, editor in self.parameters.items():
            editor.show_value(settings[name])
        self.devices.show_value(training.devices)
        self.note.setText(_COST[method.kind])
        problems = [p.message for p in self._document.problems
                    if p.path == "training.balancing"
                    or p.path.startswith("training.balancing.")]
        self.problem_label.setText(" ".join(problems))
        self.problem_label.setVisible(bool(problems))

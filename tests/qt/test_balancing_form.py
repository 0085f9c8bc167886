"""The Balancing group of the training settings: method, typed parameters and devices, each
edit one undo step; values a method does not allow are refused with a message."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSpinBox

from mogui.core.balancing import BALANCING_METHODS
from mogui.qt.balancing_form import BalancingGroup
from mogui.qt.document import ProjectDocument
from mogui.qt.training_settings import TrainingSettingsForm

pytestmark = pytest.mark.gui


@pytest.fixture
def document(demo_project) -> ProjectDocument:
    return ProjectDocument(demo_project)


@pytest.fixture
def group(qtbot, document) -> BalancingGroup:
    form = TrainingSettingsForm(document)
    qtbot.addWidget(form)
    form.show()
    return form.balancing


def _type(box: QSpinBox | QDoubleSpinBox, text: str) -> None:
    """Type ``text`` into a number box and press Enter, as a user would."""
    line = box.lineEdit()
    line.selectAll()
    line.insert(text)
    box.interpretText()  # what Enter does: the box takes the text and commits it


def test_the_methods_are_listed_by_family_with_their_paper(group):
    combo = group.findChild(QComboBox, "balancingMethod")
    assert group.method_names() == list(BALANCING_METHODS)  # all 14, catalog order
    assert len(group.method_names()) == 14
    texts = [combo.itemText(i).strip() for i in range(combo.count())]
    headings = [text for i, text in enumerate(texts) if not combo.itemData(i)]
    assert headings == ["Fixed", "Loss-based", "Gradient-based"]
    assert texts.index("Loss-based") < texts.index("Uncertainty weighting") \
        < texts.index("Gradient-based") < texts.index("PCGrad")
    heading = combo.model().item(texts.index("Gradient-based"))
    assert not heading.flags() & Qt.ItemFlag.ItemIsSelectable  # a heading cannot be chosen
    tip = combo.itemData(combo.findData("mgda"), Qt.ItemDataRole.ToolTipRole)
    assert "min-norm" in tip and "Sener & Koltun" in tip
    assert combo.currentData() == "equal" and "Fixed weights" in combo.toolTip()


def test_choosing_a_method_is_one_undo_step_and_undo_restores_it(group, document):
    stack = document.undo_stack
    group.choose_method("cagrad")
    balancing = document.project.training.balancing
    assert (balancing.method, balancing.params) == ("cagrad", {})
    assert stack.count() == 1 and stack.undoText() == "Balancing: CAGrad"
    # The method's parameters, with their defaults; a whole number gets a whole-number box.
    assert set(group.parameters) == {"c", "iterations"}
    c_box = group.findChild(QDoubleSpinBox, "balancingParam_c")
    iterations = group.findChild(QSpinBox, "balancingParam_iterations")
    assert c_box.value() == pytest.approx(0.5) and iterations.value() == 20
    assert "from 1 to 1000" in iterations.toolTip()
    assert "gradient" in group.findChild(QLabel, "balancingNote").text()
    stack.undo()
    assert document.project.training.balancing.method == "equal"
    assert group.method_combo.currentData() == "equal" and group.parameters == {}
    stack.redo()
    assert group.method_combo.currentData() == "cagrad"


def test_a_parameter_edit_is_stored_undone_and_dropped_at_its_default(group, document):
    group.choose_method("famo")
    lr = group.findChild(QDoubleSpinBox, "balancingParam_lr")
    assert lr.text() == "0.025"  # shown as written, not with fixed decimals
    _type(lr, "0.05")
    assert document.project.training.balancing.params == {"lr": 0.05}
    assert document.undo_stack.undoText() == "Balancing lr: 0.05"
    document.undo_stack.undo()
    assert document.project.training.balancing.params == {}
    assert lr.value() == pytest.approx(0.025)
    document.undo_stack.redo()
    _type(lr, "0.025")  # back to the default: nothing left to store
    assert document.project.training.balancing.params == {}
    assert document.project.training.balancing.settings()["lr"] == pytest.approx(0.025)


def test_another_method_drops_the_parameters_of_the_last(group, document):
    group.choose_method("gradnorm")
    _type(group.findChild(QDoubleSpinBox, "balancingParam_alpha"), "0.5")
    assert document.project.training.balancing.params == {"alpha": 0.5}
    group.choose_method("dwa")
    assert document.project.training.balancing.params == {}
    assert set(group.parameters) == {"temperature"}
    assert group.findChild(QDoubleSpinBox, "balancingParam_alpha") is None


@pytest.mark.parametrize(("method", "name", "text", "why"), [
    ("famo", "lr", "50", "use a value from 1e-06 to 10"),
    ("cagrad", "c", "-1", "use a value from 0 to 10"),
    ("mgda", "iterations", "0", "use a value from 1 to 1000"),
])
def test_a_parameter_out_of_range_is_refused_with_a_message(qtbot, group, document, method,
                                                            name, text, why):
    group.choose_method(method)
    steps = document.undo_stack.count()
    box = group.parameters[name].widget
    _type(box, text)
    message = group.error_text(name)
    assert why in message and "Not applied: still" in message, message
    assert f"'{name}' is {text}" in message
    assert document.project.training.balancing.params == {}  # the project kept its value
    assert document.undo_stack.count() == steps
    error = group.findChild(QLabel, f"balancingParamError_{name}")
    assert error.text() == message
    qtbot.waitUntil(error.isVisible)  # rows made for the method are shown by the event loop
    assert box.value() == pytest.approx(float(text))  # the entry stays, marked
    default = BALANCING_METHODS[method].defaults[name]
    _type(box, str(default * 2 if default else 1))  # a good value clears the message
    assert group.error_text(name) == ""
    assert document.project.training.balancing.params == {name: default * 2 if default else 1}


def test_devices_edit_and_refusal(group, document):
    devices = group.findChild(QSpinBox, "setting_devices")
    assert devices.value() == 1
    _type(devices, "2")
    assert document.project.training.devices == 2
    assert document.undo_stack.undoText() == "Devices: 2"
    _type(devices, "0")
    assert document.project.training.devices == 2
    assert "must be >= 1" in group.error_text("devices")
    assert "Not applied: still 2" in group.error_text("devices")
    document.undo_stack.undo()
    assert document.project.training.devices == 1 and devices.value() == 1


def test_the_group_shows_another_projects_balancing(group, document, demo_project):
    other = demo_project.model_copy(deep=True)
    other.training.balancing.method = "upgrad"
    other.training.balancing.params = {"iterations": 7}
    other.training.devices = 3
    document.replace(other, None)
    assert group.method_combo.currentData() == "upgrad"
    assert group.findChild(QSpinBox, "balancingParam_iterations").value() == 7
    assert group.findChild(QSpinBox, "setting_devices").value() == 3

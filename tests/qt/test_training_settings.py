"""TrainingSettingsForm: every setting edited through the document, undoable, shown back."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from mogui.qt.document import ProjectDocument
from mogui.qt.training_settings import SETTINGS, TrainingSettingsForm, get_setting

pytestmark = pytest.mark.gui


@pytest.fixture
def document(demo_project) -> ProjectDocument:
    return ProjectDocument(demo_project)


@pytest.fixture
def form(qtbot, document) -> TrainingSettingsForm:
    widget = TrainingSettingsForm(document)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_shows_every_setting_of_the_document(form, document):
    project = document.project
    for path, _label, _tip in SETTINGS:
        expected = get_setting(project, path)
        if isinstance(expected, float):
            expected = pytest.approx(expected)
        assert form.value(path) == expected, path
    assert form.findChild(QSpinBox, "setting_epochs").value() == project.training.epochs


def test_each_edit_is_one_undo_step_and_the_form_follows_undo(form, document):
    stack = document.undo_stack
    form.findChild(QSpinBox, "setting_epochs").setValue(7)
    form.findChild(QSpinBox, "setting_batch_size").setValue(4)
    form.findChild(QDoubleSpinBox, "setting_learning_rate").setValue(0.0003)
    form.findChild(QDoubleSpinBox, "setting_validation_split").setValue(0.25)
    form.findChild(QCheckBox, "setting_shuffle").setChecked(False)
    optimizer = form.findChild(QComboBox, "setting_optimizer")
    optimizer.textActivated.emit("sgd")
    training = document.project.training
    assert (training.epochs, training.batch_size, training.optimizer) == (7, 4, "sgd")
    assert training.learning_rate == pytest.approx(3e-4)
    assert training.validation_split == pytest.approx(0.25) and not training.shuffle
    assert stack.count() == 6 and stack.undoText() == "Optimizer: sgd"
    stack.undo()
    stack.undo()
    assert document.project.training.shuffle
    assert form.findChild(QCheckBox, "setting_shuffle").isChecked()
    assert optimizer.currentText() == "adam"
    document.edit("epochs", lambda p: setattr(p.training, "epochs", 12))
    assert form.findChild(QSpinBox, "setting_epochs").value() == 12


def test_callbacks_settings_enable_their_details(form, document):
    monitor = form.findChild(QComboBox, "setting_early_stopping_monitor")
    patience = form.findChild(QSpinBox, "setting_early_stopping_patience")
    assert not monitor.isEnabled() and not patience.isEnabled()
    form.findChild(QCheckBox, "setting_early_stopping_enabled").setChecked(True)
    assert document.project.training.early_stopping.enabled
    assert monitor.isEnabled() and patience.isEnabled()
    choices = [monitor.itemText(i) for i in range(monitor.count())]
    assert choices[:3] == ["val_loss", "val_bbox_loss", "val_classification_loss"]
    assert "classification_loss" in choices
    monitor.textActivated.emit("val_bbox_loss")
    patience.setValue(2)
    early = document.project.training.early_stopping
    assert (early.monitor, early.patience) == ("val_bbox_loss", 2)
    monitor.lineEdit().setText("val_classification_sparse_categorical_accuracy")
    monitor.lineEdit().editingFinished.emit()
    assert document.project.training.early_stopping.monitor == \
        "val_classification_sparse_categorical_accuracy"
    checkpoints = form.findChild(QCheckBox, "setting_checkpointing_enabled")
    checkpoints.setChecked(True)
    assert document.project.training.checkpointing.enabled
    assert form.findChild(QComboBox, "setting_checkpointing_monitor").isEnabled()
    form.findChild(QCheckBox, "setting_mixed_precision").setChecked(True)
    form.findChild(QSpinBox, "setting_seed").setValue(5)
    assert document.project.training.mixed_precision and document.project.training.seed == 5
    assert document.undo_stack.count() == 7


def test_keyboard_entry_commits_once_on_enter(qtbot, form, document):
    spin = form.findChild(QSpinBox, "setting_epochs")
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "25")
    assert document.project.training.epochs != 25  # nothing committed per keystroke
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert document.project.training.epochs == 25
    assert document.undo_stack.count() == 1

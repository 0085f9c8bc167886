"""The Training tab's settings form: optimizer, batches, epochs, validation, callbacks (what
early stopping and checkpoints watch: :mod:`mogui.qt.criterion_form`), the Balancing group
(:mod:`mogui.qt.balancing_form`: how the heads' losses are combined, devices) and the
Gradient diagnostics group (:mod:`mogui.qt.gradient_settings`).

Every edit goes through :meth:`ProjectDocument.edit_field` (one undo step each); a value the
project's rules refuse (a learning rate of 0, a validation split of 1, a monitor training does
not log …) is not applied and the reason shows under its field. The widgets show the
document's values again after every ``changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from mogui.core.log_keys import log_keys
from mogui.core.project import Checkpointing, EarlyStopping, Project, TrainingSettings
from mogui.qt.balancing_form import BalancingGroup
from mogui.qt.criterion_form import CriterionBox, CriterionDialog, criterion_editor
from mogui.qt.criterion_form import summary as criterion_summary
from mogui.qt.document import ProjectDocument
from mogui.qt.form_editors import Editor, editor_for_field
from mogui.qt.gradient_settings import GradientSettingsGroup

#: (path below ``project.training``, label, tooltip) of every setting the form edits.
SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("optimizer", "Optimizer", "The optimizer that updates the weights"),
    ("learning_rate", "Learning rate", "Step size of the optimizer"),
    ("batch_size", "Batch size", "Samples per training step"),
    ("epochs", "Epochs", "Passes over the training data"),
    ("validation_split", "Validation split",
     "Fraction of the samples held out to validate after each epoch (0: none)"),
    ("seed", "Seed", "Random seed for weights, shuffling and the validation split"),
    ("shuffle", "Shuffle", "Shuffle the training samples every epoch"),
    ("mixed_precision", "Mixed precision",
     "Compute in float16 where safe (faster on recent GPUs, little gain on a CPU)"),
    ("early_stopping.enabled", "Early stopping",
     "Stop when the monitored value has not improved for 'patience' epochs"),
    ("early_stopping.criterion", "Watch",
     "What early stopping watches: one value, a weighted sum, values in order, or every head"),
    ("early_stopping.monitor", "Monitor", "The logged value early stopping watches"),
    ("early_stopping.patience", "Patience", "Epochs without improvement before stopping"),
    ("early_stopping.min_delta", "Min. delta",
     "An improvement smaller than this does not count"),
    ("early_stopping.restore_best_weights", "Restore best",
     "Keep the weights of the best epoch rather than the last one"),
    ("checkpointing.enabled", "Checkpoints",
     "Save the best model of the run as checkpoint.keras in the run folder"),
    ("checkpointing.criterion", "Watch",
     "What decides the best checkpoint: one value, a weighted sum, values in order, or every "
     "head"),
    ("checkpointing.monitor", "Monitor", "The logged value that decides the best checkpoint"),
)

_MODELS: dict[str, type] = {"": TrainingSettings, "early_stopping": EarlyStopping,
                            "checkpointing": Checkpointing}


def get_setting(project: Project, path: str) -> Any:
    value: Any = project.training
    for part in path.split("."):
        value = getattr(value, part)
    return value


def set_setting(project: Project, path: str, value: Any) -> None:
    *parents, name = path.split(".")
    target: Any = project.training
    for part in parents:
        target = getattr(target, part)
    setattr(target, name, value)


def monitor_choices(project: Project) -> list[str]:
    """What training logs for the project (losses and metrics), validation values first."""
    keys = log_keys(project)
    validation = [f"val_{k}" for k in keys] if project.training.validation_split > 0 else []
    return [*validation, *keys]


def _monitor_editor(commit: Callable[[Any], None]) -> Editor:
    """An editable combo: pick a loss key or type any logged metric name."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    # Metric names run long (val_classification_sparse_categorical_accuracy): the list shows
    # them in full, the field keeps the form's width.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(14)
    combo.textActivated.connect(lambda text: commit(text.strip()) if text.strip() else None)

    def finished() -> None:
        text = combo.currentText().strip()
        if text:
            commit(text)

    combo.lineEdit().editingFinished.connect(finished)
    return Editor(combo, lambda value: combo.setCurrentText(str(value)))


class TrainingSettingsForm(QGroupBox):
    """Edits ``project.training`` of the document, compactly, in two columns."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__("Settings", parent)
        self.setObjectName("trainingSettings")
        self._document = document
        self.editors: dict[str, Editor] = {}
        for path, label, tip in SETTINGS:
            editor = self._make_editor(path)
            editor.widget.setObjectName(f"setting_{path.replace('.', '_')}")
            editor.widget.setToolTip(tip)
            editor.widget.setAccessibleName(label)
            self.editors[path] = editor
        rate = self.editors["learning_rate"].widget
        if isinstance(rate, QDoubleSpinBox):
            rate.setSingleStep(1e-4)
        split = self.editors["validation_split"].widget
        if isinstance(split, QDoubleSpinBox):
            split.setDecimals(3)
            split.setSingleStep(0.05)

        columns = QGridLayout(self)
        columns.setHorizontalSpacing(24)
        groups = (SETTINGS[:4], SETTINGS[4:8], SETTINGS[8:])
        for column, group in enumerate(groups):
            form = QFormLayout()
            form.setContentsMargins(0, 0, 0, 0)
            form.setHorizontalSpacing(8)  # labels never touch their fields
            for path, label, _tip in group:
                form.addRow(self._row_label(path, label), self._holder(path))
            columns.addLayout(form, 0, column)
        self.balancing = BalancingGroup(document, self)
        columns.addWidget(self.balancing, 1, 0, 1, len(groups))
        self.gradients = GradientSettingsGroup(document, self)
        columns.addWidget(self.gradients, 2, 0, 1, len(groups))
        columns.setColumnStretch(len(groups), 1)
        document.changed.connect(self.sync)
        self.sync()

    def _holder(self, path: str) -> QWidget:
        """The editor of ``path`` with its message line under it."""
        editor = self.editors[path]
        editor.error_label.setObjectName(f"error_{path.replace('.', '_')}")
        holder = QWidget(self)
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(editor.widget)
        box.addWidget(editor.error_label)
        return holder

    def error_text(self, path: str) -> str:
        """Why the entry of ``path`` was not applied ("" when it was)."""
        return self.editors[path].error_label.text()

    def _row_label(self, path: str, label: str) -> QLabel:
        text = QLabel(f"{label}:", self)
        if path.endswith(("monitor", "patience", "restore_best_weights", "criterion",
                          "min_delta")):
            text.setIndent(14)
        return text

    def _make_editor(self, path: str) -> Editor:
        *parents, name = path.split(".")
        info = _MODELS[".".join(parents)].model_fields[name]
        commit = self._committer(path, info.annotation)
        if name == "monitor":
            return _monitor_editor(commit)
        if name == "criterion":
            return criterion_editor(commit, lambda: self.edit_values(parents[0]))
        return editor_for_field(info.annotation, info.metadata, commit)

    def _committer(self, path: str, kind: Any) -> Callable[[Any], None]:
        label = next(text for p, text, _tip in SETTINGS if p == path)
        if path.startswith("checkpointing") and label in ("Monitor", "Watch"):
            label = "Checkpoint monitor" if label == "Monitor" else "Checkpoint criterion"
        elif path.startswith("early_stopping") and label in ("Monitor", "Watch"):
            label = "Early stopping monitor" if label == "Monitor" else \
                "Early stopping criterion"

        def commit(value: Any) -> None:
            if kind in (int, float, bool):
                value = kind(value)
            editor = self.editors[path]
            editor.local_error = ""
            refused = self._document.edit_field(
                f"{label}: {value}", f"training.{path}",
                lambda project: set_setting(project, path, value))
            if refused:
                kept = get_setting(self._document.project, path)
                reasons = "; ".join(p.message for p in refused)
                shown = f"{kept:g}" if isinstance(kept, float) else str(kept)
                editor.report(f"{label} {reasons}. Not applied: still {shown}.")
            else:
                editor.report("")
            self.sync()  # an edit that changes nothing still shows the document's value

        return commit

    def sync(self) -> None:
        """Show the document's values and enable only the settings that apply."""
        project = self._document.project
        for path, editor in self.editors.items():
            if path.endswith("monitor"):
                combo = editor.widget
                assert isinstance(combo, QComboBox)
                choices = monitor_choices(project)
                if [combo.itemText(i) for i in range(combo.count())] != choices:
                    combo.blockSignals(True)
                    combo.clear()
                    combo.addItems(choices)
                    combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)
                    combo.blockSignals(False)
                    editor.report("")  # the list was remade: show the project's value
            editor.show_value(get_setting(project, path))
        early = project.training.early_stopping.enabled
        for name in ("criterion", "patience", "min_delta", "restore_best_weights"):
            self.editors[f"early_stopping.{name}"].widget.setEnabled(early)
        self.editors["checkpointing.criterion"].widget.setEnabled(
            project.training.checkpointing.enabled)
        for name in ("early_stopping", "checkpointing"):
            setting = getattr(project.training, name)
            single = setting.criterion == "monitor"
            self.editors[f"{name}.monitor"].widget.setEnabled(setting.enabled and single)
            box = self.editors[f"{name}.criterion"].widget
            assert isinstance(box, CriterionBox)
            box.values_button.setEnabled(setting.enabled and not single)
            box.values_button.setToolTip(f"Watches {criterion_summary(project, name)}. "
                                         "Choose the values, their weights or order.")

    def edit_values(self, setting: str) -> CriterionDialog:
        """Open the dialog of the values ``setting`` (``early_stopping``, ``checkpointing``)
        watches; OK applies them as one undoable edit."""
        dialog = CriterionDialog(self._document.project, setting, self)
        title = "Early stopping" if setting == "early_stopping" else "Checkpoint"

        def apply() -> None:
            metrics = dialog.metrics()
            names = ", ".join(m.metric for m in metrics)
            self._document.edit_field(
                f"{title} values: {names}", f"training.{setting}.metrics",
                lambda project: setattr(getattr(project.training, setting), "metrics",
                                        metrics))

        dialog.accepted.connect(apply)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def value(self, path: str) -> Any:
        """What the editor of ``path`` shows (for tests and scripts)."""
        widget = self.editors[path].widget
        if isinstance(widget, CriterionBox):
            return widget.kind()
        for getter in ("isChecked", "value"):
            if hasattr(widget, getter) and not isinstance(widget, QComboBox):
                return getattr(widget, getter)()
        assert isinstance(widget, QComboBox)
        return widget.currentText()

"""What early stopping and checkpoints watch, in the Training tab's settings: the kind of
criterion (one value, a weighted sum, a lexicographic order, every head) and, in a dialog,
the values it watches with their weights or tolerances (:mod:`mogui.core.criteria`).

The form commits through the document (one undo step per edit); the dialog refuses values
training does not log, a value named twice and weights that are all 0, saying why, and keeps
what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from mogui.core.criteria import (
    KIND_TITLES,
    choices,
    default_metrics,
    describe_criterion,
    metric_direction,
)
from mogui.core.project import CriterionMetric, Project
from mogui.core.validation import field_problems
from mogui.qt.form_editors import ERROR_COLOUR, Editor

#: What each kind of criterion does, for its tooltip.
KIND_TIPS = {
    "monitor": "Watch one logged value (the Monitor below)",
    "weighted": "Watch the weighted sum of several values (an accuracy counts negatively)",
    "lexicographic": "The first value decides; within its tolerance the next one does",
    "all_heads": "Stop when no head's value has improved for 'patience' epochs; the best "
                 "epoch has the lowest sum",
}
#: The tolerance box's lowest value, shown as "min_delta": no tolerance of its own.
_NO_TOLERANCE = -1.0
COLUMNS = ("Value", "Weight", "Tolerance")


class CriterionBox(QWidget):
    """The kind of criterion (a combo box) and the button that edits the values it watches."""

    def __init__(self, commit: Callable[[str], None], edit_values: Callable[[], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox(self, objectName="criterionKind")
        for kind, title in KIND_TITLES.items():
            self.combo.addItem(title, kind)
            self.combo.setItemData(self.combo.count() - 1, KIND_TIPS[kind],
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.activated.connect(lambda index: commit(self.combo.itemData(index)))
        self.values_button = QPushButton("Values…", self, objectName="criterionValues")
        self.values_button.setToolTip("Choose the values it watches, their weights or order")
        self.values_button.clicked.connect(lambda _checked=False: edit_values())
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.combo, 1)
        row.addWidget(self.values_button)

    def kind(self) -> str:
        """The kind shown (``monitor``, ``weighted``…)."""
        return str(self.combo.currentData())

    def show_kind(self, kind: Any) -> None:
        self.combo.setCurrentIndex(max(0, self.combo.findData(str(kind))))


def criterion_editor(commit: Callable[[Any], None], edit_values: Callable[[], Any]) -> Editor:
    """The editor of a ``criterion`` field."""
    box = CriterionBox(commit, edit_values)
    return Editor(box, box.show_kind)


class CriterionDialog(QDialog):
    """The values a criterion watches, in order, with a weight or a tolerance each."""

    def __init__(self, project: Project, setting: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("criterionDialog")
        self.project = project
        self.setting = setting
        self.field = f"training.{setting}.metrics"
        watching = getattr(project.training, setting)
        self.kind = watching.criterion
        what = "Early stopping" if setting == "early_stopping" else "The best checkpoint"
        self.setWindowTitle(f"{what}: {KIND_TITLES[self.kind].lower()}")
        self.choices = choices(project)
        rows = list(watching.metrics) or default_metrics(project)
        self.rows: list[CriterionMetric] = [m.model_copy() for m in rows]

        intro = QLabel(self._intro(), self, wordWrap=True)
        self.table = QTableWidget(0, len(COLUMNS), self, objectName="criterionTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(True)
        self.table.setColumnHidden(1, self.kind == "lexicographic")
        self.table.setColumnHidden(2, self.kind != "lexicographic")
        self.table.setMinimumWidth(520)

        buttons = QHBoxLayout()
        for text, name, slot in (("Add", "addValue", self.add_row),
                                 ("Remove", "removeValue", self.remove_row),
                                 ("Up", "moveValueUp", lambda: self.move_row(-1)),
                                 ("Down", "moveValueDown", lambda: self.move_row(1)),
                                 ("Each head's loss", "headLosses", self.use_head_losses)):
            button = QPushButton(text, self, objectName=name)
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.error_label = QLabel(self, objectName="criterionError", wordWrap=True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error_label.hide()
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel, self)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(box)
        self._fill()

    def _intro(self) -> str:
        if self.kind == "lexicographic":
            return ("In order of importance: the first value decides unless two epochs are "
                    "within its tolerance, then the next one does. A tolerance shown as "
                    "min_delta uses early stopping's min_delta.")
        if self.kind == "all_heads":
            return ("Each value on its own: training stops when none has improved for "
                    "'patience' epochs. The best epoch (restored, checkpointed) has the lowest "
                    "weighted sum; a value that is better higher counts negatively.")
        return ("The weighted sum of these values is watched (lower is better); a value that "
                "is better higher, such as an accuracy, counts negatively.")

    # -- rows -------------------------------------------------------------------------------
    def _fill(self) -> None:
        self.table.setRowCount(0)
        for row, metric in enumerate(self.rows):
            self.table.insertRow(row)
            name = QComboBox(self.table)
            name.setEditable(True)
            name.addItems(self.choices)
            name.setCurrentText(metric.metric)
            name.setToolTip("lower is better" if metric_direction(metric.metric) == "min"
                            else "higher is better")
            weight = QDoubleSpinBox(self.table, decimals=3, maximum=1e6, singleStep=0.1)
            weight.setValue(metric.weight)
            tolerance = QDoubleSpinBox(self.table, decimals=4, minimum=_NO_TOLERANCE,
                                       maximum=1e6, singleStep=0.01)
            tolerance.setSpecialValueText("min_delta")
            tolerance.setValue(_NO_TOLERANCE if metric.tolerance is None else metric.tolerance)
            tolerance.valueChanged.connect(
                lambda value, box=tolerance: box.setValue(_NO_TOLERANCE)
                if _NO_TOLERANCE < value < 0 else None)
            for column, widget in enumerate((name, weight, tolerance)):
                self.table.setCellWidget(row, column, widget)

    def _read(self) -> None:
        """Take what the table shows into :attr:`rows`."""
        rows = []
        for row in range(self.table.rowCount()):
            name, weight, tolerance = (self.table.cellWidget(row, c) for c in range(3))
            assert isinstance(name, QComboBox)
            assert isinstance(weight, QDoubleSpinBox) and isinstance(tolerance, QDoubleSpinBox)
            value = tolerance.value()
            rows.append(CriterionMetric(metric=name.currentText().strip() or "?",
                                        weight=weight.value(),
                                        tolerance=None if value < 0 else value))
        self.rows = rows

    def _current(self) -> int:
        return self.table.currentRow()

    def add_row(self, metric: str = "") -> None:
        self._read()
        used = {m.metric for m in self.rows}
        name = metric or next((c for c in self.choices if c not in used), self.choices[0])
        self.rows.append(CriterionMetric(metric=name))
        self._fill()
        self.table.selectRow(len(self.rows) - 1)

    def remove_row(self) -> None:
        row = self._current()
        if row < 0 or len(self.rows) <= 1:
            return
        self._read()
        del self.rows[row]
        self._fill()
        self.table.selectRow(min(row, len(self.rows) - 1))

    def move_row(self, step: int) -> None:
        row = self._current()
        target = row + step
        if row < 0 or not 0 <= target < len(self.rows):
            return
        self._read()
        self.rows[row], self.rows[target] = self.rows[target], self.rows[row]
        self._fill()
        self.table.selectRow(target)

    def use_head_losses(self) -> None:
        self.rows = default_metrics(self.project)
        self._fill()

    # -- result -----------------------------------------------------------------------------
    def metrics(self) -> list[CriterionMetric]:
        """The values as the table shows them."""
        self._read()
        return [m.model_copy() for m in self.rows]

    def problems(self) -> list[str]:
        """What is wrong with the values shown (as the document would refuse them)."""
        after = self.project.model_copy(deep=True)
        setting = getattr(after.training, self.setting)
        setting.metrics = self.metrics()
        setting.enabled = True
        return [f"{self._where(p.path)}{p.message}." for p in field_problems(after, self.field)]

    def _where(self, path: str) -> str:
        if "[" in path:
            return f"Value {int(path[path.index('[') + 1:path.index(']')]) + 1} "
        return "It "

    def accept(self) -> None:
        problems = self.problems()
        self.error_label.setText(" ".join(problems))
        self.error_label.setVisible(bool(problems))
        if not problems:
            super().accept()


def summary(project: Project, setting: str) -> str:
    """What ``setting`` watches, in words (the Values… button's tooltip)."""
    return describe_criterion(project, getattr(project.training, setting))

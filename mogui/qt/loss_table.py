"""Per-output loss table: one row per head with loss, weight, weight schedule and metrics
widgets.

The table only shows the project and forwards user choices as document edits; it is rebuilt
when the heads change and updated in place (signals blocked) otherwise. Rows are heads by
position, so even a project opened with two heads of one name (which validation reports)
shows and edits each head in its own row.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

from mogui.core.balancing import WEIGHT_SCHEDULES
from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import CUSTOM_LOSS, LOSS_LABELS, TASKS, losses_for, metrics_for
from mogui.qt.document import ProjectDocument
from mogui.qt.dry_run_view import fit_table_height
from mogui.qt.schedule_cell import ScheduleCell
from mogui.qt.weight_spin import WeightSpinBox

NO_LOSS = "none"
#: Narrowest the table gets in a narrow window (it then scrolls sideways).
MIN_WIDTH = 480
COLUMNS = ("Head", "Task", "Loss", "Weight", "Weight schedule", "Metrics")
HEAD_COLUMN, TASK_COLUMN, LOSS_COLUMN, WEIGHT_COLUMN, SCHEDULE_COLUMN, METRICS_COLUMN = \
    range(len(COLUMNS))


def head_loss_choice(head: HeadSpec) -> str:
    """The loss id shown for ``head``: a built-in id, ``custom`` or ``none``."""
    return head.loss.kind if head.has_loss else NO_LOSS


def head_loss_template(head: HeadSpec) -> str:
    """Starting source for a custom loss of ``head``."""
    info = TASKS[head.task]
    return (
        "def loss(y_true, y_pred):\n"
        f'    """Loss for head \'{head.name}\' ({info.label.lower()}).\n\n'
        f"    y_true: {info.target}\n"
        f"    y_pred: the head's output, shape (batch, {head.units}), {head.output_activation}\n"
        "    Return one value per sample or a scalar.\n"
        '    """\n'
        f'    return keras.losses.get("{info.default_loss}")(y_true, y_pred)\n'
    )


class PerOutputLossTable(QTableWidget):
    """Head | Task | Loss | Weight | Weight schedule | Metrics.

    Several heads can be selected (Shift/Ctrl-click, Ctrl+A): a loss, weight, schedule or
    metric set in one selected row is then set for every selected head it suits, as one
    undoable edit (a schedule's parameter goes to the selected heads with the same schedule).
    """

    custom_chosen = Signal(str)  # head name whose loss was just set to custom

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("perOutputLossTable")
        self._document = document
        self._structure: tuple = ()
        self._full_width = 0
        self._rows_height = 0
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().hide()
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setToolTip("Select several heads (Shift- or Ctrl-click) to set a loss, weight, "
                        "weight schedule or metric for all of them at once")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    # -- size -------------------------------------------------------------------------------
    def fit(self, max_rows: int) -> None:
        """As tall as its rows (at most ``max_rows``, then it scrolls) and as wide as its
        columns; a window narrower than that scrolls it sideways instead of growing."""
        fit_table_height(self, max_rows)
        self._full_width, self._rows_height = self.minimumWidth(), self.minimumHeight()
        self.setMinimumWidth(min(self._full_width, MIN_WIDTH))
        self.setMaximumWidth(self._full_width)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._fit_height()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """Room for the sideways scroll bar only while the table is narrower than its columns."""
        if not self._rows_height:
            return
        narrow = self.width() < self._full_width
        bar = self.horizontalScrollBar().sizeHint().height() if narrow else 0
        if self.height() != self._rows_height + bar or self.minimumHeight() != self.height():
            self.setFixedHeight(self._rows_height + bar)

    # -- widgets per row --------------------------------------------------------------------
    def loss_combo(self, head: str) -> QComboBox:
        return self.cellWidget(self._row(head), LOSS_COLUMN)  # type: ignore[return-value]

    def weight_spin(self, head: str) -> QDoubleSpinBox:
        return self.cellWidget(self._row(head), WEIGHT_COLUMN)  # type: ignore[return-value]

    def schedule_cell(self, head: str) -> ScheduleCell:
        return self.cellWidget(self._row(head), SCHEDULE_COLUMN)  # type: ignore[return-value]

    def metrics_button(self, head: str) -> QToolButton:
        return self.cellWidget(self._row(head), METRICS_COLUMN)  # type: ignore[return-value]

    def metric_actions(self, head: str) -> dict[str, QAction]:
        menu = self.metrics_button(head).menu()
        return {a.data(): a for a in menu.actions()}

    def head_at(self, row: int) -> str | None:
        item = self.item(row, HEAD_COLUMN)
        return None if item is None else item.text()

    def _row(self, head: str) -> int:
        for row in range(self.rowCount()):
            if self.head_at(row) == head:
                return row
        raise KeyError(head)

    # -- sync -------------------------------------------------------------------------------
    def sync(self, project: Project) -> None:
        """Show ``project``'s heads; rebuild rows only when heads or tasks changed."""
        structure = tuple((h.name, h.task) for h in project.heads)
        if structure != self._structure:
            self._structure = structure
            self._rebuild(project)
        for row, head in enumerate(project.heads):
            self._update_row(row, head)

    def _rebuild(self, project: Project) -> None:
        current = self.head_at(self.currentRow()) if self.currentRow() >= 0 else None
        self.setRowCount(len(project.heads))
        for row, head in enumerate(project.heads):
            self.setItem(row, HEAD_COLUMN, QTableWidgetItem(head.name))
            task = QTableWidgetItem(TASKS[head.task].label)
            task.setToolTip(f"Targets: {TASKS[head.task].target}")
            self.setItem(row, TASK_COLUMN, task)
            self.setCellWidget(row, LOSS_COLUMN, self._make_loss_combo(row, head))
            self.setCellWidget(row, WEIGHT_COLUMN, self._make_weight_spin(row, head.name))
            self.setCellWidget(row, SCHEDULE_COLUMN, self._make_schedule_cell(row, head.name))
            self.setCellWidget(row, METRICS_COLUMN, self._make_metrics_button(row, head))
        if current in project.head_names:
            self.selectRow(project.head_names.index(current))
        self.resizeColumnsToContents()

    def _make_loss_combo(self, row: int, head: HeadSpec) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(f"lossCombo_{head.name}")
        for loss_id in [*losses_for(head.task), CUSTOM_LOSS, NO_LOSS]:
            label = "No loss" if loss_id == NO_LOSS else LOSS_LABELS.get(loss_id, loss_id)
            combo.addItem(label, loss_id)
        combo.currentIndexChanged.connect(
            lambda _i, c=combo: self._on_loss_chosen(row, c.currentData()))
        return combo

    def _make_weight_spin(self, row: int, name: str) -> QDoubleSpinBox:
        spin = WeightSpinBox(self)
        spin.setObjectName(f"weightSpin_{name}")
        spin.setToolTip("Multiplies this head's loss in the total")
        spin.valueChanged.connect(lambda value: self._on_weight(row, value))
        return spin

    def _make_schedule_cell(self, row: int, name: str) -> ScheduleCell:
        cell = ScheduleCell(name, self)
        cell.kind_chosen.connect(lambda kind: self._on_schedule_kind(row, kind))
        cell.parameter_changed.connect(
            lambda param, value: self._on_schedule_parameter(row, param, value))
        return cell

    def _make_metrics_button(self, row: int, head: HeadSpec) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(f"metricsButton_{head.name}")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        for metric in metrics_for(head.task):
            action = menu.addAction(metric)
            action.setData(metric)
            action.setCheckable(True)
            action.toggled.connect(lambda on, m=metric: self._on_metric(row, m, on))
        button.setMenu(menu)
        return button

    def _update_row(self, row: int, head: HeadSpec) -> None:
        combo: QComboBox = self.cellWidget(row, LOSS_COLUMN)
        combo.blockSignals(True)
        choice = head_loss_choice(head)
        if combo.findData(choice) < 0:
            combo.insertItem(0, LOSS_LABELS.get(choice, choice), choice)
        combo.setCurrentIndex(combo.findData(choice))
        combo.blockSignals(False)
        spin: QDoubleSpinBox = self.cellWidget(row, WEIGHT_COLUMN)
        spin.blockSignals(True)
        spin.setValue(head.loss.weight)
        spin.setEnabled(head.has_loss)
        spin.blockSignals(False)
        schedule: ScheduleCell = self.cellWidget(row, SCHEDULE_COLUMN)
        schedule.show_schedule(head.loss.schedule, head.has_loss)
        # The header sizes columns by their items, not by cell widgets: a schedule with its
        # parameter boxes needs the room it asks for ("Linear warm-up | 0.1 | 5").
        needed = schedule.sizeHint().width()
        if self.columnWidth(SCHEDULE_COLUMN) < needed:
            self.setColumnWidth(SCHEDULE_COLUMN, needed)
        button: QToolButton = self.cellWidget(row, METRICS_COLUMN)
        for action in button.menu().actions():
            action.blockSignals(True)
            action.setChecked(action.data() in head.loss.metrics)
            action.blockSignals(False)
        button.setText(", ".join(head.loss.metrics) or "none")

    # -- edits ------------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        """The rows selected, in order."""
        return sorted({index.row() for index in self.selectionModel().selectedRows()})

    def _rows_for(self, row: int) -> list[int]:
        """The rows an edit made in ``row`` applies to: the whole selection when ``row`` is in
        it, else ``row`` alone."""
        selected = self.selected_rows()
        return selected if row in selected and len(selected) > 1 else [row]

    @staticmethod
    def _what(project: Project, rows: list[int]) -> str:
        if len(rows) == 1:
            return f"'{project.heads[rows[0]].name}'"
        return f"{len(rows)} heads"

    def _on_loss_chosen(self, row: int, loss_id: str) -> None:
        project = self._document.project
        # A built-in loss goes to the heads whose task it suits; custom and none suit every head.
        everywhere = loss_id in (CUSTOM_LOSS, NO_LOSS)
        rows = [r for r in self._rows_for(row)
                if everywhere or loss_id in losses_for(project.heads[r].task)]

        def mutate(project: Project) -> None:
            for r in rows:
                loss = project.heads[r].loss
                if loss_id == NO_LOSS:
                    loss.enabled = False
                    continue
                loss.enabled = True
                loss.kind = loss_id
                if loss_id == CUSTOM_LOSS and not loss.source.strip():
                    loss.source = head_loss_template(project.heads[r])

        label = "no loss" if loss_id == NO_LOSS else loss_id
        self._document.edit(f"Loss of {self._what(project, rows)}: {label}", mutate)
        if loss_id == CUSTOM_LOSS:
            self.custom_chosen.emit(project.heads[row].name)

    def _on_weight(self, row: int, value: float) -> None:
        project = self._document.project
        rows = [r for r in self._rows_for(row) if project.heads[r].has_loss]
        rows = rows or [row]

        def mutate(project: Project) -> None:
            for r in rows:
                project.heads[r].loss.weight = float(value)

        self._document.edit(f"Loss weight of {self._what(project, rows)}: {value:g}", mutate)

    def _on_schedule_kind(self, row: int, kind: str) -> None:
        project = self._document.project
        rows = [r for r in self._rows_for(row) if project.heads[r].has_loss] or [row]

        def mutate(project: Project) -> None:
            for r in rows:
                schedule = project.heads[r].loss.schedule
                if schedule.kind != kind:
                    schedule.kind = kind
                    schedule.params = {}  # another kind's parameters do not apply

        title = WEIGHT_SCHEDULES[kind].title
        self._document.edit(f"Weight schedule of {self._what(project, rows)}: {title}", mutate)

    def _on_schedule_parameter(self, row: int, name: str, value: float) -> None:
        project = self._document.project
        kind = project.heads[row].loss.schedule.kind
        rows = [r for r in self._rows_for(row) if project.heads[r].has_loss
                and project.heads[r].loss.schedule.kind == kind] or [row]
        default = WEIGHT_SCHEDULES[kind].defaults[name]

        def mutate(project: Project) -> None:
            for r in rows:
                params = project.heads[r].loss.schedule.params
                if value == default:
                    params.pop(name, None)  # a missing parameter takes its default
                else:
                    params[name] = float(value)

        self._document.edit(f"Schedule {name} of {self._what(project, rows)}: {value:g}",
                            mutate)

    def _on_metric(self, row: int, metric: str, on: bool) -> None:
        project = self._document.project
        rows = [r for r in self._rows_for(row) if metric in metrics_for(project.heads[r].task)]

        def mutate(project: Project) -> None:
            for r in rows:
                metrics = project.heads[r].loss.metrics
                if on and metric not in metrics:
                    metrics.append(metric)
                elif not on and metric in metrics:
                    metrics.remove(metric)

        verb = "Add" if on else "Remove"
        self._document.edit(f"{verb} metric {metric} of {self._what(project, rows)}", mutate)

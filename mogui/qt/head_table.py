"""The Training tab's head table: which heads the plots show, and each head's last epoch.

One row per trained head: a check box (shown in the plots and the heatmap or not), the head's
colour (the same as its curves), its task, and the last epoch's training and validation loss
and metrics. A filter box narrows the rows by name (``*`` and ``?`` as wildcards); **All** and
**None** tick or clear the rows the filter leaves; **By task** shows only the heads of one task.
Clicking rows highlights those heads in the plots. Columns sort on a click on their header.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QItemSelection, QRegularExpression, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import EpochEnded
from mogui.core.head_palette import NO_LOSS_COLOUR
from mogui.core.tasks import TASKS, Task
from mogui.qt.loss_curves import classify_key

HEAD, TRAIN, VAL, METRICS, TASK = range(5)
COLUMNS = ("Head", "Train loss", "Val loss", "Metrics (train / val)", "Task")
CLASSIFICATION = "classification"  # every task but regression, for "By task"
_SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def format_value(value: float | None) -> str:
    """A loss or metric as the table shows it: four significant digits, "–" when unknown."""
    if value is None:
        return "–"
    return f"{value:.4g}"


def short_metric(name: str) -> str:
    """A metric's name as the table shows it: ``sparse_categorical_accuracy`` -> ``accuracy``."""
    if name == "root_mean_squared_error":
        return "rmse"
    for prefix in ("sparse_", "categorical_", "binary_"):
        name = name.replace(prefix, "")
    return name


def _sort_key(value: float | None) -> float:
    return math.inf if value is None or math.isnan(value) else float(value)


def _task_label(task: str) -> str:
    if task == CLASSIFICATION:
        return "All classification"
    try:
        return TASKS[Task(task)].label
    except ValueError:
        return task


class HeadTable(QWidget):
    """Chooses the heads the plots show; holds each head's values of the last epoch."""

    shown_changed = Signal()  # a head was ticked or cleared
    highlighted_changed = Signal()  # the rows clicked (selected) changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headTablePanel")
        self._heads: list[str] = []
        self._tasks: dict[str, str] = {}
        self._colours: dict[str, str] = {}
        self._items: dict[str, QStandardItem] = {}
        self._cleared: set[str] = set()  # heads cleared by the user, kept for the next run
        self._bulk = False
        self._epoch: int | None = None
        self._kinds: dict[str, tuple[str, bool, bool]] = {}  # log key -> classify_key of it

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("headFilter")
        self.filter_edit.setPlaceholderText("Filter heads (name, * and ?)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter)
        self.all_button = QPushButton("All", self, objectName="showAllHeads")
        self.all_button.setToolTip("Show every head the filter leaves in the list")
        self.all_button.clicked.connect(lambda _checked=False: self.select_all())
        self.none_button = QPushButton("None", self, objectName="showNoHeads")
        self.none_button.setToolTip("Hide every head the filter leaves in the list")
        self.none_button.clicked.connect(lambda _checked=False: self.select_none())
        self.task_button = QToolButton(self, objectName="showHeadsByTask")
        self.task_button.setText("By task")
        self.task_button.setToolTip("Show only the heads of one task")
        self.task_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.task_menu = QMenu(self.task_button)
        self.task_button.setMenu(self.task_menu)
        self.count_label = QLabel("", self, objectName="shownHeadsLabel")

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.model.itemChanged.connect(self._on_item_changed)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(HEAD)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(_SORT_ROLE)
        self.table = QTableView(self)
        self.table.setObjectName("headTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(HEAD, Qt.SortOrder.AscendingOrder)  # training order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        number = self.fontMetrics().horizontalAdvance("0.0001234") + 14
        for column, width in ((TRAIN, number), (VAL, number), (METRICS, 150), (TASK, 80)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for widget in (self.all_button, self.none_button, self.task_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit)
        layout.addLayout(buttons)
        layout.addWidget(self.count_label)
        layout.addWidget(self.table, 1)
        self._update_count()

    # -- heads ------------------------------------------------------------------------------
    def set_heads(self, heads: Sequence[str], tasks: dict[str, str],
                  colours: dict[str, str]) -> None:
        """One row per head, in training order, values empty; heads the user cleared for
        an earlier run of the same names stay cleared."""
        self._heads = list(heads)
        self._tasks = {head: str(tasks.get(head, "")) for head in self._heads}
        self._colours = dict(colours)
        self._epoch = None
        self._kinds = {}
        self._bulk = True
        self.model.removeRows(0, self.model.rowCount())
        self._items = {}
        for index, head in enumerate(self._heads):
            name = QStandardItem(head)
            name.setCheckable(True)
            name.setCheckState(Qt.CheckState.Unchecked if head in self._cleared
                               else Qt.CheckState.Checked)
            name.setData(QColor(self.colour_of(head)), Qt.ItemDataRole.DecorationRole)
            name.setData(index, _SORT_ROLE)
            name.setToolTip(f"{head}: tick to show its curves; click the row to highlight them")
            task = QStandardItem(self._tasks[head])
            task.setData(self._tasks[head], _SORT_ROLE)
            cells = [name, self._value_item(None), self._value_item(None), QStandardItem(""),
                     task]
            for cell in cells:
                cell.setEditable(False)
            self.model.appendRow(cells)
            self._items[head] = name
        self._bulk = False
        self.table.resizeColumnToContents(HEAD)
        self.table.setColumnWidth(HEAD, min(self.table.columnWidth(HEAD), 160))
        self._fill_task_menu()
        self._update_count()
        self.shown_changed.emit()

    @property
    def heads(self) -> list[str]:
        return list(self._heads)

    def colour_of(self, head: str) -> str:
        """The colour of ``head``'s swatch (the colour of its curves)."""
        return self._colours.get(head, NO_LOSS_COLOUR)

    def swatch_colour(self, head: str) -> str:
        """The colour the row of ``head`` actually shows (``#rrggbb``)."""
        return self._items[head].data(Qt.ItemDataRole.DecorationRole).name()

    def _value_item(self, value: float | None) -> QStandardItem:
        item = QStandardItem(format_value(value))
        item.setData(_sort_key(value), _SORT_ROLE)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def _fill_task_menu(self) -> None:
        self.task_menu.clear()
        counts: dict[str, int] = {}
        for head in self._heads:
            counts[self._tasks[head]] = counts.get(self._tasks[head], 0) + 1
        kinds = [task for task in counts if task]
        classification = sum(n for task, n in counts.items() if task and task != "regression")
        if len([task for task in kinds if task != "regression"]) > 1:
            kinds.append(CLASSIFICATION)
            counts[CLASSIFICATION] = classification
        for task in kinds:
            action = self.task_menu.addAction(f"{_task_label(task)} ({counts[task]})")
            action.setObjectName(f"showTask_{task}")
            action.triggered.connect(lambda _checked=False, t=task: self.select_task(t))
        self.task_button.setEnabled(bool(kinds))

    # -- choosing ---------------------------------------------------------------------------
    def shown_heads(self) -> list[str]:
        """The ticked heads, in training order."""
        return [head for head in self._heads
                if self._items[head].checkState() == Qt.CheckState.Checked]

    def is_shown(self, head: str) -> bool:
        return self._items[head].checkState() == Qt.CheckState.Checked

    def set_head_shown(self, head: str, shown: bool) -> None:
        self._set_checks({head: shown})

    def listed_heads(self) -> list[str]:
        """The heads the filter leaves in the list, in the order they are listed."""
        rows = range(self.proxy.rowCount())
        return [self.proxy.index(row, HEAD).data() for row in rows]

    def set_filter(self, text: str) -> None:
        """List only heads whose name contains ``text`` (``*`` and ``?`` as wildcards)."""
        if self.filter_edit.text() != text:
            self.filter_edit.setText(text)  # comes back here through textChanged
            return
        pattern = text.strip()
        if any(char in pattern for char in "*?"):
            wildcard = QRegularExpression.wildcardToRegularExpression(
                pattern, QRegularExpression.WildcardConversionOption.UnanchoredWildcardConversion)
            expression = QRegularExpression(
                wildcard, QRegularExpression.PatternOption.CaseInsensitiveOption)
            self.proxy.setFilterRegularExpression(expression)
        else:
            self.proxy.setFilterFixedString(pattern)
        self._update_count()

    def select_all(self) -> None:
        """Tick every head the filter leaves in the list."""
        self._set_checks(dict.fromkeys(self.listed_heads(), True))

    def select_none(self) -> None:
        """Clear every head the filter leaves in the list."""
        self._set_checks(dict.fromkeys(self.listed_heads(), False))

    def select_task(self, task: str) -> None:
        """Show exactly the heads of ``task`` (``"classification"``: every task but regression)."""
        def matches(head: str) -> bool:
            kind = self._tasks[head]
            return kind == task or (task == CLASSIFICATION and kind not in ("", "regression"))

        self._set_checks({head: matches(head) for head in self._heads})

    def _set_checks(self, wanted: dict[str, bool]) -> None:
        changed = False
        self._bulk = True
        try:
            for head, shown in wanted.items():
                item = self._items[head]
                state = Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked
                if item.checkState() != state:
                    item.setCheckState(state)
                    changed = True
                self._remember(head, shown)
        finally:
            self._bulk = False
        if changed:
            self._update_count()
            self.shown_changed.emit()

    def _remember(self, head: str, shown: bool) -> None:
        if shown:
            self._cleared.discard(head)
        else:
            self._cleared.add(head)

    def _on_item_changed(self, item: QStandardItem) -> None:
        if self._bulk or item.column() != HEAD:
            return
        self._remember(item.text(), item.checkState() == Qt.CheckState.Checked)
        self._update_count()
        self.shown_changed.emit()

    def _update_count(self) -> None:
        text = f"{len(self.shown_heads())} of {len(self._heads)} heads shown"
        listed = self.proxy.rowCount()
        if listed != len(self._heads):
            text += f" · {listed} listed"
        if self._epoch is not None:
            text += f" · values of epoch {self._epoch + 1}"
        self.count_label.setText(text)

    # -- highlight --------------------------------------------------------------------------
    def highlighted(self) -> list[str]:
        """Heads whose rows are selected, in training order."""
        rows = {self.proxy.mapToSource(index).row()
                for index in self.table.selectionModel().selectedRows(HEAD)}
        return [head for head in self._heads if self._items[head].row() in rows]

    def set_highlighted(self, heads: Iterable[str]) -> None:
        """Select the rows of ``heads`` (listed ones), which highlights them in the plots."""
        selection = QItemSelection()
        for head in heads:
            index = self.proxy.mapFromSource(self._items[head].index())
            if index.isValid():
                selection.select(index, index.siblingAtColumn(len(COLUMNS) - 1))
                self.table.scrollTo(index)
        self.table.selectionModel().select(
            selection, self.table.selectionModel().SelectionFlag.ClearAndSelect)

    def _on_selection(self, *_args: object) -> None:
        self.highlighted_changed.emit()

    # -- values -----------------------------------------------------------------------------
    def update_epoch(self, event: EpochEnded) -> None:
        """Show each head's losses and metrics of the epoch that just ended.

        The cells change with the model's signals held, then the view hears of them once.
        """
        values: dict[str, dict[str, list[float | None]]] = {}
        losses: dict[str, list[float | None]] = {head: [None, None] for head in self._heads}
        for key, value in event.logs.items():
            kind = self._kinds.get(key)
            if kind is None:
                kind = self._kinds[key] = classify_key(key, self._heads) or ("", False, False)
            if kind[0] not in losses:
                continue
            head, is_loss, is_val = kind
            if is_loss:
                losses[head][int(is_val)] = float(value)
            else:
                base = key[4:] if is_val else key
                metric = base[len(head) + 1:]
                values.setdefault(head, {}).setdefault(metric, [None, None])[int(is_val)] = \
                    float(value)
        self.model.blockSignals(True)
        try:
            for head, (train, val) in losses.items():
                row = self._items[head].row()
                self._set_value(self.model.item(row, TRAIN), train)
                self._set_value(self.model.item(row, VAL), val)
                pairs = [(name, format_value(pair[0])
                          + (f" / {format_value(pair[1])}" if pair[1] is not None else ""))
                         for name, pair in values.get(head, {}).items()]
                text = "; ".join(f"{short_metric(name)} {shown}" for name, shown in pairs)
                metrics = self.model.item(row, METRICS)
                metrics.setText(text)
                metrics.setToolTip("\n".join(f"{name}: {shown} (train / validation)"
                                             for name, shown in pairs))
                metrics.setData(text, _SORT_ROLE)
        finally:
            self.model.blockSignals(False)
        if self._heads:
            self.model.dataChanged.emit(self.model.index(0, TRAIN),
                                        self.model.index(len(self._heads) - 1, METRICS))
        self._epoch = event.epoch
        self._update_count()

    @staticmethod
    def _set_value(item: QStandardItem, value: float | None) -> None:
        item.setText(format_value(value))
        item.setData(_sort_key(value), _SORT_ROLE)

    def cell_text(self, head: str, column: int) -> str:
        """What the table shows for ``head`` in ``column`` (``TRAIN``, ``VAL``, ``METRICS`` …)."""
        return self.model.item(self._items[head].row(), column).text()

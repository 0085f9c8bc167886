"""What each loss receives: the static loss contract and a dry run on one real batch.

The dry run builds a model and loads data, so it runs as a background job
(:mod:`mogui.qt.jobs`); its result or error comes back through the runner's signals.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core.errors import MoguiError
from mogui.core.project import Project
from mogui.qt.engine_loader import load_engine
from mogui.qt.engine_thread import EngineRunner
from mogui.qt.jobs import JobError, JobHandle, Priority

DRY_RUN_BATCH = 8
DRY_RUN_PROMPT = "Press Dry run to call the losses on one real batch."
CONTRACT_DELAY_MS = 250


def format_tensor(info) -> str:
    """``(16, 4) float32`` from a TensorInfo (shape entries ``None`` shown as ``batch``)."""
    if info is None:
        return "–"
    if not info.shape:
        return f"scalar {info.dtype}"
    dims = ", ".join("batch" if d is None else str(d) for d in info.shape)
    if len(info.shape) == 1:
        dims += ","
    return f"({dims}) {info.dtype}"


def _format_number(value: float | None) -> str:
    return "–" if value is None else f"{value:.6g}"


def _table(parent: QWidget, name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _fill_row(table: QTableWidget, row: int, cells: list[str], tooltip: str = "") -> None:
    for column, text in enumerate(cells):
        item = QTableWidgetItem(text)
        if tooltip:
            item.setToolTip(tooltip)
        table.setItem(row, column, item)


def fit_table_height(table: QTableWidget, max_rows: int | None = None) -> None:
    """Make ``table`` exactly as tall as its rows, or as ``max_rows`` of them and scrolling
    when it has more (so that a model with many heads does not make the window too tall)."""
    scrolls = max_rows is not None and table.rowCount() > max_rows
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if scrolls
                                     else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.resizeColumnsToContents()
    table.resizeRowsToContents()
    shown = range(min(table.rowCount(), max_rows) if scrolls else table.rowCount())
    rows = sum(table.rowHeight(r) for r in shown)
    header = table.horizontalHeader().sizeHint().height()
    table.setFixedHeight(header + rows + 2 * table.frameWidth() + 2)
    scrollbar = table.verticalScrollBar().sizeHint().width() if scrolls else 0
    columns = sum(table.columnWidth(c) for c in range(table.columnCount()))
    table.setFixedWidth(columns + scrollbar + 2 * table.frameWidth() + 2)


class ContractView(QWidget):
    """The loss contract: which head's tensors each loss sees, their shapes and weight.

    :meth:`schedule` works it out again for ``project()`` 250 ms later, as a background job;
    a request while one runs starts another once it has ended.
    """

    HEADERS = ["Loss", "Head", "y_true", "y_pred", "Weight"]

    def __init__(self, project: Callable[[], Project], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self._call = EngineRunner(self, name="mogui-contract", priority=Priority.LOWER_THREAD)
        self._call.succeeded.connect(self.show_contract)
        self._call.failed.connect(self._on_failed)
        self._call.finished.connect(self._on_finished)
        self._stale = False
        self._timer = QTimer(self, singleShot=True, interval=CONTRACT_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.table = _table(self, "lossContractTable", self.HEADERS)
        self.message = QLabel(self)
        self.message.setObjectName("contractMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.message)

    @property
    def busy(self) -> bool:
        """True while a contract is due or being worked out."""
        return self._call.is_running or self._timer.isActive()

    def schedule(self) -> None:
        self._timer.start()

    def refresh(self) -> None:
        """Work out the contract of the current project now, in the background."""
        self._stale = not self._call.start(contract_of, self._project().model_copy(deep=True))

    def _on_finished(self) -> None:
        if self._stale:
            self.refresh()

    def _on_failed(self, error: JobError) -> None:
        self.show_error(error_message(error.exception))

    def shutdown(self, deadline_ms: int = 60_000) -> None:
        """Forget what is due and wait for a running job (before the window closes)."""
        self._timer.stop()
        self._stale = False
        self._call.join(deadline_ms)

    def show_contract(self, contracts: list) -> None:
        self.message.hide()
        self.table.show()
        rows = [(c, head) for c in contracts for head in c.heads]
        self.table.setRowCount(len(rows))
        for row, (c, head) in enumerate(rows):
            weight = "–" if c.weight is None else f"{c.weight:g}"
            label = c.label if len(c.heads) == 1 else f"{c.label} (sees all heads)"
            _fill_row(self.table, row, [label, head, format_tensor(c.y_true.get(head)),
                                        format_tensor(c.y_pred.get(head)), weight],
                      c.description)
        fit_table_height(self.table)

    def show_error(self, message: str) -> None:
        self.table.setRowCount(0)
        self.table.hide()
        self.message.setText(message)
        self.message.setStyleSheet("color: #b00020;")
        self.message.show()


class DryRunView(QWidget):
    """Per head: received y_true/y_pred, returned value, weight, weighted; and the total."""

    HEADERS = ["Head", "Loss", "y_true", "y_pred", "Returned", "Value", "Weight", "Weighted",
               "Labelled"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = _table(self, "dryRunTable", self.HEADERS)
        self.table.hide()
        self.total_label = QLabel(self)
        self.total_label.setObjectName("dryRunTotal")
        self.message = QLabel(DRY_RUN_PROMPT, self)
        self.message.setObjectName("dryRunMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.total_label)
        layout.addWidget(self.message)

    def show_running(self) -> None:
        self.message.setStyleSheet("")
        self.message.setText("Running the losses on one batch…")
        self.message.show()

    def show_report(self, report) -> None:
        untrained = list(getattr(report, "untrained", []))
        self.table.setRowCount(len(report.heads) + len(untrained))
        for row, h in enumerate(report.heads):
            returned = getattr(h, "returned", None)
            _fill_row(self.table, row, [
                h.head, h.loss, format_tensor(h.y_true), format_tensor(h.y_pred),
                format_tensor(returned) if returned is not None else "–",
                _format_number(h.value), _format_number(h.weight), _format_number(h.weighted),
                "–" if h.labelled is None else f"{h.labelled} of {report.batch_size}"],
                getattr(h, "note", ""))
        for row, name in enumerate(untrained, start=len(report.heads)):
            _fill_row(self.table, row, [name, "no loss", "–", "–", "–", "–", "–", "–", "–"],
                      "This head is not trained by any loss.")
        fit_table_height(self.table)
        self.table.show()
        lines = [f"<b>Total loss: {report.total:.6g}</b> (batch of {report.batch_size})"]
        if report.mode == "joint":
            lines.append(f"loss() was called {getattr(report, 'calls', 1)} time(s) with every "
                         f"head; it returned {getattr(report, 'returned', '') or 'a value'}.")
        regularization = getattr(report, "regularization", 0.0)
        if regularization:
            lines.append(f"Includes regularization {regularization:.6g}.")
        self.total_label.setText("<br>".join(lines))
        self.total_label.setWordWrap(True)
        warnings = list(getattr(report, "warnings", []))
        if warnings:
            self.message.setStyleSheet("color: #8a5a00;")
            self.message.setText("\n".join(f"⚠ {warning}" for warning in warnings))
            self.message.show()
        else:
            self.message.hide()

    def show_error(self, message: str) -> None:
        self.table.setRowCount(0)
        self.table.hide()
        self.total_label.clear()
        self.message.setStyleSheet("color: #b00020;")
        self.message.setText(message)
        self.message.show()

    def clear(self, message: str = DRY_RUN_PROMPT) -> None:
        """Forget the last result or error (it no longer matches the project)."""
        self.table.setRowCount(0)
        self.table.hide()
        self.total_label.clear()
        self.message.setStyleSheet("")
        self.message.setToolTip("")
        self.message.setText(message)
        self.message.show()

    def row_count(self) -> int:
        return self.table.rowCount()


def contract_of(_job: JobHandle, project: Project) -> list:
    """The job: the loss contract of ``project`` (builds the model)."""
    load_engine()  # TensorFlow: one thread imports it (see engine_loader)
    from mogui.engine.losses import loss_contract

    return loss_contract(project)


def error_message(exc: BaseException) -> str:
    """A plain-language message for an exception from the engine."""
    if isinstance(exc, MoguiError):
        return str(exc)
    return f"The dry run failed unexpectedly: {type(exc).__name__}: {exc}"

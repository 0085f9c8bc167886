"""New ▸ From data…, the columns page: every column of the data with its type and summary, and
what each one becomes — a feature (model input), a target (a head of its own, or one head for a
group of columns) or nothing.

Columns are picked in the table (several at once with Ctrl or Shift) or by a selection typed as
``mogui init`` takes it: names, ranges in the file's order (``f1:f8``) and patterns (``f*``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from mogui.core.columns import ColumnSummary, select_columns
from mogui.core.errors import DataError
from mogui.core.from_data import DataSummary, input_problem, plan_features


class SelectionEdit(QLineEdit):
    """The selection box: Enter selects, and goes no further (the wizard's Next stays put)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


HEADERS = ("Column", "Type", "Missing", "Values", "Use")
FEATURE_COLOUR, TARGET_COLOUR = QColor("#1565c0"), QColor("#2e7d32")
ERROR_STYLE = "color: #b00020;"


def values_text(column: ColumnSummary) -> str:
    """The summary of a column without its type and missing count (the table shows those)."""
    return "; ".join(column.value_parts())


class ColumnsPage(QWizardPage):
    """Which columns are features and which are targets. ``targets`` lists each target's
    columns (one column, or a group trained by one head), in the order they were chosen."""

    def __init__(self) -> None:
        super().__init__(objectName="columnsPage")
        self.setTitle("Features and targets")
        self.setSubTitle("Pick the columns that feed the model (features) and the columns it "
                         "learns to predict (targets; each becomes a head named after it). "
                         "Select several rows with Ctrl or Shift, or type a selection.")
        self.summary: DataSummary | None = None
        self.features: list[str] = []
        self.targets: list[tuple[str, ...]] = []
        self.left_out: dict[str, str] = {}

        self.heading = QLabel(objectName="columnsHeading", wordWrap=True)
        self.table = QTableWidget(0, len(HEADERS), objectName="columnTable")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.select_edit = SelectionEdit(objectName="selectColumnsEdit")
        self.select_edit.setPlaceholderText("select columns: names, ranges and patterns, "
                                            "e.g. f1:f8, price, sensor_*")
        self.select_edit.returnPressed.connect(self.select_typed)
        select = QPushButton("Select", objectName="selectColumnsButton")
        select.clicked.connect(lambda _checked=False: self.select_typed())
        self.feature_button = self._button("Use as features", "useAsFeatures",
                                           lambda: self.make_features(self.selected()))
        self.target_button = self._button("Make targets (a head each)", "makeTargets",
                                          lambda: self.make_targets(self.selected()))
        self.group_button = self._button("One target for the selection", "makeGroupTarget",
                                         lambda: self.make_group(self.selected()))
        self.leave_button = self._button("Leave out", "leaveOut",
                                         lambda: self.leave_out(self.selected()))
        self.message = QLabel(objectName="columnsMessage", wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        typed = QHBoxLayout()
        typed.addWidget(self.select_edit, 1)
        typed.addWidget(select)
        buttons = QHBoxLayout()
        for button in (self.feature_button, self.target_button, self.group_button,
                       self.leave_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(typed)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def _button(self, text: str, name: str, slot) -> QPushButton:  # noqa: ANN001
        button = QPushButton(text, objectName=name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- the data ----------------------------------------------------------------------------
    def set_summary(self, summary: DataSummary) -> None:
        """Show ``summary``'s columns; every usable column starts as a feature, none as a
        target. The same data again keeps the choices made."""
        if self.summary == summary:
            return
        self.summary = summary
        self.targets = []
        self.left_out = {}
        images = summary.kind == "image_folder"
        what = "arrays" if summary.kind == "npz" else "columns"
        self.heading.setText(
            f"<b>{summary.path.name}</b>: {summary.rows} rows, {len(summary.columns)} {what}"
            + (f". The images in '{summary.folder.name if summary.folder else ''}' are the "
               "input; pick the targets among the table's columns." if images else "")
            + "".join(f"<br>{html.escape(note, quote=False)}" for note in summary.notes))
        self.feature_button.setEnabled(not images)
        try:
            plan = plan_features(summary, [])
            self.features = list(plan.columns)
            self.left_out = dict(plan.left_out)
        except DataError:
            self.features = []
        self.table.clearContents()
        self.table.setRowCount(len(summary.columns))
        for row, column in enumerate(summary.columns):
            kind = column.kind if not column.shape else f"{column.kind} {list(column.shape)}"
            for c, text in enumerate((column.name, kind, str(column.missing),
                                      values_text(column), "")):
                self.table.setItem(row, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self._show_roles("")

    # -- roles -------------------------------------------------------------------------------
    def selected(self) -> list[str]:
        """The selected columns, in the file's order."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self.table.item(r, 0).text() for r in rows]

    def select(self, names: Sequence[str]) -> None:
        """Select the rows of ``names`` (and no others)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() in names:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def select_typed(self) -> list[str]:
        """Select the columns the typed selection names; a selection that names no column
        says why."""
        if self.summary is None:
            return []
        try:
            names = select_columns(self.select_edit.text(), self.summary.names, "selection")
        except DataError as exc:
            self._say(str(exc), error=True)
            return []
        self.select(names)
        self._say(f"{len(names)} column(s) selected.")
        return names

    def make_features(self, names: Sequence[str]) -> bool:
        """Make ``names`` features; a column that cannot be an input is refused, with why."""
        summary = self.summary
        if summary is None or not names:
            return self._nothing_selected()
        if summary.kind == "image_folder":
            self._say("The images are this project's input; its table's columns can only be "
                      "targets.", error=True)
            return False
        refused = [f"'{n}' {why}" for n in names
                   if (why := input_problem(summary.column(n), summary)) is not None]
        if refused:
            self._say("Cannot be a feature: " + "; ".join(refused) + ".", error=True)
            return False
        self._drop_targets(names)
        self.features = [n for n in summary.names if n in self.features or n in names]
        self._show_roles(f"{len(names)} column(s) now feed the model.")
        return True

    def make_targets(self, names: Sequence[str]) -> bool:
        """Make each of ``names`` a target of its own."""
        if self.summary is None or not names:
            return self._nothing_selected()
        self._drop_targets(names)
        self.features = [n for n in self.features if n not in names]
        self.targets += [(n,) for n in names]
        self._show_roles(f"{len(names)} target(s) added; each becomes a head.")
        return True

    def make_group(self, names: Sequence[str]) -> bool:
        """Make ``names`` one target: one head trained on all of them (several 0/1 columns:
        multi-label; several numbers: regression with a unit each)."""
        if self.summary is None or not names:
            return self._nothing_selected()
        if len(names) < 2:
            return self.make_targets(names)
        self._drop_targets(names)
        self.features = [n for n in self.features if n not in names]
        self.targets.append(tuple(names))
        self._show_roles(f"{len(names)} columns now make one target.")
        return True

    def leave_out(self, names: Sequence[str]) -> bool:
        if self.summary is None or not names:
            return self._nothing_selected()
        self._drop_targets(names)
        self.features = [n for n in self.features if n not in names]
        self._show_roles(f"{len(names)} column(s) left out.")
        return True

    def _drop_targets(self, names: Sequence[str]) -> None:
        """Take ``names`` out of every target (a group keeps its other columns)."""
        kept = []
        for target in self.targets:
            rest = tuple(c for c in target if c not in names)
            if rest:
                kept.append(rest)
        self.targets = kept

    def _nothing_selected(self) -> bool:
        self._say("Select one or more columns first (click, Ctrl+click, Shift+click, or type "
                  "a selection above).", error=True)
        return False

    def role(self, name: str) -> str:
        """``feature``, ``target``, ``target (with …)`` or ``—`` (with the reason)."""
        if name in self.features:
            return "feature"
        for target in self.targets:
            if name in target:
                others = [c for c in target if c != name]
                return f"target (one head with {', '.join(others)})" if others else "target"
        why = self.left_out.get(name)
        return f"— ({why})" if why else "—"

    def _show_roles(self, message: str) -> None:
        for row in range(self.table.rowCount()):
            name = self.table.item(row, 0).text()
            text = self.role(name)
            item = self.table.item(row, len(HEADERS) - 1)
            item.setText(text)
            colour = FEATURE_COLOUR if text == "feature" else \
                TARGET_COLOUR if text.startswith("target") else QColor("#757575")
            item.setForeground(QBrush(colour))
        counts = (f"{len(self.features)} feature(s), " if self.summary is not None
                  and self.summary.kind != "image_folder" else "")
        self._say(f"{message} {counts}{len(self.targets)} target(s).".strip())
        self.completeChanged.emit()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        if self.summary is None or not self.targets:
            return False
        return self.summary.kind == "image_folder" or bool(self.features)

"""File ▸ New ▸ From data…: a project made from a data file in three steps, the way
``mogui init`` makes one.

1. **Data** (:mod:`mogui.qt.wizard_source`): a CSV table, an ``.npz`` file, or an image folder
   with a table naming each image, read in a background thread.
2. **Features and targets** (:mod:`mogui.qt.wizard_columns`): the columns with their type and
   summary; which feed the model and which it predicts.
3. **Heads**: each target's head, its name and task — inferred from the values
   (:func:`mogui.core.from_data.infer_head`), shown and changeable — and the plan.

Finish builds the project with :func:`mogui.core.from_data.plan_project` and
:func:`mogui.core.default_model.build_project` (what ``mogui init`` runs): a default model that
trains as it is. Its data paths are absolute until it is saved (then relative when the data is
in the project's folder); :attr:`NewProjectWizard.project` holds it.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from mogui.core.default_model import build_project
from mogui.core.errors import DataError
from mogui.core.from_data import (
    DataSummary,
    HeadPlan,
    ProjectPlan,
    TargetChoice,
    identifier,
    infer_head,
    plan_project,
)
from mogui.core.io import anchor_data_paths
from mogui.core.project import MAX_NAME_LENGTH, NAME_PATTERN, Project
from mogui.core.tasks import Task
from mogui.core.validation import ProjectError, check_project
from mogui.qt.project_dialog import project_name_problem
from mogui.qt.wizard_columns import ERROR_STYLE, ColumnsPage
from mogui.qt.wizard_source import SourcePage

HEAD_HEADERS = ("Head", "Columns", "Task", "What it learns")
TASKS = [t for t in Task]


def target_text(columns: tuple[str, ...], name: str) -> str:
    """A target as :func:`plan_project` takes it: the column, or ``NAME=COLUMNS``."""
    if len(columns) == 1 and name == identifier(columns[0]):
        return columns[0]
    return f"{name}={', '.join(columns)}"


class HeadsPage(QWizardPage):
    """Each target's head: its name (editable) and task (inferred, changeable), what it
    learns, and the whole plan; Finish builds the project."""

    def __init__(self, columns: ColumnsPage) -> None:
        super().__init__(objectName="headsPage")
        self.setTitle("Heads")
        self.setSubTitle("Each target becomes a head named after it. Its task is inferred from "
                         "the values; change the name or the task here. Empty cells are rows "
                         "without a label for that head.")
        self.columns = columns
        self.names: dict[tuple[str, ...], str] = {}
        self.tasks: dict[tuple[str, ...], Task | None] = {}
        self.plan: ProjectPlan | None = None
        self.project: Project | None = None
        self.table = QTableWidget(0, len(HEAD_HEADERS), objectName="headTable")
        self.table.setHorizontalHeaderLabels(list(HEAD_HEADERS))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.itemChanged.connect(self._name_edited)
        self.name_edit = QLineEdit(objectName="projectNameEdit")
        self.name_edit.textChanged.connect(lambda _text: self.completeChanged.emit())
        self.plan_view = QPlainTextEdit(objectName="planView", readOnly=True)
        self.plan_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.message = QLabel(objectName="headsMessage", wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        name_row = QFormLayout()
        name_row.addRow("Project name", self.name_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(name_row)
        layout.addWidget(self.table, 2)
        layout.addWidget(QLabel("The project:"))
        layout.addWidget(self.plan_view, 1)
        layout.addWidget(self.message)
        self._filling = False
        self._for_summary: DataSummary | None = None

    @property
    def summary(self) -> DataSummary:
        assert self.columns.summary is not None
        return self.columns.summary

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        summary = self.summary
        if not self.name_edit.text().strip() or self.name_edit.property("for") != \
                str(summary.path):
            stem = (summary.folder or summary.path).name if summary.kind == "image_folder" \
                else summary.path.stem
            self.name_edit.setText(stem)
            self.name_edit.setProperty("for", str(summary.path))
        if self._for_summary != summary:  # other data: names and tasks start afresh
            self.names, self.tasks, self._for_summary = {}, {}, summary
        self._filling = True
        targets = self.columns.targets
        self.table.clearContents()
        self.table.setRowCount(len(targets))
        for row, columns in enumerate(targets):
            name = self.names.setdefault(columns, default_head_name(columns, summary))
            self.tasks.setdefault(columns, None)
            self.table.setItem(row, 0, QTableWidgetItem(name))
            fixed = QTableWidgetItem(", ".join(columns))
            fixed.setFlags(fixed.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 1, fixed)
            combo = QComboBox(objectName=f"task_{row}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(lambda _i, c=columns, box=combo:
                                              self._task_chosen(c, box))
            self.table.setCellWidget(row, 2, combo)
            about = QTableWidgetItem("")
            about.setFlags(about.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 3, about)
        self._filling = False
        self.refresh()

    # -- choices -----------------------------------------------------------------------------
    def task_box(self, row: int) -> QComboBox:
        return self.table.cellWidget(row, 2)

    def set_task(self, row: int, task: Task) -> None:
        box = self.task_box(row)
        box.setCurrentIndex(box.findData(task.value))

    def set_name(self, row: int, name: str) -> None:
        self.table.item(row, 0).setText(name)

    def _name_edited(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        self.names[self.columns.targets[item.row()]] = item.text().strip()
        self.refresh()

    def _task_chosen(self, columns: tuple[str, ...], box: QComboBox) -> None:
        if self._filling:
            return
        value = box.currentData()
        inferred = box.property("inferred")
        self.tasks[columns] = None if value in (None, inferred) else Task(value)
        self.refresh()

    # -- the plan ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Infer each head again and plan the project; show what each head learns and the
        plan, or what is wrong."""
        self.plan, problems = None, []
        self._filling = True
        for row, columns in enumerate(self.columns.targets):
            name = self.names[columns]
            problem = head_name_problem(name)
            head: HeadPlan | None = None
            if problem is None:
                try:
                    head = infer_head(TargetChoice(columns, name, self.tasks[columns]),
                                      self.summary)
                except DataError as exc:
                    problem = str(exc)
            self._fill_tasks(row, columns)
            about = self.table.item(row, 3)
            about.setText(problem or describe_head(head))
            about.setToolTip(problem or describe_head(head))
            about.setForeground(QBrush(QColor("#b00020" if problem else "#000000")))
            if problem:
                problems.append(f"{name}: {problem}")
        self._filling = False
        self.table.resizeColumnsToContents()
        if self.table.rowCount():  # the cell widgets are not measured by the call above
            self.table.setColumnWidth(2, max(self.task_box(r).sizeHint().width()
                                             for r in range(self.table.rowCount())))
        if not problems:
            try:
                self.plan = plan_project(self.summary, self._targets(), self._features(),
                                         self._overrides())
            except DataError as exc:
                problems.append(str(exc))
        lines = self.plan.lines() + self._left_out_lines() if self.plan else []
        if self.plan is not None:
            try:
                lines += model_lines(make_project(self.plan, "preview"))
            except ProjectError as exc:
                problems.append(f"The project cannot be made: {exc}")
        self.plan_view.setPlainText("\n".join(lines))
        self.message.setText("\n".join(problems))
        self.message.setStyleSheet(ERROR_STYLE if problems else "")
        self.completeChanged.emit()

    def _fill_tasks(self, row: int, columns: tuple[str, ...]) -> None:
        """The task choices of ``row``: every task, the inferred one marked."""
        box = self.task_box(row)
        try:
            inferred = infer_head(TargetChoice(columns, "head"), self.summary).task
        except DataError:
            inferred = None
        chosen = self.tasks[columns] or inferred
        box.blockSignals(True)
        box.clear()
        for task in TASKS:
            label = f"{task.value} (inferred)" if task == inferred else task.value
            box.addItem(label, task.value)
        box.setProperty("inferred", inferred.value if inferred else None)
        if chosen is not None:
            box.setCurrentIndex(box.findData(chosen.value))
        box.blockSignals(False)

    def _left_out_lines(self) -> list[str]:
        """The columns neither a feature nor a target, each with why (as ``init`` lists)."""
        if self.summary.kind == "image_folder":
            return []
        used = set(self.columns.features) | {c for t in self.columns.targets for c in t}
        return [f"  left out '{c.name}': {self.columns.left_out.get(c.name, 'you left it out')}"
                for c in self.summary.columns if c.name not in used]

    def _targets(self) -> list[str]:
        return [target_text(c, self.names[c]) for c in self.columns.targets]

    def _features(self) -> str | None:
        if self.summary.kind == "image_folder":
            return None
        return ", ".join(self.columns.features)

    def _overrides(self) -> dict[str, str]:
        return {self.names[c]: task.value for c, task in self.tasks.items()
                if task is not None and c in self.columns.targets}

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        return self.plan is not None and project_name_problem(self.name_edit.text()) is None

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        """Build the project; say what is wrong instead when it cannot be built."""
        problem = project_name_problem(self.name_edit.text())
        if self.plan is None or problem is not None:
            if problem is not None:
                self.message.setText(f"The project {problem}.")
                self.message.setStyleSheet(ERROR_STYLE)
            return False
        try:
            self.project = make_project(self.plan, self.name_edit.text().strip())
        except ProjectError as exc:
            self.message.setText(f"The project cannot be made: {exc}")
            self.message.setStyleSheet(ERROR_STYLE)
            return False
        return True


def default_head_name(columns: tuple[str, ...], summary: DataSummary) -> str:
    """The head name ``mogui init`` gives a target of ``columns`` (its column's name, or the
    group's common prefix)."""
    try:
        return infer_head(TargetChoice(columns), summary).name
    except DataError:
        return identifier(columns[0])


def head_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a head (``None`` when it can)."""
    if not name:
        return "give the head a name."
    if len(name) > MAX_NAME_LENGTH or not re.fullmatch(NAME_PATTERN, name):
        return (f"the name '{name}' is not usable: use letters, digits and underscores, not "
                f"starting with a digit (at most {MAX_NAME_LENGTH} characters).")
    if name == "val" or name.startswith("val_"):
        return f"the name '{name}' starts with 'val', Keras' mark of validation values."
    return None


def describe_head(head: HeadPlan | None) -> str:
    """What a head learns: its task, classes or units, why, and its unlabelled rows."""
    if head is None:
        return ""
    return head.describe().partition(": ")[2]


def _layer_text(kind: str, params: dict) -> str:
    size = params.get("units", params.get("filters"))
    return f"{kind} {size}" if size is not None else kind


def model_lines(project: Project) -> list[str]:
    """The default model and its training, in two lines."""
    inputs = ", ".join(f"{spec.name} {list(spec.shape)}" for spec in project.inputs)
    layers = " → ".join(_layer_text(layer.kind, layer.params) for layer in project.trunk)
    settings = project.training
    stopping = settings.early_stopping
    return [f"Model: {inputs} → {layers} → a Dense output per head (every layer can be "
            "changed afterwards)",
            f"Training: up to {settings.epochs} epochs, batches of {settings.batch_size}, "
            f"{settings.validation_split:.0%} of the rows for validation"
            + (f", early stopping after {stopping.patience} epochs without improvement"
               if stopping.enabled else "")]


def make_project(plan: ProjectPlan, name: str) -> Project:
    """The project for ``plan`` (as ``mogui init`` writes it) with absolute data paths, for a
    document that has no file yet; :class:`ProjectError` when it does not validate."""
    summary = plan.summary
    folder = (summary.folder or summary.path).parent if summary.kind == "image_folder" \
        else summary.path.parent
    project = build_project(plan, folder / "project.json", name)
    project.description = project.description.replace("Made by 'mogui init' from",
                                                      "Made from", 1)
    project = anchor_data_paths(project, folder)
    if problems := check_project(project):
        raise ProjectError(problems)
    return project


class NewProjectWizard(QWizard):
    """Data → features and targets → heads; :attr:`project` once finished."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newProjectWizard")
        self.setWindowTitle("New project from data")
        self.source_page = SourcePage()
        self.columns_page = ColumnsPage()
        self.heads_page = HeadsPage(self.columns_page)
        for page in (self.source_page, self.columns_page, self.heads_page):
            self.addPage(page)
        self.currentIdChanged.connect(self._page_shown)
        self.resize(960, 680)

    @property
    def project(self) -> Project | None:
        """The project made (after Finish), else ``None``."""
        return self.heads_page.project

    def _page_shown(self, _id: int) -> None:
        if self.currentPage() is self.columns_page and self.source_page.summary is not None:
            self.columns_page.set_summary(self.source_page.summary)

    def reject(self) -> None:
        self.source_page.runner.cancel()
        super().reject()

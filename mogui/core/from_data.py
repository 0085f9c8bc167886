"""A project from a data file, step one: what each target trains and which columns feed the model.

Pure Python, on the column summaries of :mod:`mogui.core.columns` (the engine reads the file:
:func:`mogui.engine.data.summarize_data`). The steps, each usable on its own (the app's wizard
shows them one by one):

- :func:`parse_target` reads a target as typed (``price``, ``tags=t1:t5``);
- :func:`infer_head` decides its task from the values: numbers with fractions -> regression;
  whole numbers 0/1 -> binary; a few whole numbers or texts -> multiclass (the texts become the
  class names); several 0/1 columns -> multilabel; several numbers -> regression with one unit
  per column. Empty cells are rows without a label for that head;
- :func:`plan_features` picks the input columns (all usable ones, or a selection);
- :func:`plan_project` does all three; :func:`mogui.core.default_model.build_project` turns the
  plan into a project with a default model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mogui.core.columns import ColumnSummary, select_columns
from mogui.core.errors import DataError
from mogui.core.project import MAX_NAME_LENGTH, NAME_PATTERN
from mogui.core.tasks import Task

DataKind = Literal["csv", "npz", "image_folder"]

#: Most classes a column of whole numbers may have to count as categories, not quantities.
MAX_CLASSES = 20
#: A column of whole numbers counts as categories when each class has this many rows on average.
ROWS_PER_CLASS = 5
#: Fewest rows a project from data needs (some for training, some for validation).
MIN_ROWS = 10

_ID_NAME = re.compile(r"(^|[_\s])(id|index|row|row_?number)$", re.IGNORECASE)


@dataclass(frozen=True)
class DataSummary:
    """What a data file holds: its columns (the arrays of an ``.npz``, the label table's columns
    of an image folder) summarised, and where it is.

    ``path`` is the CSV table, the ``.npz`` file or the image folder's label table; ``folder``
    the image folder, ``file_column`` the table's column naming each image and ``image_shape``
    the (height, width, channels) the images get as model input; ``notes`` say what the user
    may have meant instead.
    """

    kind: DataKind
    path: Path
    rows: int
    columns: tuple[ColumnSummary, ...]
    delimiter: str = ","
    folder: Path | None = None
    file_column: str | None = None
    image_shape: tuple[int, int, int] | None = None
    #: What the user may have meant instead (e.g. a table that names image files).
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSummary:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def what(self) -> str:
        """``column`` or ``array``: what a name in this data means, for messages."""
        return "array" if self.kind == "npz" else "column"

    def lines(self) -> list[str]:
        """The column table: one line per column."""
        width = max((len(c.name) for c in self.columns), default=4)
        return [f"  {c.name:<{width}}  {c.describe()}" for c in self.columns]


@dataclass(frozen=True)
class TargetChoice:
    """One head to make: its columns (one, or a group), its name and, optionally, its task."""

    columns: tuple[str, ...]
    name: str | None = None
    task: Task | None = None


@dataclass
class HeadPlan:
    """What one head trains on and how; ``reason`` says why this task was chosen."""

    name: str
    columns: list[str]
    task: Task
    units: int
    classes: list[str] = field(default_factory=list)
    labelled: int = 0
    missing: int = 0
    reason: str = ""
    standardize: bool = False
    variance: float | None = None

    def describe(self) -> str:
        """``kind: multiclass, 3 classes (budget, premium, standard); 30 of 300 rows unlabelled``"""
        text = f"{self.name}: {self.task.value}"
        if self.classes:
            shown = ", ".join(self.classes[:8]) + (", …" if len(self.classes) > 8 else "")
            text += f", {len(self.classes)} classes ({shown})"
        elif self.units > 1:
            text += f", {self.units} units"
        if self.standardize:
            text += ", standardized"
        text += f" — {self.reason}"
        if len(self.columns) > 1 or self.columns[0] != self.name:
            text += f"; columns {', '.join(self.columns)}"
        rows = self.labelled + self.missing
        if self.missing:
            text += f"; {self.missing} of {rows} rows unlabelled (left out of its loss)"
        return text


@dataclass
class FeaturePlan:
    """The columns that feed the model, and the ones left out with the reason."""

    columns: list[str]
    left_out: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ProjectPlan:
    """Everything :func:`mogui.core.default_model.build_project` needs."""

    summary: DataSummary
    features: FeaturePlan
    heads: list[HeadPlan]

    def lines(self) -> list[str]:
        out = ["Heads:"] + [f"  {h.describe()}" for h in self.heads]
        if self.summary.kind == "image_folder":
            h, w, c = self.summary.image_shape or (0, 0, 0)
            out.append(f"Input: the images, {w}x{h} pixels, {c} channel(s)")
        else:
            what = "arrays" if self.summary.kind == "npz" else "columns"
            out.append(f"Inputs: {len(self.features.columns)} {what}: "
                       f"{', '.join(self.features.columns)}")
        out += [f"  left out '{name}': {why}" for name, why in self.features.left_out]
        return out


# -- names -------------------------------------------------------------------------------------

def identifier(text: str, fallback: str = "head") -> str:
    """``text`` as a name mogui accepts: ``"Price ($)"`` -> ``Price``, ``"2nd"`` -> ``c_2nd``."""
    name = re.sub(r"\W+", "_", text.strip()).strip("_")[:MAX_NAME_LENGTH] or fallback
    if name[0].isdigit():
        name = f"c_{name}"[:MAX_NAME_LENGTH]
    if name == "val" or name.startswith("val_"):  # Keras' prefix for validation values
        name = f"{name}_target"[:MAX_NAME_LENGTH]
    return name


def _group_name(columns: Sequence[str]) -> str:
    """A head name for several columns: their common prefix (``tag_a, tag_b`` -> ``tag``)."""
    prefix = columns[0]
    for column in columns[1:]:
        while not column.startswith(prefix):
            prefix = prefix[:-1]
    prefix = re.sub(r"[\W_\d]+$", "", prefix)
    return identifier(prefix or columns[0])


def parse_target(text: str, header: Sequence[str], what: str = "column") -> TargetChoice:
    """A target as typed: ``price`` (one column), ``tags=t1:t5`` or ``t1:t5`` (a group of columns
    for one head, named before ``=`` or after their common prefix)."""
    name: str | None = None
    selection = text.strip()
    if "=" in selection and selection not in header:
        name, _, selection = (part.strip() for part in selection.partition("="))
        if not re.fullmatch(NAME_PATTERN, name) or len(name) > MAX_NAME_LENGTH:
            raise DataError(f"The head name '{name}' in '--target {text}' is not usable: use "
                            "letters, digits and underscores, not starting with a digit.")
    columns = tuple(select_columns(selection, header, f"target '{text}'"))
    return TargetChoice(columns, name)


# -- tasks -------------------------------------------------------------------------------------

def infer_head(choice: TargetChoice, summary: DataSummary) -> HeadPlan:
    """The head ``choice`` makes: its task, units and class names, decided from the values (or
    ``choice.task``, checked against them). Raises :class:`DataError` saying why a column
    cannot be a target and what to pick instead."""
    columns = [summary.column(c) for c in choice.columns]
    name = choice.name or (identifier(columns[0].name) if len(columns) == 1
                           else _group_name(choice.columns))
    for column in columns:
        if column.kind == "empty":
            raise DataError(f"The {summary.what} '{column.name}' is empty (no row has a value), "
                            "so it cannot be a target. Pick another one.")
    missing = max(c.missing for c in columns)
    rows = columns[0].rows
    if len(columns) == 1 and columns[0].width == 1:
        plan = _one_column(name, columns[0], choice.task, summary)
    else:
        plan = _group(name, columns, choice.task, summary)
    plan.labelled, plan.missing = rows - missing, missing
    return plan


def _one_column(name: str, c: ColumnSummary, task: Task | None,
                summary: DataSummary) -> HeadPlan:
    label = f"The {summary.what} '{c.name}'"
    if c.kind == "text":
        if summary.kind == "npz":
            raise DataError(f"{label} holds text. Save class ids (0, 1, 2, …) in the .npz file, "
                            "or use a CSV table, whose category names mogui reads itself.")
        if c.many_values:
            raise DataError(f"{label} holds more than {len(c.values) or 50} different texts, too "
                            "many for class names. Pick a column of numbers or of a few "
                            "categories, or leave it out.")
        classes = list(c.values)
        _two_classes(label, classes)
        chosen = task or Task.MULTICLASS
        if chosen not in (Task.MULTICLASS, Task.MULTICLASS_ONEHOT, Task.BINARY):
            pick = "multiclass or binary" if len(classes) == 2 else "multiclass"
            raise DataError(f"{label} holds category names, so it cannot be a "
                            f"{chosen.value} target. Pick {pick}.")
        if chosen == Task.BINARY and len(classes) != 2:
            raise DataError(f"{label} holds {len(classes)} categories, so it cannot be a binary "
                            "target (two categories). Pick multiclass.")
        units = 1 if chosen == Task.BINARY else len(classes)
        return HeadPlan(name, [c.name], chosen, units, classes,
                        reason=f"{len(classes)} category names")
    if c.kind == "integer":
        classes = list(c.values)
        zero_one = c.is_zero_one and c.distinct == 2
        few = not c.many_values and c.distinct <= MAX_CLASSES and \
            c.distinct * ROWS_PER_CLASS <= max(c.labelled, 2 * ROWS_PER_CLASS)
        chosen = task or (Task.BINARY if zero_one else Task.MULTICLASS if few
                          else Task.REGRESSION)
        if chosen == Task.BINARY:
            if not c.is_zero_one:
                raise DataError(f"{label} holds whole numbers from {c.low:g} to {c.high:g}, so "
                                "it cannot be a binary target (0 or 1). Pick multiclass or "
                                "regression.")
            _two_classes(label, classes)
            return HeadPlan(name, [c.name], chosen, 1, reason="values 0 and 1")
        if chosen in (Task.MULTICLASS, Task.MULTICLASS_ONEHOT):
            if c.many_values:
                raise DataError(f"{label} holds more than 50 different numbers: too many "
                                "classes. Pick regression.")
            _two_classes(label, classes)
            if summary.kind == "npz":  # arrays hold class ids themselves: 0..units-1
                if c.low is None or c.low < 0:
                    raise DataError(f"{label} holds negative class ids. Save class ids "
                                    "0, 1, 2, … (and -1 for a missing label).")
                units = int(c.high or 0) + 1
                return HeadPlan(name, [c.name], chosen, units,
                                reason=f"{c.distinct} whole-number classes")
            return HeadPlan(name, [c.name], chosen, len(classes), classes,
                            reason=f"{len(classes)} whole-number classes")
    if c.kind == "number" and task not in (None, Task.REGRESSION):
        raise DataError(f"{label} holds numbers with fractions, so it cannot be a "
                        f"{task.value} target. Pick regression.")
    if task not in (None, Task.REGRESSION):
        raise DataError(f"{label} holds one number per row, so it cannot be a {task.value} "
                        "target. Pick regression, binary or multiclass.")
    return _regression(name, [c], summary)


def _two_classes(label: str, classes: list[str]) -> None:
    if len(classes) < 2:
        only = f" ('{classes[0]}')" if classes else ""
        raise DataError(f"{label} holds one value{only} in every row that has one: a head "
                        "needs at least two classes to learn anything. Pick another column.")


def _regression(name: str, columns: list[ColumnSummary], summary: DataSummary) -> HeadPlan:
    units = sum(c.width for c in columns)
    variances = [(c.std or 0.0) ** 2 for c in columns]
    if all(v == 0 for v in variances):
        listed = ", ".join(f"'{c.name}'" for c in columns)
        raise DataError(f"The {summary.what} {listed} holds one value in every row that has "
                        "one: there is nothing to learn. Pick another target.")
    kind = "whole numbers" if all(c.kind == "integer" for c in columns) else "numbers"
    low = min(c.low for c in columns if c.low is not None)
    high = max(c.high for c in columns if c.high is not None)
    return HeadPlan(name, [c.name for c in columns], Task.REGRESSION, units,
                    reason=f"{kind} from {low:.4g} to {high:.4g}", standardize=True,
                    variance=sum(variances) / len(variances))


def _group(name: str, columns: list[ColumnSummary], task: Task | None,
           summary: DataSummary) -> HeadPlan:
    texts = [c.name for c in columns if c.kind == "text"]
    if texts:
        raise DataError(f"The {summary.what} {', '.join(repr(t) for t in texts)} of target "
                        f"'{name}' holds text; a group of columns trains one head on numbers. "
                        "Give a column of category names as a target of its own.")
    units = sum(c.width for c in columns)
    zero_one = all(c.is_zero_one for c in columns)
    chosen = task or (Task.MULTILABEL if zero_one else Task.REGRESSION)
    if chosen in (Task.MULTILABEL, Task.MULTICLASS_ONEHOT):
        if not zero_one:
            raise DataError(f"Target '{name}' holds values other than 0 and 1, so it cannot "
                            f"be {chosen.value}. Pick regression.")
        return HeadPlan(name, [c.name for c in columns], chosen, units,
                        reason=f"{units} columns of 0/1")
    if chosen != Task.REGRESSION:
        raise DataError(f"Target '{name}' has {units} values per row, so it cannot be "
                        f"{chosen.value}. Pick regression, multilabel (0/1 values) or "
                        "multiclass_onehot.")
    return _regression(name, columns, summary)


# -- features ----------------------------------------------------------------------------------

def plan_features(summary: DataSummary, heads: Sequence[HeadPlan],
                  selection: str | None = None) -> FeaturePlan:
    """The columns (or arrays) that feed the model: those ``selection`` names, or every usable
    one that is no target. Raises :class:`DataError` when a chosen one cannot be an input."""
    if summary.kind == "image_folder":
        if selection:
            raise DataError("The images are the input of an image folder; --features picks "
                            "columns of tables and arrays of .npz files only. Leave it out.")
        return FeaturePlan([])
    targets = {c for h in heads for c in h.columns}
    names = [n for n in summary.names if n not in targets]
    if selection:
        chosen = select_columns(selection, summary.names, "features")
        overlap = [n for n in chosen if n in targets]
        if overlap:
            raise DataError(f"{_listed(overlap)} {'is' if len(overlap) == 1 else 'are'} a "
                            "target and a feature; a model may not see what it predicts. Drop "
                            "it from --features.")
        problems = [f"'{n}' {why}" for n in chosen
                    if (why := input_problem(summary.column(n), summary)) is not None]
        if problems:
            raise DataError(f"These {summary.what}s cannot be inputs: {'; '.join(problems)}. "
                            "Leave them out of --features.")
        return FeaturePlan(chosen)
    plan = FeaturePlan([])
    for n in names:
        column = summary.column(n)
        why = input_problem(column, summary) or _pointless(column)
        if why is None:
            plan.columns.append(n)
        else:
            plan.left_out.append((n, why))
    if not plan.columns:
        raise DataError(f"No {summary.what} is left to feed the model: "
                        + "; ".join(f"'{n}' {why}" for n, why in plan.left_out)
                        + ". Give the input columns with --features.")
    return plan


def input_problem(column: ColumnSummary, summary: DataSummary) -> str | None:
    """Why ``column`` cannot feed the model (``None`` when it can)."""
    if column.kind == "text":
        return "holds text (inputs must be numbers)"
    if column.kind == "empty":
        return "is empty"
    if column.missing:
        return f"has {column.missing} empty cell(s) (inputs may not be empty)"
    if summary.kind == "npz" and not column.shape:
        return "holds one number per row; save it with shape (rows, 1) to make it an input"
    if summary.kind == "npz" and (not re.fullmatch(NAME_PATTERN, column.name)
                                  or len(column.name) > MAX_NAME_LENGTH):
        return ("is not named like an input (letters, digits and underscores, not starting "
                "with a digit); rename the array")
    return None


def _pointless(column: ColumnSummary) -> str | None:
    if column.is_constant:
        return f"holds the same value ({column.values[0]}) in every row"
    if _ID_NAME.search(column.name) and column.kind == "integer" and \
            column.many_values and column.rows > 50:
        return "looks like a row number"
    if _ID_NAME.search(column.name) and column.kind == "integer" and \
            column.distinct == column.rows:
        return "looks like a row number"
    return None


def _listed(names: Sequence[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


# -- the whole plan ----------------------------------------------------------------------------

def plan_project(summary: DataSummary, targets: Sequence[str], features: str | None = None,
                 tasks: dict[str, str] | None = None) -> ProjectPlan:
    """Heads for ``targets`` (as typed, see :func:`parse_target`), tasks overridden by ``tasks``
    (head name -> task), and the features. Raises :class:`DataError` for anything unusable."""
    if summary.rows < MIN_ROWS:
        raise DataError(f"The data has {summary.rows} row(s); a project needs at least "
                        f"{MIN_ROWS} to train and validate on. Add rows.")
    if not targets:
        raise DataError("Give at least one target: --target COLUMN (each one becomes a head).")
    tasks = dict(tasks or {})
    choices = [parse_target(t, summary.names, summary.what) for t in targets]
    heads: list[HeadPlan] = []
    for choice in choices:
        name = choice.name or (identifier(choice.columns[0]) if len(choice.columns) == 1
                               else _group_name(choice.columns))
        task = tasks.pop(name, None)
        heads.append(infer_head(TargetChoice(choice.columns, name, _task(task, name)),
                                summary))
    if tasks:
        raise DataError(f"--task names {_listed(list(tasks))}, which "
                        f"{'is' if len(tasks) == 1 else 'are'} no head; the heads are "
                        f"{_listed([h.name for h in heads])}.")
    _check_heads(heads, summary)
    return ProjectPlan(summary, plan_features(summary, heads, features), heads)


def _task(value: str | None, head: str) -> Task | None:
    if value is None:
        return None
    try:
        return Task(value.strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in Task)
        raise DataError(f"--task {head}={value}: '{value}' is not a task; choose one of "
                        f"{choices}.") from None


def _check_heads(heads: Sequence[HeadPlan], summary: DataSummary) -> None:
    names = [h.name for h in heads]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(f"Two targets make a head named {_listed(twice)}. Name them apart with "
                        "--target NAME=COLUMNS.")
    used: dict[str, str] = {}
    for head in heads:
        for column in head.columns:
            if column in used:
                raise DataError(f"The {summary.what} '{column}' is a target of both "
                                f"'{used[column]}' and '{head.name}'. Give it to one head.")
            used[column] = head.name
    if summary.kind == "npz":
        for head in heads:
            if head.columns != [head.name]:
                raise DataError(f"An .npz file's arrays are named after the project's heads, "
                                f"so '{head.name}' cannot be renamed or grouped; give each "
                                "target array as it is named in the file.")

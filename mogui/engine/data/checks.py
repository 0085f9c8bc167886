"""Checks on training data before any training, with a summary of each head's targets.

:func:`check_data` opens the project's data source and reads it once (chunk by chunk, so
streamed data stays streamed). Every problem names the input, head, column or file and says
what to do; :func:`load_data` raises them together as one :class:`DataError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from mogui.core.errors import DataError
from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import Task
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.masking import missing_rows, prepare_masked_targets
from mogui.engine.data.opening import open_data
from mogui.engine.data.sanity import SanityInputs, sanity_problems
from mogui.engine.data.sources.streaming import StreamingDataset
from mogui.engine.data.targets import RowsNotOneHot

Severity = Literal["error", "warning"]


@dataclass
class DataProblem:
    """One finding; errors stop training, warnings do not."""

    severity: Severity
    message: str


@dataclass
class TargetSummary:
    """What one head's targets hold: labelled and missing rows, value range, class counts."""

    head: str
    task: str
    labelled: int = 0
    missing: int = 0
    low: float | None = None
    high: float | None = None
    class_counts: dict[int, int] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{self.labelled} labelled", f"{self.missing} missing"]
        if self.low is not None and self.high is not None:
            parts.append(f"range {self.low:.4g} .. {self.high:.4g}")
        if self.class_counts:
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.class_counts.items()))
            parts.append(f"counts {{{counts}}}")
        return "; ".join(parts)


@dataclass
class DataReport:
    """Rows, per-head target summaries and problems of one data source."""

    rows: int = 0
    summaries: dict[str, TargetSummary] = field(default_factory=dict)
    problems: list[DataProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [p.message for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        return [p.message for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, severity: Severity, message: str) -> None:
        if all(p.message != message for p in self.problems):
            self.problems.append(DataProblem(severity, message))

    def raise_for_errors(self) -> None:
        """Raise one :class:`DataError` listing every error."""
        errors = self.errors
        if len(errors) == 1:
            raise DataError(errors[0])
        if errors:
            raise DataError(f"The data has {len(errors)} problems:\n"
                            + "\n".join(f"- {e}" for e in errors))


def check_data(project: Project, project_dir: Path | None = None) -> DataReport:
    """Open the project's data and check it; problems opening it are reported, not raised."""
    try:
        data = open_data(project, project_dir)
    except DataError as exc:
        report = DataReport()
        report.add("error", str(exc))
        return report
    return scan(project, data)


def scan(project: Project, data: Dataset | StreamingDataset) -> DataReport:
    """Read ``data`` once and check inputs and targets against the project."""
    report = DataReport(summaries={h.name: TargetSummary(h.name, str(h.task))
                                   for h in project.heads})
    not_one_hot: dict[str, list[RowsNotOneHot]] = {}  # per head, one finding per chunk
    inputs = SanityInputs()
    try:
        if isinstance(data, StreamingDataset):
            for start, chunk in data.iter_chunks():
                _scan_chunk(project, chunk, start, report, not_one_hot)
                inputs.add_chunk(chunk.x)
        else:
            _check_row_counts(data, report)
            if report.ok:
                _scan_chunk(project, data, 0, report, not_one_hot)
                inputs.add_chunk(data.x)
    except DataError as exc:
        report.add("error", str(exc))
    for found in not_one_hot.values():  # one message per head, counted over every chunk
        report.add("error", str(found[0].counted_over(sum(f.bad for f in found), report.rows)))
    if report.ok and report.rows == 0:
        report.add("error", "The data holds no samples. Add rows to the data file.")
    if report.ok:
        _check_labels(project, report)
    if report.ok:
        for severity, message in sanity_problems(project, report.summaries, inputs):
            report.add(severity, message)
    return report


def _check_row_counts(data: Dataset, report: DataReport) -> None:
    rows = {name: len(a) for name, a in (*data.x.items(), *data.y.items())}
    if len(set(rows.values())) > 1:
        listing = ", ".join(f"'{n}': {r}" for n, r in rows.items())
        report.add("error", f"The arrays have different numbers of rows ({listing}). Every "
                            "input and target needs one row per sample.")


def _scan_chunk(project: Project, chunk: Dataset, start: int, report: DataReport,
                not_one_hot: dict[str, list[RowsNotOneHot]]) -> None:
    report.rows += chunk.num_samples
    for spec in project.inputs:
        if spec.name not in chunk.x:
            report.add("error", f"The data has nothing for input '{spec.name}'. Map columns "
                                "or an array to it in the data settings.")
            continue
        array = np.asarray(chunk.x[spec.name])
        if not spec.accepts(array.shape[1:]):  # None: any size
            report.add("error", f"Input '{spec.name}' takes shape {list(spec.shape)} per "
                                f"sample but the data gives {list(array.shape[1:])}. Change the "
                                "input's shape or the data so they agree.")
        elif array.dtype.kind not in "biuf":
            report.add("error", f"Input '{spec.name}' holds {array.dtype} values; inputs must "
                                "be numbers.")
        elif array.dtype.kind == "f":
            bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
            if bad.any():
                first = start + int(np.flatnonzero(bad)[0])
                report.add("error", f"Input '{spec.name}' has empty, NaN or infinite values "
                                    f"(first in sample {first + 1}). Fill or remove those rows; "
                                    "only targets may be left empty.")
    infinite = False
    for head in project.heads:
        if head.name not in chunk.y:
            continue
        target = np.asarray(chunk.y[head.name])
        if target.dtype.kind == "f" and np.isinf(target).any():
            report.add("error", f"The target of head '{head.name}' holds infinite values. "
                                "Replace them with numbers, or leave the cells empty (NaN) to "
                                "mark those rows unlabelled.")
            infinite = True
            continue
        _summarise(head, target, report.summaries[head.name])
    if infinite:
        return  # said above; the targets' own check would say it again
    try:
        prepare_masked_targets(project, chunk.y, first_row=start)
    except RowsNotOneHot as exc:
        not_one_hot.setdefault(exc.head, []).append(exc)
    except DataError as exc:
        report.add("error", str(exc))


def _summarise(head: HeadSpec, target: np.ndarray, summary: TargetSummary) -> None:
    missing = missing_rows(head, target)
    summary.missing += int(missing.sum())
    summary.labelled += int((~missing).sum())
    values = target[~missing]
    if values.size == 0:
        return
    low, high = float(np.min(values)), float(np.max(values))
    summary.low = low if summary.low is None else min(summary.low, low)
    summary.high = high if summary.high is None else max(summary.high, high)
    if head.task in (Task.MULTICLASS, Task.BINARY) and values.reshape(len(values), -1).shape[1] \
            == 1 and np.all(values == np.round(values)):
        ids = values.reshape(-1).astype(np.int64)
    elif head.task == Task.MULTICLASS_ONEHOT and values.ndim == 2 and \
            values.shape[1] == head.units:
        ids = values.argmax(axis=1)
    else:
        return
    for value, count in zip(*np.unique(ids, return_counts=True), strict=True):
        summary.class_counts[int(value)] = summary.class_counts.get(int(value), 0) + int(count)


def _check_labels(project: Project, report: DataReport) -> None:
    trained = {h.name for h in project.loss_heads()}
    for head in project.heads:
        summary = report.summaries[head.name]
        if head.name not in trained or summary.labelled + summary.missing == 0:
            continue
        if summary.labelled == 0:
            report.add("error", f"Head '{head.name}' has no labelled rows: every target is "
                                "empty. Fill its column or switch its loss off.")
        elif summary.missing and project.loss_mode == "per_output" and head.is_custom:
            report.add("warning", f"Head '{head.name}' has {summary.missing} unlabelled rows "
                                  "and a custom loss: return one value per sample (shape "
                                  "(batch,)) so mogui can leave those rows out.")


def load_data(project: Project, project_dir: Path | None = None
              ) -> Dataset | StreamingDataset:
    """The project's data after :func:`scan`; raises one :class:`DataError` for all errors."""
    return load_checked(project, project_dir)[0]


def load_checked(project: Project, project_dir: Path | None = None
                 ) -> tuple[Dataset | StreamingDataset, DataReport]:
    """The project's data and its report (warnings included); raises one :class:`DataError`
    for all errors."""
    data = open_data(project, project_dir)
    report = scan(project, data)
    report.raise_for_errors()
    return data, report

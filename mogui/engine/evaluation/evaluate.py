"""A trained run evaluated on data: every head's figures (see :mod:`.metrics`).

:func:`evaluate_run` loads the run's model and its project (``project.json`` of the run
folder) and evaluates the validation rows of the run's own split, the training rows or all
rows; :func:`evaluate_model` does the same for a model and data in hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import keras
import numpy as np

from mogui.core.errors import DataError
from mogui.core.project import ImageFolderData, Project
from mogui.core.run_store import run_project
from mogui.core.runs import MODEL_FILE
from mogui.engine.data import (
    Dataset,
    RowSelection,
    StreamingDataset,
    load_data,
    prepare_masked_targets,
    project_labels,
)
from mogui.engine.data.sources import resolve
from mogui.engine.data.sources.image_folder import ImageFolder
from mogui.engine.evaluation.metrics import HeadEvaluation, evaluate_head
from mogui.engine.plain_keras.split import split_rows
from mogui.engine.training import inference_copy, load_trained_model

Rows = Literal["validation", "training", "all"]
#: Rows predicted at a time.
PREDICT_BATCH = 256


@dataclass
class Evaluation:
    """Every head's figures over the rows evaluated (``rows`` says which)."""

    rows: Rows
    samples: int
    heads: dict[str, HeadEvaluation] = field(default_factory=dict)
    note: str = ""

    def lines(self) -> list[str]:
        what = {"validation": "validation rows", "training": "training rows",
                "all": "rows"}[self.rows]
        out = [f"Evaluated on {self.samples} {what}" + (f" ({self.note})" if self.note else "")]
        for head in self.heads.values():
            out += head.lines()
        return out


def evaluate_run(run_dir: str | Path, data: Dataset | StreamingDataset | None = None, *,
                 rows: Rows = "validation", worst: int = 10) -> Evaluation:
    """The run's model on ``data`` (default: its project's data, read from the run folder)."""
    run_dir = Path(run_dir)
    project = run_project(run_dir)
    model = inference_copy(load_trained_model(run_dir / MODEL_FILE))
    given = data is not None
    if data is None:
        data = load_data(project, run_dir)
    names = getattr(data, "files", None)  # a streamed image folder's
    if names is None and not given:  # an image folder decoded into memory
        names = _image_files(project, run_dir)
    return evaluate_model(project, model, data, rows=rows, worst=worst, names=names)


def _image_files(project: Project, project_dir: Path) -> list[str] | None:
    """Each row's image file, for an image-folder project (its label table only is read)."""
    source = project.data
    if not isinstance(source, ImageFolderData):
        return None
    return ImageFolder(project, source, resolve(source.folder, project_dir),
                       resolve(source.labels, project_dir)).files


def _selected(project: Project, data: Dataset | StreamingDataset, rows: Rows
              ) -> tuple[np.ndarray, str]:
    """The data rows to evaluate (0-based, file order) and a note when none are held out."""
    settings = project.training
    total = data.num_samples
    if rows == "all":
        return np.arange(total), ""
    if isinstance(data, StreamingDataset):
        train, val = data.split(settings.validation_split, settings.seed)  # as training does
        chosen = val if rows == "validation" else train
        if chosen is None:
            return np.arange(total), "no validation split: all rows"
        return (np.arange(total) if chosen.rows is None else np.flatnonzero(chosen.rows)), ""
    train_idx, val_idx = split_rows(total, settings.validation_split, settings.seed)
    if rows == "validation":
        if val_idx is None:
            return np.arange(total), "no validation split: all rows"
        return np.asarray(val_idx), ""
    return np.asarray(train_idx), ""


def _predict(model: keras.Model, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
    return {k: np.asarray(v) for k, v in out.items()}


def _gathered(project: Project, model: keras.Model, data: Dataset | StreamingDataset,
              rows: np.ndarray) -> tuple[dict, dict, dict]:
    """Targets (as training takes them), sample weights and outputs of ``rows``."""
    if isinstance(data, Dataset):
        subset = data.subset(rows)
        y, weights = prepare_masked_targets(project, subset.y)
        return y, weights, _predict(model, subset.x)
    mask = np.zeros(data.num_samples, dtype=bool)
    mask[rows] = True
    parts = [(y, w, _predict(model, x)) for x, y, w in
             data.prepared_chunks(project, RowSelection(mask, int(mask.sum())))]
    merged = [{k: np.concatenate([p[i][k] for p in parts]) for k in parts[0][i]}
              for i in range(3)] if parts else [{}, {}, {}]
    return merged[0], merged[1], merged[2]


def _inputs_of(data: Dataset | StreamingDataset, wanted: set[int]) -> dict[int, dict]:
    """The inputs of the ``wanted`` data rows (for the worst rows: e.g. their images)."""
    if not wanted:
        return {}
    if isinstance(data, Dataset):
        return {r: {k: v[r] for k, v in data.x.items()} for r in wanted}
    found: dict[int, dict] = {}
    for start, chunk in data.iter_chunks():
        for r in wanted:
            if start <= r < start + chunk.num_samples:
                found[r] = {k: v[r - start] for k, v in chunk.x.items()}
        if len(found) == len(wanted):
            break
    return found


def evaluate_model(project: Project, model: keras.Model, data: Dataset | StreamingDataset,
                   *, rows: Rows = "validation", worst: int = 10,
                   names: list[str] | None = None) -> Evaluation:
    """Every head of ``model`` (a model whose ``predict`` returns a dict keyed by head, in the
    targets' units) on the chosen rows of ``data``; ``names``: each data row's file, shown
    with the worst rows."""
    chosen, note = _selected(project, data, rows)
    if chosen.size == 0:
        raise DataError("There are no rows to evaluate: the data holds no samples.")
    y, weights, outputs = _gathered(project, model, data, chosen)
    labels = project_labels(project)
    evaluation = Evaluation("all" if note else rows, int(chosen.size), note=note)
    for head in project.heads:
        if head.name not in y or head.name not in outputs:
            continue
        evaluation.heads[head.name] = evaluate_head(labels[head.name], y[head.name],
                                                    outputs[head.name], weights.get(head.name),
                                                    chosen, worst)
    wanted = {w.row for h in evaluation.heads.values() for w in h.worst}
    inputs = _inputs_of(data, wanted)
    for h in evaluation.heads.values():
        for w in h.worst:
            w.inputs = inputs.get(w.row, {})
            w.name = names[w.row] if names is not None and w.row < len(names) else ""
    return evaluation

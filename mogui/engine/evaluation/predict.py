"""Predictions of a trained run for a new data file, one column per head.

The file is read the way the run's project reads its own data: a CSV table by the same input
columns, an ``.npz`` file by the same array names, and for an image-folder project a folder of
images (each decoded as in training). Classification heads give class names, regression heads
values in the target's units, multi-label heads the labels that apply (joined by ``;``);
:mod:`mogui.engine.plain_keras.prediction` decodes them, as the ``predict.py`` of an export
does. When the file also holds every head's target, the rows are evaluated too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mogui.core.columns import select_columns
from mogui.core.errors import DataError
from mogui.core.labels import labels_info
from mogui.core.paths import path_problem
from mogui.core.project import CsvData, ImageFolderData, NpzData, Project
from mogui.core.run_store import run_project
from mogui.core.runs import MODEL_FILE, PROJECT_FILE
from mogui.engine.data import (
    IMAGE_SUFFIXES,
    Dataset,
    StreamingDataset,
    check_dataset,
    load_npz,
    open_source,
    project_labels,
    read_header,
)
from mogui.engine.data.sources.table import iter_chunks
from mogui.engine.evaluation.evaluate import PREDICT_BATCH, Evaluation, evaluate_model
from mogui.engine.plain_keras.images import decode_image
from mogui.engine.plain_keras.prediction import decode_outputs, output_columns, predictions_csv
from mogui.engine.training import inference_copy, load_trained_model


@dataclass
class PredictionTable:
    """The predictions: column names and one row per data row; ``evaluation`` when the file
    held the targets."""

    columns: list[str]
    rows: list[list[object]]
    evaluation: Evaluation | None = None
    #: Why some heads (or all) were not evaluated, and what the figures include.
    notes: list[str] = field(default_factory=list)

    def csv_text(self) -> str:
        return predictions_csv(self.columns, self.rows)


def predict_run(run_dir: str | Path, data_file: str | Path,
                project: Project | None = None, keep: str = "") -> PredictionTable:
    """The run's model on ``data_file``, with the project the run trained (its
    ``project.json``; ``project`` when the folder holds none); ``keep`` names columns of a
    CSV file copied into the table first (e.g. an id)."""
    run_dir = Path(run_dir)
    if (run_dir / PROJECT_FILE).is_file():
        project = run_project(run_dir)
    if project is None:
        raise DataError(f"The run folder '{run_dir}' holds no {PROJECT_FILE}; give the project "
                        "that trained it.")
    model = inference_copy(load_trained_model(run_dir / MODEL_FILE))
    return predict_with(project, model, Path(data_file), keep)


def predict_with(project: Project, model: keras.Model, data_file: Path,
                 keep: str = "") -> PredictionTable:
    """``model`` (a dict-output model in the targets' units) on ``data_file``; ``keep``:
    columns of a CSV file copied in front of the predictions (``select_columns``' syntax)."""
    heads = labels_info(project, project_labels(project))["heads"]
    columns = output_columns(heads)
    source = project.data
    if isinstance(source, ImageFolderData):
        files, batches = _image_batches(project, source, data_file)
        rows = [row for x in batches for row in decode_outputs(_outputs(model, x), heads)]
        return PredictionTable([_free("file", columns), *columns],
                               [[name, *row] for name, row in zip(files, rows, strict=True)])
    try:
        read, data, targets, notes = _table_data(project, data_file, labelled=True)
        rows = _predicted_rows(project, model, data, heads)
    except DataError as exc:  # e.g. a target cell the run's classes do not know
        read, data, targets, _ = _table_data(project, data_file, labelled=False)
        rows = _predicted_rows(project, model, data, heads)
        notes = [f"Not evaluated: {exc}"]
    if keep.strip():
        columns, rows = _with_kept(project, data_file, keep, columns, rows)
    evaluation = None
    if targets:
        evaluation = evaluate_model(read, model, data, rows="all")
        evaluation.heads = {k: v for k, v in evaluation.heads.items() if k in targets}
    if evaluation is not None and _is_project_data(project, data_file):
        notes.append("These rows include the rows the model trained on, so the figures are "
                     "better than on new data; 'mogui evaluate' (the app: Evaluate… on the "
                     "Runs tab) evaluates the validation rows alone.")
    return PredictionTable(columns, rows, evaluation, notes)


def _with_kept(project: Project, path: Path, keep: str, columns: list[str],
               rows: list[list[object]]) -> tuple[list[str], list[list[object]]]:
    """The ``keep`` columns of the file in front of the predictions; a prediction column
    named like one of them gets ``_predicted`` added."""
    if not isinstance(project.data, CsvData):
        raise DataError("--keep copies columns of a CSV file; this project predicts from "
                        f"{project.data.kind.replace('_', ' ')} data.")
    delimiter = project.data.delimiter
    header = read_header(path, delimiter)
    kept = select_columns(keep, header, f"column of '{path.name}' for --keep")
    where = [header.index(name) for name in kept]
    values = [[row[i] for i in where] for chunk in iter_chunks(path, delimiter, 65536)
              for row in chunk.rows]
    if len(values) != len(rows):  # read twice: the file changed meanwhile
        raise DataError(f"'{path.name}' changed while it was read; predict it again.")
    renamed = [f"{c}_predicted" if c in kept else c for c in columns]
    return [*kept, *renamed], [[*k, *r] for k, r in zip(values, rows, strict=True)]


def _predicted_rows(project: Project, model: keras.Model, data: Dataset | StreamingDataset,
                    heads: dict) -> list[list[object]]:
    return [row for x in _input_batches(project, data)
            for row in decode_outputs(_outputs(model, x), heads)]


def _is_project_data(project: Project, data_file: Path) -> bool:
    """True when ``data_file`` is the file the project trains on (paths as the run holds
    them: absolute)."""
    own = Path(getattr(project.data, "path", ""))
    try:
        return own.is_absolute() and own.resolve() == data_file.resolve()
    except OSError:
        return False


def _free(name: str, taken: list[str]) -> str:
    while name in taken:
        name = f"{name}_"
    return name


def _outputs(model: keras.Model, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
    return {k: np.asarray(v) for k, v in out.items()}


def _input_batches(project: Project, data: Dataset | StreamingDataset
                   ) -> Iterator[dict[str, np.ndarray]]:
    chunks = [data] if isinstance(data, Dataset) else (c for _s, c in data.iter_chunks())
    for chunk in chunks:
        yield {spec.name: np.asarray(chunk.x[spec.name]).astype(spec.dtype, copy=False)
               for spec in project.inputs}


def _without_targets(project: Project, heads: set[str]) -> Project:
    """A copy in which the ``heads`` need no targets (their losses and metrics off)."""
    copy = project.model_copy(deep=True)
    for head in copy.heads:
        if head.name in heads:
            head.loss.enabled = False
            head.loss.metrics = []
    return copy


def _table_data(project: Project, path: Path, *, labelled: bool
                ) -> tuple[Project, Dataset | StreamingDataset, list[str], list[str]]:
    """The file's inputs, and with ``labelled`` the targets of the heads whose columns it
    holds: the project as it reads the file (the other heads need no target), the data,
    those heads, and a line for each head left unevaluated."""
    if (problem := path_problem(path)) is not None:
        raise DataError(f"The data file '{path}' {problem}.")
    source = project.data
    if isinstance(source, CsvData):
        header = read_header(path, source.delimiter)
        _require_inputs(path, [(m.name, c) for m in source.inputs for c in m.columns], header,
                        "column")
        present = [m for m in source.targets if all(c in header for c in m.columns)]
        if not labelled:
            present = []
        copy = _without_targets(project, set(project.head_names) - {m.name for m in present})
        copy.data = source.model_copy(update={"path": str(path.absolute()),
                                              "targets": present})
        notes = [f"Not evaluated: {m.name} (the file has no column "
                 f"{', '.join(repr(c) for c in m.columns if c not in header)})"
                 for m in source.targets if m not in present]
        return copy, open_source(copy, None), [m.name for m in present], \
            notes if present else []
    if isinstance(source, NpzData):
        relaxed = _without_targets(project, set(project.head_names))
        data = check_dataset(relaxed, load_npz(path, relaxed), f"'{path.name}'")
        if not labelled:
            data = Dataset(data.x, {})
        notes = [f"Not evaluated: {h} (the file has no array for it)"
                 for h in project.head_names if h not in data.y] if data.y else []
        return _without_targets(project, set(project.head_names) - set(data.y)), data, \
            list(data.y), notes
    raise DataError(f"This project trains on {source.kind.replace('_', ' ')} data, which is "
                    "made by mogui itself; predictions need a project whose data is a CSV "
                    "table, an .npz file or an image folder.")


def _require_inputs(path: Path, wanted: list[tuple[str, str]], header: list[str],
                    what: str) -> None:
    """Refuse a file that lacks a column the model takes as input, naming all of them."""
    missing = [column for _input, column in wanted if column not in header]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        every = ", ".join(column for _input, column in wanted)
        raise DataError(f"'{path.name}' has no {what}{'s' if len(missing) > 1 else ''} "
                        f"{names}, which the model takes as input. Add "
                        f"{'them' if len(missing) > 1 else 'it'} to the file: the model was "
                        f"trained on {every}.")


def _image_batches(project: Project, source: ImageFolderData, folder: Path
                   ) -> tuple[list[str], Iterator[dict[str, np.ndarray]]]:
    """The images of ``folder`` (sorted by name), decoded in batches as training decodes
    them."""
    if (problem := path_problem(folder, "folder")) is not None:
        raise DataError(f"The image folder '{folder}' {problem}. Give the folder of images to "
                        "predict.")
    files = sorted(p.name for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"The folder '{folder}' holds no images (PNG, JPEG, GIF or BMP).")
    spec = project.inputs[project.input_names.index(source.input)]

    def batches() -> Iterator[dict[str, np.ndarray]]:
        for start in range(0, len(files), PREDICT_BATCH):
            images = []
            for name in files[start:start + PREDICT_BATCH]:
                try:
                    raw = tf.io.read_file(str(folder / name))
                    images.append(decode_image(raw, tuple(spec.shape), source.resize,
                                               source.scale).numpy())
                except (tf.errors.OpError, OSError):
                    raise DataError(f"The image '{name}' cannot be read. Replace it with a "
                                    "PNG, JPEG, GIF or BMP file, or move it out of the "
                                    "folder.") from None
            shapes = {image.shape for image in images}
            if len(shapes) > 1 or tuple(spec.shape) not in shapes:
                raise DataError(f"The images of '{folder.name}' are not all "
                                f"{spec.shape[1]}x{spec.shape[0]} pixels, the size input "
                                f"'{spec.name}' takes. Turn on resizing in the data settings "
                                "or resize the images.")
            yield {spec.name: np.stack(images)}

    return files, batches()

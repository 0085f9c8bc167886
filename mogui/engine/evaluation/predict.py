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
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

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

    def csv_text(self) -> str:
        return predictions_csv(self.columns, self.rows)


def predict_run(run_dir: str | Path, data_file: str | Path,
                project: Project | None = None) -> PredictionTable:
    """The run's model on ``data_file``, with the project the run trained (its
    ``project.json``; ``project`` when the folder holds none)."""
    run_dir = Path(run_dir)
    if (run_dir / PROJECT_FILE).is_file():
        project = run_project(run_dir)
    if project is None:
        raise DataError(f"The run folder '{run_dir}' holds no {PROJECT_FILE}; give the project "
                        "that trained it.")
    model = inference_copy(load_trained_model(run_dir / MODEL_FILE))
    return predict_with(project, model, Path(data_file))


def predict_with(project: Project, model: keras.Model, data_file: Path) -> PredictionTable:
    """``model`` (a dict-output model in the targets' units) on ``data_file``."""
    heads = labels_info(project, project_labels(project))["heads"]
    columns = output_columns(heads)
    source = project.data
    if isinstance(source, ImageFolderData):
        files, batches = _image_batches(project, source, data_file)
        rows = [row for x in batches for row in decode_outputs(_outputs(model, x), heads)]
        return PredictionTable([_free("file", columns), *columns],
                               [[name, *row] for name, row in zip(files, rows, strict=True)])
    data, labelled = _table_data(project, data_file)
    rows = [row for x in _input_batches(project, data)
            for row in decode_outputs(_outputs(model, x), heads)]
    evaluation = evaluate_model(project, model, data, rows="all") if labelled else None
    return PredictionTable(columns, rows, evaluation)


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


def _unlabelled(project: Project) -> Project:
    """A copy whose heads need no targets (inputs alone are checked)."""
    copy = project.model_copy(deep=True)
    for head in copy.heads:
        head.loss.enabled = False
        head.loss.metrics = []
    return copy


def _table_data(project: Project, path: Path) -> tuple[Dataset | StreamingDataset, bool]:
    """The file's inputs (and targets, when it holds every head's): the data and whether it
    holds the targets."""
    if (problem := path_problem(path)) is not None:
        raise DataError(f"The data file '{path}' {problem}.")
    source = project.data
    if isinstance(source, CsvData):
        header = read_header(path, source.delimiter)
        labelled = all(c in header for m in source.targets for c in m.columns) and \
            {m.name for m in source.targets} >= set(project.head_names)
        copy = _unlabelled(project) if not labelled else project.model_copy(deep=True)
        copy.data = source.model_copy(update={"path": str(path.absolute()),
                                              "targets": source.targets if labelled else []})
        return open_source(copy, None), labelled
    if isinstance(source, NpzData):
        relaxed = _unlabelled(project)
        data = check_dataset(relaxed, load_npz(path, relaxed), f"'{path.name}'")
        labelled = set(data.y) >= set(project.head_names)
        return data, labelled
    raise DataError(f"This project trains on {source.kind.replace('_', ' ')} data, which is "
                    "made by mogui itself; predictions need a project whose data is a CSV "
                    "table, an .npz file or an image folder.")


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

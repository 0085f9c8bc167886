"""Export a trained project: model files, a standalone training script, history and plots.

Everything is written into a temporary sibling of the output folder, which is renamed into
place at the very end: a failed or refused export leaves no partial files behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mogui.core.errors import MoguiError
from mogui.core.events import Reporter
from mogui.core.io import atomic_write_text
from mogui.core.project import NpzData, Project
from mogui.core.run_store import read_run_info
from mogui.core.runs import RUN_FILE, RunStatus
from mogui.core.trust import TrustStore, is_trusted, keras_file_code, untrusted_error
from mogui.engine.data import Dataset, load_data
from mogui.engine.export.codegen import generate_script, resolve_npz_path, script_name
from mogui.engine.export.formats import (
    INFERENCE_MODEL,
    TRAINING_MODEL,
    ExportError,
    check_formats,
    onnx_missing,
    write_models,
)
from mogui.engine.export.out_folder import (
    check_out_dir,
    make_parents,
    move_into_place,
    remove_created,
    temporary_sibling,
    write_marker,
)
from mogui.engine.export.plots import write_loss_plots
from mogui.engine.export.predict_helper import write_predict_helper
from mogui.engine.export.readme import EXPORTED_DATA, HISTORY, PROJECT_COPY, README, readme_text
from mogui.engine.losses import CustomLoss, HeadLossModel, JointLossModel
from mogui.engine.training import (
    TrainingControl,
    read_history_csv,
    run_training,
    write_history_csv,
)

#: The classes a training ``.keras`` of mogui's may hold.
_MOGUI_CLASSES = {"mogui>CustomLoss": CustomLoss, "mogui>JointLossModel": JointLossModel,
                  "mogui>HeadLossModel": HeadLossModel}


@dataclass
class ExportResult:
    """What an export wrote: the folder and its files (relative names), and the history."""

    folder: Path
    files: list[str]
    history: dict[str, list[float]]
    script: str
    trained: bool = field(default=True)  # False when exported from an existing run
    warnings: list[str] = field(default_factory=list)  # e.g. a run that failed


def _check_run(run_dir: Path) -> list[str]:
    """Refuse a run folder with no model, or whose run is still training; say when its run
    did not end as it should (its model may be older than its history)."""
    if not run_dir.is_dir():
        raise ExportError(f"The training output folder '{run_dir}' does not exist; give the "
                          "folder 'mogui train' wrote (it holds model.keras and history.csv).")
    if not (run_dir / TRAINING_MODEL).is_file():
        raise ExportError(f"The folder '{run_dir}' holds no trained model ({TRAINING_MODEL}); "
                          "train the project first (mogui train) or export without --from-run.")
    model_file = run_dir / TRAINING_MODEL
    try:
        items = keras_file_code(model_file)
    except MoguiError as exc:
        raise ExportError(str(exc)) from None
    store = TrustStore.load()
    untrusted = [item for item in items if not is_trusted(item.source, store)]
    if untrusted:  # loading would compile it: refuse before Keras reads the file
        raise untrusted_error(untrusted, where=f"the model file '{model_file}'",
                              target=str(model_file))
    if not (run_dir / RUN_FILE).is_file():
        return []  # a folder of an older mogui, or made by hand: nothing recorded
    status = read_run_info(run_dir).status
    if status == RunStatus.RUNNING:
        raise ExportError(f"The run in '{run_dir}' is still training, and its model file is "
                          "written only now and then; export it once it has ended (Stop "
                          "ends it with its model).")
    if status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
        how = "failed" if status == RunStatus.FAILED else "was interrupted"
        return [f"the run in '{run_dir}' {how}; its model is the last one it saved, which can "
                "be from an earlier epoch than its history's last"]
    return []


# -- the export ---------------------------------------------------------------------------------

def export_project(project: Project, out_dir: str | os.PathLike[str], *,
                   formats: Sequence[str] = ("keras",), epochs: int | None = None,
                   from_run: str | os.PathLike[str] | None = None,
                   project_dir: Path | None = None, reporter: Reporter | None = None,
                   control: TrainingControl | None = None,
                   data_snapshot: bool = False) -> ExportResult:
    """Train the project (or load the model of ``from_run``) and export it to ``out_dir``.

    Always written: the training script, ``history.csv``, the loss plots, a copy of the
    project and a README. ``formats`` adds model files. ``reporter``/``control`` are passed to
    :func:`mogui.engine.training.run_training`. Raises :class:`ExportError` (nothing written)
    for an unknown format, an unusable folder or when there is no trained model, and
    :class:`~mogui.core.errors.UntrustedCodeError` when ``from_run``'s model file holds
    code that is not trusted (checked before the file is loaded). The script of a CSV project
    reads the table itself; ``data_snapshot`` makes it load a ``data.npz`` copy of the arrays
    instead (image folders always get that copy). With the ``keras`` format, ``predict.py``
    and ``classes.json`` come beside the inference model.
    """
    chosen = check_formats(formats)
    if "onnx" in chosen and (reason := onnx_missing()):
        raise ExportError(reason)
    if epochs is not None and epochs < 1:
        raise ExportError(f"The number of epochs must be at least 1, got {epochs}.")
    out_dir = Path(out_dir).expanduser().absolute()
    check_out_dir(out_dir)
    run_dir = Path(from_run).expanduser() if from_run is not None else None
    warnings = _check_run(run_dir) if run_dir is not None else []

    project = _exported_project(project, project_dir, epochs)
    created = make_parents(out_dir.parent)
    try:
        tmp = temporary_sibling(out_dir)
    except ExportError:
        remove_created(created)
        raise
    try:
        data = None
        if run_dir is not None:
            model, history = _load_run(run_dir)
            if epochs is None and history.get("loss"):
                project.training.epochs = len(history["loss"])
        else:
            data = load_data(project, project_dir)
            model, history = _train(project, data, reporter, control)
        _write_data_copy(project, project_dir, data, tmp, data_snapshot)
        files = _write_all(project, project_dir, model, history, chosen, tmp, data_snapshot)
        script = (tmp / files[0]).read_text(encoding="utf-8")
        move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_created(created)
        raise
    return ExportResult(out_dir, files, history, script, trained=run_dir is None,
                        warnings=warnings)


def _exported_project(project: Project, project_dir: Path | None,
                      epochs: int | None) -> Project:
    """A copy with the epochs to train and an absolute data path (valid from anywhere)."""
    copy = project.model_copy(deep=True)
    if epochs is not None:
        copy.training.epochs = epochs
    if isinstance(copy.data, NpzData):
        copy.data.path = str(resolve_npz_path(copy, project_dir))
    return copy


def _write_data_copy(project: Project, project_dir: Path | None, data: Any,
                     folder: Path, data_snapshot: bool = False) -> None:
    """With ``data_snapshot`` (CSV and image-folder data): the arrays mogui read, as
    ``data.npz`` for the script."""
    if not data_snapshot or project.data.kind in ("demo_shapes", "npz"):
        return
    if data is None:
        data = load_data(project, project_dir)
    if not isinstance(data, Dataset):
        raise ExportError("The project's data is streamed from disk (too large to hold in "
                          "memory), so no data.npz snapshot is written. Export without the "
                          "snapshot: the script then reads the data files itself.")
    np.savez(folder / EXPORTED_DATA, **data.x, **data.y)


def _train(project: Project, data: Any, reporter: Reporter | None,
           control: TrainingControl | None) -> tuple[Any, dict[str, list[float]]]:
    result = run_training(project, data, reporter or (lambda _event: None), control)
    if result.epochs_run == 0 or result.model is None:
        raise ExportError("Training stopped before the first epoch ended, so there is no "
                          "trained model to export. Let at least one epoch finish.")
    return result.model, result.history


def _load_run(run_dir: Path) -> tuple[Any, dict[str, list[float]]]:
    try:
        model = keras.saving.load_model(run_dir / TRAINING_MODEL, custom_objects=_MOGUI_CLASSES)
    except Exception as exc:  # noqa: BLE001 - any load failure is a plain message
        reason = " ".join(str(exc).split())
        reason = reason[:200] + "…" if len(reason) > 200 else reason
        raise ExportError(f"The model file '{run_dir / TRAINING_MODEL}' cannot be loaded: it is "
                          f"not a valid Keras model file of mogui's ({reason}). Train again "
                          "(mogui train) and export that run, or export without --from-run."
                          ) from None
    history_path = run_dir / HISTORY
    history = read_history_csv(history_path) if history_path.is_file() else {}
    return model, history


def _write_all(project: Project, project_dir: Path | None, model: Any,
               history: dict[str, list[float]], formats: tuple[str, ...],
               folder: Path, data_snapshot: bool = False) -> list[str]:
    heads = [h.name for h in project.loss_heads()]
    script = script_name(project)
    atomic_write_text(folder / script, generate_script(project, project_dir,
                                                       data_snapshot=data_snapshot))
    files = [script]
    write_history_csv(history, folder / HISTORY, heads)
    files.append(HISTORY)
    files += [p.name for p in write_loss_plots(history, heads, folder, project.name)]
    atomic_write_text(folder / PROJECT_COPY, project.to_json())
    files.append(PROJECT_COPY)
    if formats:
        files += write_models(model, formats, folder)
    if INFERENCE_MODEL in files:
        files += write_predict_helper(project, folder)
    if (folder / EXPORTED_DATA).exists():
        files.append(EXPORTED_DATA)
    atomic_write_text(folder / README, readme_text(project, files, script))
    files.append(README)
    write_marker(folder)
    return files

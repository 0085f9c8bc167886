"""Export a trained project: model files, a standalone training script, history and plots.

Everything is written into a temporary sibling of the output folder, which is renamed into
place at the very end: a failed or refused export leaves no partial files behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
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
#: Written into every export folder; an existing folder holding it may be replaced.
MARKER = ".mogui-export"


@dataclass
class ExportResult:
    """What an export wrote: the folder and its files (relative names), and the history."""

    folder: Path
    files: list[str]
    history: dict[str, list[float]]
    script: str
    trained: bool = field(default=True)  # False when exported from an existing run


#: What an export may write, for markers that do not list their files (older exports).
_EXPORT_NAMES = re.compile(r"train_.*\.py|history\.csv|loss\.(png|svg)|project\.json|"
                           r"data\.npz|model(_inference)?\.keras|saved_model|model\.onnx|"
                           r"README\.txt|predict\.py|classes\.json")


def _written_by_export(out_dir: Path) -> set[str] | None:
    """The names a previous export wrote in ``out_dir`` (``None``: it holds no export)."""
    marker = out_dir / MARKER
    if not marker.is_file():
        return None
    listed = marker.read_text(encoding="utf-8").splitlines()[1:]
    if listed:
        return set(listed)
    return {p.name for p in out_dir.iterdir() if _EXPORT_NAMES.fullmatch(p.name)}


def _check_out_dir(out_dir: Path) -> None:
    """An export replaces only a previous export, and only when it holds nothing else."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"The export folder '{out_dir}' is a file; choose a folder.")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    written = _written_by_export(out_dir)
    if written is None:
        raise ExportError(f"The export folder '{out_dir}' already holds other files; choose an "
                          "empty or new folder (a previous mogui export may be replaced).")
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in written | {MARKER})
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                          else "")
        raise ExportError(f"The export folder '{out_dir}' holds a previous export and files it "
                          f"did not write ({shown}); move them out or choose another folder. "
                          "Nothing was changed.")


def _check_run(run_dir: Path) -> None:
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
    _check_out_dir(out_dir)
    run_dir = Path(from_run).expanduser() if from_run is not None else None
    if run_dir is not None:
        _check_run(run_dir)

    project = _exported_project(project, project_dir, epochs)
    created = _make_parents(out_dir.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial",
                                    dir=out_dir.parent))
    except OSError as exc:
        _remove_created(created)
        raise ExportError(f"Cannot write in '{out_dir.parent}': {exc.strerror or exc}. Choose "
                          "a folder you can write to.") from None
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
        _move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_created(created)
        raise
    return ExportResult(out_dir, files, history, script, trained=run_dir is None)


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
    (folder / MARKER).write_text("\n".join(["mogui export", *files]) + "\n", encoding="utf-8")
    return files


# -- folders ------------------------------------------------------------------------------------

def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created (innermost first)."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_created(missing)
        raise ExportError(f"Cannot create the folder '{folder}': {exc.strerror or exc}. "
                          "Choose a folder you can write to.") from None
    return missing


def _remove_created(created: list[Path]) -> None:
    for path in created:
        try:
            path.rmdir()
        except OSError:
            break


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename ``tmp`` to ``out_dir``, replacing an empty folder or a previous export."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old",
                                   dir=out_dir.parent))
    backup.rmdir()
    os.replace(out_dir, backup)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(backup, out_dir)
        raise
    shutil.rmtree(backup, ignore_errors=True)

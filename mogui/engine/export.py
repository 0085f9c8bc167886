"""Export a trained project: model files, a standalone training script, history and plots.

Everything is written into a temporary sibling of the output folder, which is renamed into
place at the very end: a failed or refused export leaves no partial files behind.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mogui.core.errors import MoguiError
from mogui.core.events import Reporter
from mogui.core.io import atomic_write_text
from mogui.core.project import NpzData, Project

if TYPE_CHECKING:
    from mogui.engine.callbacks import TrainingControl

#: Formats offered: ``keras`` (training and inference ``.keras``), ``savedmodel``, ``onnx``.
EXPORT_FORMATS: tuple[str, ...] = ("keras", "savedmodel", "onnx")
#: Written into every export folder; an existing folder holding it may be replaced.
MARKER = ".mogui-export"
TRAINING_MODEL = "model.keras"
INFERENCE_MODEL = "model_inference.keras"
SAVED_MODEL = "saved_model"
ONNX_MODEL = "model.onnx"
HISTORY = "history.csv"
PROJECT_COPY = "project.json"
README = "README.txt"


class ExportError(MoguiError):
    """An export request that cannot be carried out (bad format, folder, or nothing trained)."""


@dataclass
class ExportResult:
    """What an export wrote: the folder and its files (relative names), and the history."""

    folder: Path
    files: list[str]
    history: dict[str, list[float]]
    script: str
    trained: bool = field(default=True)  # False when exported from an existing run


# -- checks ---------------------------------------------------------------------------------------

def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The requested formats, lower-cased and de-duplicated; ``ExportError`` for unknown ones."""
    chosen: list[str] = []
    for item in formats:
        name = item.strip().lower()
        if not name:
            continue
        if name not in EXPORT_FORMATS:
            raise ExportError(f"Unknown export format '{item}'. Choose from: "
                              f"{', '.join(EXPORT_FORMATS)}.")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def onnx_missing() -> str | None:
    """Why ONNX export is unavailable (a missing package), or ``None`` when it works."""
    missing = [m for m in ("tf2onnx", "onnx") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"ONNX export needs the package(s) {', '.join(missing)}; install them with "
                "pip install 'mogui[onnx]'")
    return None


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"The export folder '{out_dir}' is a file; choose a folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise ExportError(f"The export folder '{out_dir}' already holds other files; choose an "
                          "empty or new folder (a previous mogui export may be replaced).")


def _check_run(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise ExportError(f"The training output folder '{run_dir}' does not exist; give the "
                          "folder 'mogui train' wrote (it holds model.keras and history.csv).")
    if not (run_dir / TRAINING_MODEL).is_file():
        raise ExportError(f"The folder '{run_dir}' holds no trained model ({TRAINING_MODEL}); "
                          "train the project first (mogui train) or export without --from-run.")


# -- the export ---------------------------------------------------------------------------------

def export_project(project: Project, out_dir: str | os.PathLike[str], *,
                   formats: Sequence[str] = ("keras",), epochs: int | None = None,
                   from_run: str | os.PathLike[str] | None = None,
                   project_dir: Path | None = None, reporter: Reporter | None = None,
                   control: TrainingControl | None = None) -> ExportResult:
    """Train the project (or load the model of ``from_run``) and export it to ``out_dir``.

    Always written: the training script, ``history.csv``, the loss plots, a copy of the
    project and a README. ``formats`` adds model files. ``reporter``/``control`` are passed to
    :func:`mogui.engine.training.run_training`. Raises :class:`ExportError` (nothing written)
    for an unknown format, an unusable folder or when there is no trained model.
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
            data = _load_data(project, project_dir)
            model, history = _train(project, data, reporter, control)
        _write_data_copy(project, project_dir, data, tmp)
        files = _write_all(project, project_dir, model, history, chosen, tmp)
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
        from mogui.engine.codegen_data import resolve_npz_path

        copy.data.path = str(resolve_npz_path(copy, project_dir))
    return copy


def _load_data(project: Project, project_dir: Path | None) -> Any:
    from mogui.engine.data import load_data

    return load_data(project, project_dir)


def _write_data_copy(project: Project, project_dir: Path | None, data: Any,
                     folder: Path) -> None:
    """For CSV or image-folder data: the arrays mogui read, as ``data.npz`` for the script."""
    from mogui.engine.codegen_data import EXPORTED_DATA
    from mogui.engine.dataset import Dataset

    if project.data.kind in ("demo_shapes", "npz"):
        return
    if data is None:
        data = _load_data(project, project_dir)
    if isinstance(data, Dataset):  # data streamed from disk is too large to copy
        np.savez(folder / EXPORTED_DATA, **data.x, **data.y)


def _train(project: Project, data: Any, reporter: Reporter | None,
           control: TrainingControl | None) -> tuple[Any, dict[str, list[float]]]:
    from mogui.engine.training import run_training

    result = run_training(project, data, reporter or (lambda _event: None), control)
    if result.epochs_run == 0 or result.model is None:
        raise ExportError("Training stopped before the first epoch ended, so there is no "
                          "trained model to export. Let at least one epoch finish.")
    return result.model, result.history


def _load_run(run_dir: Path) -> tuple[Any, dict[str, list[float]]]:
    import keras

    import mogui.engine.joint  # noqa: F401 - registers JointLossModel for loading
    import mogui.engine.losses  # noqa: F401 - registers CustomLoss for loading

    try:
        model = keras.saving.load_model(run_dir / TRAINING_MODEL)
    except Exception as exc:  # noqa: BLE001 - any load failure is a plain message
        raise ExportError(f"The model in '{run_dir}' cannot be loaded: "
                          f"{' '.join(str(exc).split())[:300]}") from None
    history_path = run_dir / HISTORY
    history = read_history_csv(history_path) if history_path.is_file() else {}
    return model, history


def read_history_csv(path: Path) -> dict[str, list[float]]:
    """The per-epoch history written by ``mogui train`` (column ``epoch`` dropped)."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return {}
    keys = [k for k in rows[0] if k != "epoch"]
    return {k: [float(r[k]) for r in rows if r.get(k) not in (None, "")] for k in keys}


def _write_all(project: Project, project_dir: Path | None, model: Any,
               history: dict[str, list[float]], formats: tuple[str, ...],
               folder: Path) -> list[str]:
    from mogui.engine.codegen import generate_script, script_name
    from mogui.engine.plots_export import write_loss_plots
    from mogui.engine.training import write_history_csv

    heads = [h.name for h in project.loss_heads()]
    script = script_name(project)
    atomic_write_text(folder / script, generate_script(project, project_dir))
    files = [script]
    write_history_csv(history, folder / HISTORY, heads)
    files.append(HISTORY)
    files += [p.name for p in write_loss_plots(history, heads, folder, project.name)]
    atomic_write_text(folder / PROJECT_COPY, project.to_json())
    files.append(PROJECT_COPY)
    if formats:
        files += _write_models(model, formats, folder)
    if (folder / "data.npz").exists():
        files.append("data.npz")
    atomic_write_text(folder / README, readme_text(project, files, script))
    files.append(README)
    (folder / MARKER).write_text("mogui export\n", encoding="utf-8")
    return files


def inference_model(model: Any) -> Any:
    """A plain functional copy of ``model``: same layers and weights, no custom class or loss."""
    import keras

    from mogui.engine.losses import outputs_by_head

    return keras.Model(inputs=model.input, outputs=outputs_by_head(model), name=model.name)


def _sample_batch(model: Any) -> dict[str, np.ndarray]:
    return {t.name.split(":")[0]: np.zeros((1, *t.shape[1:]), dtype=t.dtype)
            for t in model.inputs}


def _write_models(model: Any, formats: tuple[str, ...], folder: Path) -> list[str]:
    files: list[str] = []
    plain = inference_model(model)
    plain.predict(_sample_batch(plain), verbose=0)  # ONNX export needs a model called once
    steps = {
        "keras": lambda: _save_keras(model, plain, folder, files),
        "savedmodel": lambda: _export(plain, folder / SAVED_MODEL, "tf_saved_model", files),
        "onnx": lambda: _export(plain, folder / ONNX_MODEL, "onnx", files),
    }
    for name in formats:
        try:
            steps[name]()
        except MoguiError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing converter becomes a plain message
            raise ExportError(f"Writing the {name} model failed: "
                              f"{' '.join(str(exc).split())[:300]}") from exc
    return files


def _save_keras(model: Any, plain: Any, folder: Path, files: list[str]) -> None:
    model.save(folder / TRAINING_MODEL)
    plain.save(folder / INFERENCE_MODEL)
    files += [TRAINING_MODEL, INFERENCE_MODEL]


def _export(plain: Any, path: Path, fmt: str, files: list[str]) -> None:
    plain.export(str(path), format=fmt, verbose=False)
    files.append(path.name)


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


# -- readme ---------------------------------------------------------------------------------------

_DESCRIPTIONS = {
    HISTORY: "loss, each head's loss (unweighted) and metrics per epoch; val_ = validation",
    "loss.png": "the loss curves (total and per head; dashed = validation)",
    "loss.svg": "the same plot as a vector image",
    PROJECT_COPY: "the mogui project that was trained (open it in mogui)",
    "data.npz": "the training arrays mogui read (CSV or image folder), for the script",
    TRAINING_MODEL: "the trained model with its optimizer and losses, to resume training",
    INFERENCE_MODEL: "a plain Keras model for predictions; loads without mogui",
    SAVED_MODEL: "TensorFlow SavedModel (TF Serving, TFLite converter)",
    ONNX_MODEL: "ONNX model (onnxruntime and other ONNX tools)",
}

_HOW_TO_LOAD = {
    TRAINING_MODEL: ("import keras, mogui.engine.losses, mogui.engine.joint\n"
                     "  model = keras.saving.load_model('model.keras')  # needs mogui\n"
                     "  model.fit(x, y, epochs=...)  # x and y dicts keyed by input/head name"),
    INFERENCE_MODEL: ("import keras\n"
                      "  model = keras.saving.load_model('model_inference.keras')\n"
                      "  predictions = model.predict(x)  # dict keyed by head name"),
    SAVED_MODEL: ("import tensorflow as tf\n"
                  "  served = tf.saved_model.load('saved_model')\n"
                  "  predictions = served.serve(x)"),
    ONNX_MODEL: ("import onnxruntime\n"
                 "  session = onnxruntime.InferenceSession('model.onnx')\n"
                 "  outputs = session.run(None, {input_name: array, ...})  # one per head"),
}


def readme_text(project: Project, files: list[str], script: str) -> str:
    """README.txt: what each exported file is and how to load it."""
    heads = ", ".join(project.head_names)
    lines = [
        f"mogui export of \"{project.name}\"",
        "",
        f"Inputs: {', '.join(project.input_names)}. Heads (outputs): {heads}.",
        f"Loss mode: {project.loss_mode.replace('_', '-')}. Inputs, targets and predictions are "
        "dicts keyed by input or head name.",
        "",
        "Files",
        f"  {script}:",
        "    standalone training script (keras, tensorflow, numpy only). It builds the same",
        "    model, losses, data and seeds and trains it again:",
        f"    python {script} OUTPUT_FOLDER",
    ]
    for name in files:
        if name in _DESCRIPTIONS:
            lines.append(f"  {name}: {_DESCRIPTIONS[name]}")
    loaders = [name for name in files if name in _HOW_TO_LOAD]
    if loaders:
        lines += ["", "Loading the models"]
        for name in loaders:
            lines += [f"  {name}:", f"  {_HOW_TO_LOAD[name]}", ""]
    return "\n".join(lines).rstrip() + "\n"

"""The demo shapes and NumPy ``.npz`` data, checked against the project's inputs and heads.

``.npz`` arrays are named after the project's inputs and heads; CSV tables and image folders
are read by :mod:`mogui.engine.data.sources`. Every problem is a :class:`DataError` that says
what to change.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from mogui.core.demo_targets import (
    DEMO_QUANTITIES,
    demo_head_targets,
    demo_quantity_name,
    describe_fit,
)
from mogui.core.errors import DataError
from mogui.core.paths import path_problem
from mogui.core.project import DemoShapesData, NpzData, Project
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.demo import make_demo_shapes
from mogui.engine.data.targets import heads_needing_targets


def read_builtin(project: Project, project_dir: Path | None = None) -> Dataset:
    """Demo or ``.npz`` data checked by :func:`check_dataset` (rows, shapes, dtypes)."""
    source = project.data
    if isinstance(source, DemoShapesData):
        _check_demo_fits(project, source)
        data = make_demo_shapes(source.samples, source.image_size, source.seed,
                                targets=_demo_targets(project, source))
        label = "the demo shapes data"
    elif isinstance(source, NpzData):
        path = Path(source.path)
        if not path.is_absolute() and project_dir is not None:
            path = Path(project_dir) / path
        data = load_npz(path, project)
        label = f"'{path.name}'"
    else:  # pragma: no cover - other kinds are read by mogui.engine.data.sources
        raise DataError(f"Unknown data source {source!r}.")
    return check_dataset(project, data, label)


def _check_demo_fits(project: Project, source: DemoShapesData) -> None:
    size = source.image_size
    names = project.input_names
    if names != ["image"]:
        raise DataError(
            f"The demo shapes data feeds one input named 'image', but the project's inputs are "
            f"{_quoted(names)}. Give the project a single input named 'image' of shape "
            f"[{size}, {size}, 1], or switch the data source to an .npz file.")
    shape = list(project.inputs[0].shape)
    if shape != [size, size, 1]:
        raise DataError(
            f"The demo shapes data makes {size}x{size} grey images, shape [{size}, {size}, 1], "
            f"but input 'image' has shape {shape}. Set the input shape to [{size}, {size}, 1] "
            f"or set the data's image size to match the input.")


def _demo_targets(project: Project, source: DemoShapesData) -> dict[str, str]:
    """Head -> demo quantity for every head that has one; DataError if a trained head has none."""
    mapping = demo_head_targets(project)
    problems = []
    for head in heads_needing_targets(project):
        if head.name in mapping:
            continue
        name = demo_quantity_name(source, head.name)
        if name is None:
            problems.append(f"Head '{head.name}' has no demo target.")
        else:
            problems.append(f"Head '{head.name}' does not fit its demo target: "
                            f"{describe_fit(DEMO_QUANTITIES[name], head)}.")
    if problems:
        choices = ", ".join(DEMO_QUANTITIES)
        raise DataError(
            f"{' '.join(problems)} The demo shapes data offers {choices}. Name the head after "
            f"one, choose one under 'Trains on' (data.targets in the project file) with a "
            f"matching task and units, or switch off the head's loss; for your own data use "
            f"Edit ▸ Data….")
    return mapping


def load_npz(path: Path, project: Project) -> Dataset:
    """Read the arrays of ``path`` named after the project's inputs and heads."""
    if (problem := path_problem(path)) is not None:
        raise DataError(f"The data file '{path}' {problem}. Check the data path in the "
                        f"project (it is relative to the project file).")
    if not zipfile.is_zipfile(path):
        raise DataError(f"The data file '{path}' cannot be read as a NumPy .npz archive: it "
                        "is not one (an .npz file is a zip of arrays). Save the arrays with "
                        "numpy.savez or numpy.savez_compressed.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            available = list(npz.files)
            x = {name: npz[name] for name in project.input_names if name in available}
            y = {name: npz[name] for name in project.head_names if name in available}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"The data file '{path}' cannot be read as a NumPy .npz archive "
                        f"({exc}). Save it with numpy.savez or numpy.savez_compressed.") from None
    missing_inputs = [n for n in project.input_names if n not in x]
    missing_targets = [h.name for h in heads_needing_targets(project) if h.name not in y]
    if missing_inputs or missing_targets:
        parts = []
        if missing_inputs:
            parts.append(f"input {_quoted(missing_inputs)}")
        if missing_targets:
            parts.append(f"target {_quoted(missing_targets)}")
        raise DataError(
            f"The data file '{path.name}' has no array for {' and '.join(parts)}. "
            f"It holds {_quoted(available) if available else 'no arrays'}. Name each array "
            f"after an input or head of the project.")
    return Dataset(x=x, y=y)


def check_dataset(project: Project, data: Dataset, label: str = "the data") -> Dataset:
    """Check rows, shapes and values against the project; return arrays in the input dtypes.

    Targets of heads not in the project are dropped; heads without a target are allowed only
    when neither a loss nor a metric reads them.
    """
    missing = [n for n in project.input_names if n not in data.x]
    if missing:
        raise DataError(f"{_cap(label)} has no array for input {_quoted(missing)}.")
    no_target = [h.name for h in heads_needing_targets(project) if h.name not in data.y]
    if no_target:
        raise DataError(f"{_cap(label)} has no target for head {_quoted(no_target)}, whose "
                        f"loss or metrics need one. Provide the targets, or switch off that "
                        f"head's loss and remove its metrics.")
    arrays = {**{n: data.x[n] for n in project.input_names},
              **{n: data.y[n] for n in project.head_names if n in data.y}}
    rows = {name: (a.shape[0] if a.ndim else 0) for name, a in arrays.items()}
    if len(set(rows.values())) > 1:
        listing = ", ".join(f"'{n}': {r}" for n, r in rows.items())
        raise DataError(f"The arrays of {label} have different numbers of rows ({listing}). "
                        f"Every input and target needs one row per sample.")
    if rows and next(iter(rows.values())) == 0:
        raise DataError(f"{_cap(label)} has no samples: its arrays have 0 rows. Save arrays "
                        "with one row per sample.")

    x: dict[str, np.ndarray] = {}
    for spec in project.inputs:
        array = data.x[spec.name]
        if not spec.accepts(array.shape[1:]):  # None: any size
            raise DataError(
                f"Input '{spec.name}' has shape {list(spec.shape)} per sample, but its array in "
                f"{label} has {list(array.shape[1:])} (full shape {list(array.shape)}). Change "
                f"the input shape or the data so they agree.")
        x[spec.name] = _as_input_dtype(spec.name, array, spec.dtype, label)
    y: dict[str, np.ndarray] = {}
    for head in project.heads:
        if head.name not in data.y:
            continue
        target = np.asarray(data.y[head.name])
        if not (np.issubdtype(target.dtype, np.number) or target.dtype == np.bool_):
            raise DataError(f"The target of head '{head.name}' in {label} holds "
                            f"{_kind_of(target)}; targets must be numbers.")
        if np.issubdtype(target.dtype, np.floating) and np.isinf(target).any():
            raise DataError(f"The target of head '{head.name}' in {label} contains infinite "
                            f"values. Replace them, or use NaN to mark rows without a label.")
        y[head.name] = target
    return Dataset(x=x, y=y)


def _as_input_dtype(name: str, array: np.ndarray, dtype: str, label: str) -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(f"Input '{name}' in {label} holds {_kind_of(array)}; inputs must be "
                        f"numbers.")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).reshape(len(array), -1).any(axis=1).sum())
        raise DataError(f"Input '{name}' in {label} contains NaN or infinite values in {bad} "
                        f"sample(s). Remove or fill those rows before training.")
    if dtype == "int32" and np.issubdtype(array.dtype, np.floating):
        if not np.array_equal(array, np.round(array)):
            raise DataError(f"Input '{name}' is declared int32 but its array in {label} holds "
                            f"fractional values. Change the input dtype to float32 or the data.")
    return array.astype(dtype, copy=False)


def _kind_of(array: np.ndarray) -> str:
    """What an array holds, in words: ``text (<U3)``, ``Python objects``, ``float32 values``."""
    if array.dtype.kind in "US":
        return f"text ({array.dtype})"
    if array.dtype.kind == "O":
        return "Python objects"
    return f"{array.dtype} values"


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]

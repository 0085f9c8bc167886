"""A project from a data file, step two: the default model and the data settings for a plan.

:func:`build_project` turns a :class:`~mogui.core.from_data.ProjectPlan` into a project that
trains as it is: tables get a ``Normalization`` layer (adapted on the training rows when
training starts) and two ``Dense`` layers; images a small stack of convolutions; each target a
head named after it, with its task's loss and metrics. A regression head predicts in the
target's own units (``standardize``) and weighs ``1 / variance`` of its target, so that its
weighted squared error is counted in standard deviations, like the other heads' losses.
"""

from __future__ import annotations

from pathlib import Path

from mogui.core.data_paths import stored_path
from mogui.core.from_data import HeadPlan, ProjectPlan
from mogui.core.project import (
    ColumnMap,
    CsvData,
    DataSource,
    HeadLoss,
    HeadSpec,
    ImageFolderData,
    InputSpec,
    LayerSpec,
    NpzData,
    Project,
)
from mogui.core.tasks import Task

#: Metrics a new head gets, per task.
DEFAULT_METRICS: dict[Task, list[str]] = {
    Task.REGRESSION: ["mae"],
    Task.BINARY: ["binary_accuracy"],
    Task.MULTICLASS: ["sparse_categorical_accuracy"],
    Task.MULTICLASS_ONEHOT: ["categorical_accuracy"],
    Task.MULTILABEL: ["binary_accuracy"],
}
#: Width of the hidden Dense layers of the default model.
HIDDEN_UNITS = 64
#: Images are shrunk to at most this many pixels along their longer side.
MAX_IMAGE_SIDE = 128


class _Names:
    """Layer and input names that clash with no head (a head keeps its column's name)."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def __call__(self, base: str) -> str:
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}_{number}", number + 1
        self.taken.add(name)
        return name


def _dense_trunk(names: _Names, first_inputs: list[str] | None = None) -> list[LayerSpec]:
    return [
        LayerSpec(name=names("dense_1"), kind="Dense",
                  params={"units": HIDDEN_UNITS, "activation": "relu"},
                  inputs=first_inputs or []),
        LayerSpec(name=names("dense_2"), kind="Dense",
                  params={"units": HIDDEN_UNITS, "activation": "relu"}),
    ]


def _conv_stack(names: _Names, side: int, source: str | None = None) -> list[LayerSpec]:
    """Three convolutions, each of the first two followed by a pooling that halves the images
    while their shorter ``side`` is 8 pixels or more."""
    layers = []
    for i, filters in enumerate((16, 32, 64), start=1):
        layers.append(LayerSpec(name=names(f"conv_{i}"), kind="Conv2D",
                                params={"filters": filters, "kernel_size": 3,
                                        "activation": "relu"},
                                inputs=[source] if source and i == 1 else []))
        if i < 3 and side >= 8:
            layers.append(LayerSpec(name=names(f"pool_{i}"), kind="MaxPooling2D"))
            side //= 2
    layers.append(LayerSpec(name=names("global_pool"), kind="GlobalAveragePooling2D"))
    return layers


def image_input_shape(shape: tuple[int, int, int]) -> list[int]:
    """The model input for images of ``shape`` (height, width, channels): shrunk to
    :data:`MAX_IMAGE_SIDE` along the longer side, grey or RGB."""
    height, width, channels = shape
    factor = min(1.0, MAX_IMAGE_SIDE / max(height, width))
    return [max(1, round(height * factor)), max(1, round(width * factor)),
            1 if channels == 1 else 3]


def _head(plan: HeadPlan) -> HeadSpec:
    weight = 1.0
    if plan.task == Task.REGRESSION and plan.variance:
        weight = float(f"{1.0 / plan.variance:.3g}")
    return HeadSpec(name=plan.name, task=plan.task, units=plan.units,
                    standardize=plan.standardize,
                    loss=HeadLoss(weight=weight, metrics=list(DEFAULT_METRICS[plan.task])))


def _target_map(plan: HeadPlan) -> ColumnMap:
    return ColumnMap(name=plan.name, columns=list(plan.columns), classes=list(plan.classes))


def build_project(plan: ProjectPlan, project_path: Path, name: str | None = None) -> Project:
    """The project for ``plan``, to be saved at ``project_path`` (data paths inside its folder
    are stored relative to it). It validates and trains without further edits."""
    summary = plan.summary
    folder = Path(project_path).absolute().parent
    heads = [_head(h) for h in plan.heads]
    names = _Names({h.name for h in heads})
    inputs: list[InputSpec]
    trunk: list[LayerSpec]
    data: DataSource
    if summary.kind == "image_folder":
        assert summary.image_shape is not None and summary.folder is not None
        image = names("image")
        shape = image_input_shape(summary.image_shape)
        inputs = [InputSpec(name=image, shape=shape)]
        trunk = _conv_stack(names, min(shape[:2])) + [LayerSpec(name=names("dense"), kind="Dense",
                                                params={"units": HIDDEN_UNITS,
                                                        "activation": "relu"})]
        data = ImageFolderData(folder=stored_path(summary.folder, folder),
                               labels=stored_path(summary.path, folder),
                               file_column=summary.file_column or "file", input=image,
                               targets=[_target_map(h) for h in plan.heads],
                               delimiter=summary.delimiter)
    elif summary.kind == "csv":
        features = names("features")
        inputs = [InputSpec(name=features, shape=[len(plan.features.columns)])]
        trunk = [LayerSpec(name=names("normalize"), kind="Normalization")] + _dense_trunk(names)
        data = CsvData(path=stored_path(summary.path, folder),
                       inputs=[ColumnMap(name=features, columns=list(plan.features.columns))],
                       targets=[_target_map(h) for h in plan.heads],
                       delimiter=summary.delimiter)
    else:
        inputs, trunk = _npz_model(plan, names)
        data = NpzData(path=stored_path(summary.path, folder))
    stem = summary.path.stem if summary.kind != "image_folder" else \
        (summary.folder or summary.path).name
    return Project(
        name=name or stem,
        description=f"Made by 'mogui init' from {summary.path.name}: "
                    + "; ".join(h.describe() for h in plan.heads) + ".",
        inputs=inputs, trunk=trunk, heads=heads,
        training={"epochs": 40, "batch_size": 32, "learning_rate": 1e-3,
                  "validation_split": 0.2, "seed": 0,
                  "early_stopping": {"enabled": True, "monitor": "val_loss", "patience": 8,
                                     "restore_best_weights": True}},
        data=data)


def _npz_model(plan: ProjectPlan, names: _Names) -> tuple[list[InputSpec], list[LayerSpec]]:
    """One input per feature array; vectors normalized, images through convolutions, the
    branches joined, then the Dense trunk."""
    inputs: list[InputSpec] = []
    trunk: list[LayerSpec] = []
    ends: list[str] = []
    for array in plan.features.columns:
        shape = list(plan.summary.column(array).shape)
        name = array  # an .npz array feeds the input of its own name
        names.taken.add(name)
        inputs.append(InputSpec(name=name, shape=shape))
        if len(shape) == 3:
            branch = _conv_stack(names, min(shape[:2]), source=name)
        else:
            branch = [LayerSpec(name=names(f"normalize_{name}"), kind="Normalization",
                                inputs=[name])]
            if len(shape) > 1:
                branch.append(LayerSpec(name=names(f"flatten_{name}"), kind="Flatten"))
        trunk += branch
        ends.append(branch[-1].name)
    if len(ends) > 1:
        trunk.append(LayerSpec(name=names("merge"), kind="Concatenate", inputs=ends))
    trunk += _dense_trunk(names)
    return inputs, trunk


def describe_size(project: Project) -> str:
    """``3 inputs, 5 layers, 2 heads``: for messages."""
    parts = [(len(project.inputs), "input"), (len(project.trunk), "layer"),
             (len(project.heads), "head")]
    return ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in parts)


__all__ = ["DEFAULT_METRICS", "build_project", "describe_size", "image_input_shape"]

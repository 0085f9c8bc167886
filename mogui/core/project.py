"""The project model: everything mogui needs to build, train and export a multi-output model.

A project is plain data (pydantic models serialised as JSON). Structural checks (types, ranges)
happen when a project is parsed; cross-field checks (names, references, losses per task) live in
:mod:`mogui.core.validation`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mogui.core.balancing import (
    BALANCING_METHODS,
    WEIGHT_SCHEDULES,
    BalancingName,
    ScheduleName,
    parameter_problems,
)
from mogui.core.tasks import CUSTOM_LOSS, TASKS, Task

SCHEMA_VERSION = 1

#: What a name of an input, layer or head may be: a Python identifier Keras uses unchanged.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_NAME_LENGTH = 64

Identifier = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        max_length=MAX_NAME_LENGTH,
        description="letters, digits and underscores, not starting with a digit",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


#: One axis of an input: a size, or ``None`` for a size that may differ between batches.
Dimension = Annotated[int, Field(ge=1)] | None


class InputSpec(_Model):
    """One model input. A null (None) size has no fixed length: a sequence of any length, as
    keras.Input(shape=(None,)); each batch of data gives it one."""

    name: Identifier
    shape: list[Dimension] = Field(
        min_length=1, description="sizes per sample, without the batch axis; null: any size")
    dtype: Literal["float32", "int32"] = "float32"

    @property
    def is_fixed(self) -> bool:
        """True when every dimension has a size."""
        return None not in self.shape

    def sized(self, values: int) -> list[int] | None:
        """The shape of a sample of ``values`` numbers: one ``None`` axis takes the size the
        fixed ones leave; ``None`` when they do not fit (or more than one axis is ``None``)."""
        fixed = math.prod(d for d in self.shape if d is not None)
        free = self.shape.count(None)
        if free > 1 or (free == 0 and values != fixed) or values % fixed or values == 0:
            return None
        return [values // fixed if d is None else d for d in self.shape]

    def accepts(self, sample_shape: Sequence[int]) -> bool:
        """True when one sample of ``sample_shape`` fits: same rank, every fixed size equal."""
        return len(sample_shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, sample_shape,
                                                             strict=True))


class LayerSpec(_Model):
    """One layer of the trunk or of a head.

    ``inputs`` names model inputs or earlier layers. Left empty, the layer takes the layer
    listed just before it (the first layer of a head takes the head's ``source``).
    """

    name: Identifier
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)


class WeightSchedule(_Model):
    """How a head's loss weight changes over the epochs (``core.balancing.WEIGHT_SCHEDULES``)."""

    kind: ScheduleName = "constant"
    params: dict[str, float] = Field(default_factory=dict,
                                     description="the schedule's parameters; missing ones take "
                                     "their defaults")

    @model_validator(mode="after")
    def _known_params(self) -> WeightSchedule:
        schedule = WEIGHT_SCHEDULES[self.kind]
        problems = parameter_problems(f"The '{self.kind}' schedule", schedule.parameters,
                                      self.params)
        if problems:
            raise ValueError(" ".join(problems))
        return self


class HeadLoss(_Model):
    """How one head is trained in per-output mode."""

    kind: str | None = Field(
        None,
        description="a built-in loss id offered for the head's task, 'custom', or null for no "
        "loss; null on a new head means the task's default",
    )
    source: str = Field("", description="Python source defining loss(y_true, y_pred) when custom")
    weight: float = Field(1.0, ge=0.0)
    schedule: WeightSchedule = Field(default_factory=WeightSchedule,
                                     description="how the weight changes over the epochs")
    metrics: list[str] = Field(default_factory=list)
    enabled: bool = Field(True, description="false: the head is trained by no loss")


class HeadSpec(_Model):
    """An output head: its own layers, then a Dense output layer named after the head."""

    name: Identifier
    task: Task
    units: int = Field(ge=1)
    activation: str | None = Field(None, description="null uses the task's activation")
    source: str | None = Field(None, description="trunk layer or input feeding the head; "
                               "null takes the trunk's last layer")
    layers: list[LayerSpec] = Field(default_factory=list)
    loss: HeadLoss = Field(default_factory=HeadLoss)
    standardize: bool = Field(
        False, description="regression: the head learns in standard deviations of its target "
        "and predicts in the target's own units (a Normalization(invert=True) layer named "
        "after the head, adapted on the training rows, follows its Dense layer '<head>_"
        "standardized')")

    @model_validator(mode="after")
    def _default_loss(self) -> HeadSpec:
        if self.loss.kind is None and self.loss.enabled:
            self.loss.kind = TASKS[self.task].default_loss
        return self

    @property
    def output_activation(self) -> str:
        return self.activation or TASKS[self.task].activation

    @property
    def has_loss(self) -> bool:
        return self.loss.enabled and self.loss.kind is not None

    @property
    def is_custom(self) -> bool:
        return self.has_loss and self.loss.kind == CUSTOM_LOSS


class JointLoss(_Model):
    """One custom function over all heads: ``loss(y_true, y_pred)`` with dicts keyed by head."""

    source: str = ""
    term_weights: dict[str, Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=dict,
        description="weight per term when the function returns a dict; missing terms weigh 1",
    )


#: What early stopping and checkpoints watch: one logged value (``monitor``), or several
#: (``metrics``): their weighted sum, a lexicographic order, or every head on its own.
CriterionKind = Literal["monitor", "weighted", "lexicographic", "all_heads"]


class CriterionMetric(_Model):
    """One logged value a criterion of several values watches."""

    metric: str = Field(min_length=1, description="a logged value, e.g. val_bbox_loss")
    weight: float = Field(1.0, ge=0.0, description="weighted and all_heads: its weight in the "
                          "sum (a value higher-is-better counts negatively)")
    tolerance: float | None = Field(None, ge=0.0, description="lexicographic: differences up "
                                    "to this count as ties, so the next value decides; null: "
                                    "min_delta")


class _Watching(_Model):
    """What early stopping and checkpoints share: the value or values they watch."""

    enabled: bool = False
    monitor: str = Field("val_loss", description="the logged value watched when criterion is "
                         "'monitor'")
    criterion: CriterionKind = Field(
        "monitor", description="monitor: one value; weighted: the weighted sum of metrics; "
        "lexicographic: metrics in order of importance; all_heads: each metric on its own "
        "(stop when none improves)")
    metrics: list[CriterionMetric] = Field(
        default_factory=list, description="the values of a criterion other than 'monitor', in "
        "order; empty: each loss head's validation loss, weight 1, in head order")

    @field_validator("metrics", mode="before")
    @classmethod
    def _weights_by_name(cls, value: Any) -> Any:
        """``{"val_bbox_loss": 1.0, …}`` is short for a list of metrics with those weights,
        a bare name for a metric of weight 1."""
        if isinstance(value, dict):
            return [{"metric": name, "weight": weight} for name, weight in value.items()]
        if isinstance(value, list):
            return [{"metric": item} if isinstance(item, str) else item for item in value]
        return value


class EarlyStopping(_Watching):
    min_delta: float = Field(0.0, ge=0.0, description="an improvement smaller than this does "
                             "not count (as Keras' min_delta)")
    patience: int = Field(5, ge=1)
    restore_best_weights: bool = True


class Checkpointing(_Watching):
    save_best_only: bool = True


class Balancing(_Model):
    """How the heads' losses are combined (``core.balancing.BALANCING_METHODS``)."""

    method: BalancingName = Field("equal", description="'equal' is the fixed weighted sum")
    params: dict[str, float] = Field(default_factory=dict,
                                     description="the method's parameters; missing ones take "
                                     "their defaults")

    @model_validator(mode="after")
    def _known_params(self) -> Balancing:
        method = BALANCING_METHODS[self.method]
        problems = parameter_problems(f"Balancing '{self.method}'", method.parameters,
                                      self.params)
        if problems:
            raise ValueError(" ".join(problems))
        return self

    def settings(self) -> dict[str, float]:
        """Every parameter of the method: the given ones over the defaults."""
        return {**BALANCING_METHODS[self.method].defaults, **self.params}


#: Automatic gradient sampling: at least this many training steps apart, and spaced so that
#: sampling takes at most this share of the training steps' time.
AUTO_SAMPLE_EVERY = 50
AUTO_SAMPLE_SHARE = 0.10


class GradientDiagnostics(_Model):
    """Each head's gradient on the shared trunk, sampled while training: norms per trunk layer
    and in all, and the cosine between every two heads' gradients."""

    enabled: bool = False
    every: int | None = Field(None, ge=1, description="sample every this many training steps "
                              "(the first step included); null: automatic, at least 50 steps "
                              "apart and at most a tenth of the training time")

    def describe(self) -> str:
        """How often samples are taken, in words."""
        if self.every is None:
            return (f"automatically: at least {AUTO_SAMPLE_EVERY} steps apart, spaced to take at "
                    f"most {AUTO_SAMPLE_SHARE:.0%} of the training time")
        return f"every {self.every} step{'s' if self.every > 1 else ''}"


class TrainingSettings(_Model):
    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    learning_rate: float = Field(1e-3, gt=0.0, le=10.0)
    batch_size: int = Field(32, ge=1)
    epochs: int = Field(10, ge=1)
    validation_split: float = Field(0.2, ge=0.0, lt=1.0)
    seed: int = Field(0, ge=0)
    shuffle: bool = True
    mixed_precision: bool = False
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)
    checkpointing: Checkpointing = Field(default_factory=Checkpointing)
    balancing: Balancing = Field(default_factory=Balancing)
    devices: int = Field(1, ge=1, le=64, description="devices trained on at once (data "
                         "parallel, tf.distribute.MirroredStrategy); 1 trains on one")
    gradient_diagnostics: GradientDiagnostics = Field(default_factory=GradientDiagnostics)


class DemoShapesData(_Model):
    """Synthetic detection data: one shape per image and targets derived from it.

    A head trains on the demo quantity of its own name (``bbox``, ``classification``, …) or on
    the one ``targets`` maps it to; :mod:`mogui.core.demo_targets` lists the quantities.
    """

    kind: Literal["demo_shapes"] = "demo_shapes"
    samples: int = Field(2048, ge=16)
    image_size: int = Field(64, ge=16, le=256)
    seed: int = Field(0, ge=0)
    targets: dict[str, str] = Field(
        default_factory=dict,
        description="head name -> demo quantity it trains on; a head named after a quantity "
        "needs no entry")


class NpzData(_Model):
    """A NumPy ``.npz`` file whose arrays are named after inputs and heads."""

    kind: Literal["npz"] = "npz"
    path: str = Field(min_length=1, description="relative to the project file")


class ColumnMap(_Model):
    """Which table columns feed one input or one head's target, in order."""

    name: Identifier = Field(description="the input or head these columns feed")
    columns: list[str] = Field(min_length=1)
    classes: list[str] = Field(
        default_factory=list,
        description="cells hold these category names; a name's position is its class id. "
        "Empty: cells hold numbers")


Streaming = Literal["auto", "always", "never"]


class CsvData(_Model):
    """A CSV table with a header row: columns chosen for each input and each head.

    An empty cell in a head's columns means that row has no label for that head.
    """

    kind: Literal["csv"] = "csv"
    path: str = Field(min_length=1, description="relative to the project file")
    inputs: list[ColumnMap] = Field(default_factory=list)
    targets: list[ColumnMap] = Field(default_factory=list)
    delimiter: str = Field(",", min_length=1, max_length=1)
    streaming: Streaming = Field(
        "auto", description="read the file in chunks while training instead of loading it; "
        "auto streams files larger than 256 MB")
    chunk_rows: int = Field(4096, ge=1, description="rows read at a time when streaming")


class ImageFolderData(_Model):
    """A folder of images plus a CSV with one row per image: its file name and targets."""

    kind: Literal["image_folder"] = "image_folder"
    folder: str = Field(min_length=1, description="relative to the project file")
    labels: str = Field(min_length=1, description="CSV file, relative to the project file")
    file_column: str = Field("file", min_length=1)
    input: Identifier = Field("image", description="the input fed with the images")
    targets: list[ColumnMap] = Field(default_factory=list)
    delimiter: str = Field(",", min_length=1, max_length=1)
    resize: bool = Field(True, description="resize images to the input's height and width")
    scale: Literal["unit", "symmetric", "none"] = Field(
        "unit", description="pixel values: unit 0..1, symmetric -1..1, none 0..255")
    streaming: Streaming = Field(
        "auto", description="decode images batch by batch while training; auto streams when "
        "the decoded images would exceed 256 MB")
    cache: Literal["none", "memory", "disk"] = Field(
        "none", description="streamed images: keep them decoded after the first epoch, in "
        "memory or in a temporary file (as large as the decoded images), so later epochs "
        "skip decoding")


DataSource = Annotated[DemoShapesData | NpzData | CsvData | ImageFolderData,
                       Field(discriminator="kind")]


def slug_of(name: str) -> str:
    """``name`` as a file-name-safe identifier: "Shapes: box + class" -> "shapes_box_class"."""
    return re.sub(r"\W+", "_", name).strip("_").lower()


class Project(_Model):
    """A whole mogui project."""

    schema_version: int = SCHEMA_VERSION
    name: str = "Untitled"
    description: str = ""
    inputs: list[InputSpec] = Field(min_length=1)
    trunk: list[LayerSpec] = Field(default_factory=list)
    heads: list[HeadSpec] = Field(min_length=1)
    loss_mode: Literal["per_output", "joint"] = "per_output"
    joint_loss: JointLoss = Field(default_factory=JointLoss)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    data: DataSource = Field(default_factory=DemoShapesData)

    # -- convenience -------------------------------------------------------------------------
    def head(self, name: str) -> HeadSpec:
        for head in self.heads:
            if head.name == name:
                return head
        raise KeyError(f"no head named {name!r}")

    @property
    def head_names(self) -> list[str]:
        return [h.name for h in self.heads]

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.inputs]

    def loss_heads(self) -> list[HeadSpec]:
        """Heads that a loss trains (all heads in joint mode)."""
        if self.loss_mode == "joint":
            return list(self.heads)
        return [h for h in self.heads if h.has_loss]

    @property
    def slug(self) -> str:
        """The name as a file-name-safe identifier: "Shapes: box + class" -> "shapes_box_class"."""
        return slug_of(self.name)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

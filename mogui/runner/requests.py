"""What crosses the pipe to and from a job: plain data, importable without the engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mogui.core.project import Project
from mogui.core.tracking import TrackingOptions

if TYPE_CHECKING:  # the engine's report type; this module must not load TensorFlow
    from mogui.engine.losses import DryRunReport


@dataclass(frozen=True)
class TrainRequest:
    """A run: which project, where its data and run folder are, how many epochs."""

    project: Project
    project_dir: Path | None = None
    out_dir: Path | None = None
    epochs: int | None = None
    #: Data already in memory (sent through the pipe); ``None`` loads the project's data.
    data: Any = None
    #: Also work out each head's loss when predicting the training mean (the CLI prints it).
    baseline: bool = False
    #: Where the run is logged besides its folder (MLflow, TensorBoard); ``None``: nowhere.
    tracking: TrackingOptions | None = None


@dataclass(frozen=True)
class TrainSummary:
    """What a finished or stopped run sends back; its model is ``out_dir/model.keras``."""

    history: dict[str, list[float]]
    stopped: bool
    epochs_run: int
    device: str
    #: Per head, the validation loss of predicting the training mean (in-memory data only).
    baseline: dict[str, float]
    has_validation: bool


@dataclass(frozen=True)
class DryRunResult:
    """The dry run's report and how many samples the data holds."""

    report: DryRunReport
    samples: int
    #: What the checks of the data found that does not stop training.
    data_warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PredictSummary:
    """What a prediction job wrote: how many rows, which columns, and the evaluation's lines
    when the data held the targets."""

    rows: int
    columns: list[str]
    evaluation: list[str]

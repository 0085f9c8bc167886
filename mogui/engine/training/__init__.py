"""Training: the runner (a plain function with a reporter and a control), its callbacks,
per-batch values, devices, and the run's files.

The public face: :func:`run_training`, :class:`TrainingControl` (stop, pause, loss weights),
:class:`TrainingResult`, each epoch's loss weights (:func:`weight_schedule`),
:func:`device_description`, the history/model file helpers, and
:func:`load_trained_model` / :func:`inference_copy` (a run's model back, for predictions),
:class:`RunTracking` (a run's epochs to MLflow and TensorBoard).
"""

from mogui.engine.training.control import TrainingControl
from mogui.engine.training.devices import configure_devices, device_description
from mogui.engine.training.files import (
    EpochFiles,
    history_columns,
    read_history_csv,
    save_model_atomic,
    write_history_csv,
)
from mogui.engine.training.live_weights import (
    LiveLossWeights,
    base_weights,
    weight_schedule,
    weight_schedules,
)
from mogui.engine.training.loading import inference_copy, load_trained_model
from mogui.engine.training.runner import TrainingResult, run_training
from mogui.engine.training.tracking import RunTracking

__all__ = [
    "EpochFiles",
    "LiveLossWeights",
    "RunTracking",
    "TrainingControl",
    "TrainingResult",
    "configure_devices",
    "device_description",
    "base_weights",
    "history_columns",
    "inference_copy",
    "load_trained_model",
    "read_history_csv",
    "run_training",
    "save_model_atomic",
    "weight_schedule",
    "weight_schedules",
    "write_history_csv",
]

"""Training: the runner (a plain function with a reporter and a control), its callbacks,
per-batch values, devices, and the run's files.

The public face: :func:`run_training`, :class:`TrainingControl`, :class:`TrainingResult`,
:func:`device_description`, the history/model file helpers, and
:func:`load_trained_model` / :func:`inference_copy` (a run's model back, for predictions).
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
from mogui.engine.training.loading import inference_copy, load_trained_model
from mogui.engine.training.runner import TrainingResult, run_training

__all__ = [
    "EpochFiles",
    "TrainingControl",
    "TrainingResult",
    "configure_devices",
    "device_description",
    "history_columns",
    "inference_copy",
    "load_trained_model",
    "read_history_csv",
    "run_training",
    "save_model_atomic",
    "write_history_csv",
]

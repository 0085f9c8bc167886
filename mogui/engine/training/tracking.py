"""A run's tracking while it trains: every epoch's values to MLflow and as TensorBoard scalars.

:class:`RunTracking` gives :func:`~mogui.engine.training.run_training` its callbacks; they go
last in the callback list, so they see every column other callbacks add, and they leave out
an epoch that a stop cut short, as ``history.csv`` does. Starting and ending the MLflow run
(parameters, status, artifacts) is the caller's (:mod:`mogui.engine.export.tracking`).

TensorBoard scalars are written with TensorFlow alone (no ``tensorboard`` package needed to
write them): ``train/`` and ``validation/`` in the run's folder, one tag per head and value,
``<value>/<head>`` (``loss/box``, ``mae/box``, ``weight/box``; the total loss is
``loss/total``), so TensorBoard draws a head's training and validation curves on one chart.
Steps are epochs counted from 1, as in ``history.csv``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
from tensorflow.core.framework.summary_pb2 import SummaryMetadata

from mogui.core.mlflow_runs import MlflowRun
from mogui.engine.training.complete_epochs import CompleteEpochs

#: What marks a summary as a scalar for TensorBoard (its "scalars" plugin).
_SCALAR = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
TRAIN_DIR, VALIDATION_DIR = "train", "validation"


def scalar_tag(key: str, heads: Iterable[str]) -> tuple[str, str]:
    """``(folder, tag)`` of a history column: ``val_box_loss`` -> ``("validation",
    "loss/box")``, ``weight_box`` -> ``("train", "weight/box")``, ``loss`` -> ``loss/total``."""
    folder = VALIDATION_DIR if key.startswith("val_") else TRAIN_DIR
    name = key.removeprefix("val_")
    if name == "loss":
        return folder, "loss/total"
    heads = list(heads)
    first, _, rest = name.partition("_")
    if all(part in heads for part in rest.split("__", 1)):
        return folder, f"{first}/{rest}"  # weight_<head>, gradnorm_<head>, gradcos_<a>__<b>
    for head in sorted(heads, key=len, reverse=True):
        if name.startswith(f"{head}_"):
            return folder, f"{name[len(head) + 1:]}/{head}"  # <head>_<metric>
    return folder, name


class _CompleteEpochCallback(keras.callbacks.Callback):
    """Calls :meth:`epoch` for each complete epoch (1-based) with its logs as floats."""

    def __init__(self, complete: CompleteEpochs | None) -> None:
        super().__init__()
        self.complete = complete

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.complete is not None and self.complete.cut_short(epoch):
            return
        self.epoch(epoch + 1, {str(k): float(v) for k, v in (logs or {}).items()})

    def epoch(self, number: int, logs: dict[str, float]) -> None:
        raise NotImplementedError


class MlflowEpochs(_CompleteEpochCallback):
    """Logs every value of each epoch to an MLflow run, at the epoch's step."""

    def __init__(self, run: MlflowRun, complete: CompleteEpochs | None = None) -> None:
        super().__init__(complete)
        self.run = run

    def epoch(self, number: int, logs: dict[str, float]) -> None:
        self.run.log_epoch(number, logs)


class TensorBoardScalars(_CompleteEpochCallback):
    """Writes every value of each epoch as a TensorBoard scalar, tagged per head."""

    def __init__(self, folder: Path, heads: Iterable[str],
                 complete: CompleteEpochs | None = None) -> None:
        super().__init__(complete)
        self.folder = Path(folder)
        self.heads = list(heads)
        self._writers: dict[str, Any] = {}

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(str(self.folder / name))
        return self._writers[name]

    def epoch(self, number: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            folder, tag = scalar_tag(key, self.heads)
            with self._writer(folder).as_default():
                tf.summary.write(tag, tf.constant(value, tf.float32), step=number,
                                 metadata=_SCALAR)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.close()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


class RunTracking:
    """What logs one run while it trains: an MLflow run (started by the caller) and/or a
    TensorBoard folder. ``stopped`` is set by the caller once training returns."""

    def __init__(self, mlflow: MlflowRun | None = None,
                 tensorboard_dir: Path | None = None) -> None:
        self.mlflow = mlflow
        self.tensorboard_dir = Path(tensorboard_dir) if tensorboard_dir is not None else None
        self.stopped = False
        self._tensorboard: TensorBoardScalars | None = None

    def callbacks(self, heads: Iterable[str],
                  complete: CompleteEpochs | None = None) -> list[keras.callbacks.Callback]:
        """The callbacks that log each complete epoch; put them last."""
        found: list[keras.callbacks.Callback] = []
        if self.mlflow is not None:
            found.append(MlflowEpochs(self.mlflow, complete))
        if self.tensorboard_dir is not None:
            self._tensorboard = TensorBoardScalars(self.tensorboard_dir, heads, complete)
            found.append(self._tensorboard)
        return found

    def close(self) -> None:
        """Close the TensorBoard files (also when training failed before it ended)."""
        if self._tensorboard is not None:
            self._tensorboard.close()


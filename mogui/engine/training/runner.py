"""The training runner: a plain function with a reporter and a stop/pause control.

It runs on the calling thread (the GUI calls it from a worker thread, the CLI directly) and
reports through :mod:`mogui.core.events`. Keras state that is per thread (dtype policy, seeds)
is set here, inside the calling thread, and put back afterwards.
"""

from __future__ import annotations

import gc
import math
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from mogui.core.errors import MoguiError, TrainingError
from mogui.core.events import Reporter, TrainingFailed, TrainingFinished, TrainingStarted
from mogui.core.project import Project
from mogui.core.validation import ProjectError
from mogui.engine.data import Dataset, StreamingDataset, prepare_masked_targets
from mogui.engine.losses import make_training_model, training_failure
from mogui.engine.plain_keras.batches import epoch_batches, needed_weights
from mogui.engine.plain_keras.scaling import adapt_scaling
from mogui.engine.training.callback_list import FloatLogsCallbackList
from mogui.engine.training.complete_epochs import CompleteEpochs
from mogui.engine.training.control import TrainingControl
from mogui.engine.training.devices import (
    configure_devices,
    device_description,
    distribution_strategy,
)
from mogui.engine.training.files import EpochFiles, save_model_atomic, write_history_csv
from mogui.engine.training.gradient_diagnostics import gradient_diagnostics
from mogui.engine.training.live_weights import LiveLossWeights, weight_schedule
from mogui.engine.training.progress import ProgressCallback
from mogui.engine.training.stopping import early_stop_outcome, restore_best, settings_callbacks
from mogui.engine.training.tracking import RunTracking

MIXED_PRECISION_POLICY = "mixed_float16"


@dataclass
class TrainingResult:
    history: dict[str, list[float]]
    model: keras.Model | None
    stopped: bool
    device: str
    epochs_run: int
    #: The epoch (from 1) whose weights early stopping restored: the model's figures are that
    #: epoch's, not the last one's. ``None`` when the model holds the last epoch's weights.
    restored_epoch: int | None = None


def run_training(project: Project, data: Dataset | StreamingDataset, reporter: Reporter,
                 control: TrainingControl | None = None, *, epochs: int | None = None,
                 out_dir: Path | None = None, save_each_epoch: bool = False,
                 tracking: RunTracking | None = None) -> TrainingResult:
    """Train the project's model on ``data``; report events; honour ``control``.

    Emits TrainingStarted, BatchEnded, EpochEnded, StateChanged, LossWeightsChanged (weights
    given to ``control.set_loss_weights`` took effect) and finally TrainingFinished,
    or TrainingFailed and re-raises (a :class:`MoguiError`, whose event carries only the
    error's own ``details``, e.g. the user's lines of a custom loss; unexpected errors are
    wrapped in :class:`TrainingError` and their event carries the full traceback). With
    ``out_dir`` it writes ``history.csv`` and ``model.keras`` there (and ``checkpoint.keras``
    when checkpointing is on); with ``save_each_epoch`` also after every epoch, so a run that
    is killed keeps its completed epochs. ``tracking``'s callbacks log each complete epoch
    (MLflow, TensorBoard; see :mod:`mogui.engine.export.tracking`).
    """
    control = control or TrainingControl()
    try:
        configure_devices()
        with _dtype_policy(MIXED_PRECISION_POLICY if project.training.mixed_precision else None):
            result = _train(project, data, reporter, control, epochs, out_dir, save_each_epoch,
                            tracking)
    except MoguiError as exc:
        reporter(TrainingFailed(str(exc), getattr(exc, "details", "")))
        raise
    except ProjectError as exc:  # e.g. a monitor that names nothing training logs
        error = TrainingError(str(exc))
        reporter(TrainingFailed(str(error)))
        raise error from None
    except Exception as exc:
        if (failure := training_failure(project, data, exc)) is not None:  # the user's code
            reporter(TrainingFailed(str(failure), traceback.format_exc()))
            raise failure from exc
        error = TrainingError(_plain_message(exc))
        reporter(TrainingFailed(str(error), traceback.format_exc()))
        raise error from exc
    return result


def _train(project: Project, data: Dataset | StreamingDataset, reporter: Reporter,
           control: TrainingControl, epochs: int | None, out_dir: Path | None,
           save_each_epoch: bool = False,
           tracking: RunTracking | None = None) -> TrainingResult:
    settings = project.training
    epochs = settings.epochs if epochs is None else epochs
    if epochs < 1:
        raise TrainingError(f"The number of epochs must be at least 1, got {epochs}.")
    keras.utils.set_random_seed(settings.seed)
    feed = _fit_inputs(project, data)
    strategy = distribution_strategy(settings.devices)  # None: one device
    with strategy.scope() if strategy is not None else nullcontext():
        model = make_training_model(project)
        adapt_scaling(model, feed.training_rows)  # Normalization layers: training rows only

    device = device_description(settings.devices)
    steps = math.ceil(feed.train_samples / settings.batch_size)
    started = TrainingStarted(
        device=device, epochs=epochs, steps_per_epoch=steps, train_samples=feed.train_samples,
        val_samples=feed.val_samples,
        heads=tuple(h.name for h in project.loss_heads()))
    complete = CompleteEpochs(steps)
    progress = ProgressCallback(reporter, control, started=started,
                                batch_size=settings.batch_size, complete=complete)
    # The weights of each epoch (schedules), then weights edited during a pause: after the
    # progress callback, which holds a paused run before the next batch.
    schedule = weight_schedule(project, epochs)
    # Gradient diagnostics add to an epoch's logs: before the callbacks that report them.
    diagnostics = gradient_diagnostics(project, feed.training_rows, reporter, started.heads,
                                       complete=complete)
    callbacks: list[keras.callbacks.Callback] = [
        complete, *diagnostics, progress, schedule, LiveLossWeights(control, schedule, reporter)]
    stopping = settings_callbacks(project, has_validation=feed.val_samples > 0,
                                  out_dir=out_dir, complete=complete)
    callbacks += stopping
    if save_each_epoch and out_dir is not None:
        callbacks.append(EpochFiles(Path(out_dir), started.heads, complete=complete))
    if tracking is not None:  # MLflow, TensorBoard: last, so they log every column
        callbacks += tracking.callbacks(started.heads, complete)

    t0 = time.perf_counter()
    history: dict[str, list[float]] = {}
    if control.stop_requested:
        reporter(started)
    else:
        callback_list = FloatLogsCallbackList(callbacks, add_history=True, model=model,
                                              verbose=0, epochs=epochs, steps=steps)
        with frozen_heap():
            fit = model.fit(**feed.fit_kwargs, epochs=epochs, callbacks=callback_list,
                            verbose=0)
        # An epoch that a stop cut short is left out, weights included.
        history = complete.finish(
            {k: [float(v) for v in values] for k, values in fit.history.items()})
        restore_best(stopping)  # the best epoch's weights, even when a stop cut one short
    epochs_run = len(history.get("loss", []))

    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_history_csv(history, out_dir / "history.csv", started.heads)
        if epochs_run > 0:
            save_model_atomic(model, out_dir / "model.keras")
    outcome = early_stop_outcome(stopping) if epochs_run else None
    reporter(TrainingFinished(history=history, stopped=control.stop_requested,
                              elapsed=time.perf_counter() - t0, epochs_run=epochs_run,
                              early_stop=outcome))
    return TrainingResult(history=history, model=model, stopped=control.stop_requested,
                          device=device, epochs_run=epochs_run,
                          restored_epoch=outcome.restored_epoch if outcome else None)


@dataclass
class _FitInputs:
    """What ``fit`` reads: arrays with per-head sample weights, or streamed batches."""

    fit_kwargs: dict[str, Any]
    train_samples: int
    val_samples: int
    #: The training rows as ``(x, y, sample_weight)`` pieces, for the Normalization layers.
    training_rows: Callable[[], Iterable[tuple[dict, dict, dict | None]]]


def _fit_inputs(project: Project, data: Dataset | StreamingDataset) -> _FitInputs:
    """Split the data and attach per-head sample weights (0 for rows missing that label)."""
    settings = project.training
    if isinstance(data, StreamingDataset):
        train_rows, val_rows = data.split(settings.validation_split, settings.seed)
        batches = data.batches(project, train_rows, settings.batch_size,
                               shuffle=settings.shuffle, seed=settings.seed)
        val_batches = None if val_rows is None else \
            data.batches(project, val_rows, settings.batch_size)
        return _FitInputs({"x": batches, "validation_data": val_batches, "shuffle": False},
                          train_rows.count, val_rows.count if val_rows else 0,
                          lambda: data.prepared_chunks(project, train_rows))
    targets, weights = prepare_masked_targets(project, data.y)
    split = settings.validation_split, settings.seed
    train, val = Dataset(x=data.x, y=targets).split(*split)
    train_w, val_w = Dataset(x={}, y=weights).split(*split)  # same seed: same rows
    masks = needed_weights(weights)  # None when no label is missing: nothing to mask
    validation = None if val is None or val_w is None else \
        (val.x, val.y) if masks is None else (val.x, val.y, val_w.y)
    # Not fit(shuffle=True): with a seed set, Keras repeats one order every epoch.
    batches = epoch_batches(train.x, train.y, None if masks is None else train_w.y,
                            settings.batch_size, settings.seed, shuffle=settings.shuffle)
    kwargs = {"x": batches, "validation_data": validation,
              "validation_batch_size": settings.batch_size, "shuffle": False}
    return _FitInputs(kwargs, train.num_samples, val.num_samples if val is not None else 0,
                      lambda: [(train.x, train.y, train_w.y)])


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the objects that exist now (TensorFlow's and Keras' hundreds of thousands, the
    model's) out of Python's garbage collections while the block runs, then hand them back.

    A full collection over TensorFlow's objects takes about 0.15 s; reading and converting
    streamed data allocates enough to start one every few epochs. A process that already
    froze its heap (the app) is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def _dtype_policy(name: str | None) -> Iterator[None]:
    """Set the Keras dtype policy for this thread only, and restore it afterwards."""
    if name is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _plain_message(exc: BaseException) -> str:
    """A one-paragraph explanation of an unexpected error during training."""
    kind = type(exc).__name__
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if "ResourceExhausted" in kind or "OOM" in first or "out of memory" in first.lower():
        return ("Training ran out of memory. Lower the batch size or make the model smaller, "
                f"then try again. ({kind}: {first[:300]})")
    return (f"Training stopped with an unexpected error: {kind}: {first[:500]} "
            "See the details for the full report.")

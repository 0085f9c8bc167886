"""Early stopping and checkpoints as the project's training settings ask, and what they did.

One value (``criterion: monitor``) uses Keras' own ``EarlyStopping`` and ``ModelCheckpoint``,
so a run's numbers are those of plain Keras; several values use the engine's
:mod:`~mogui.engine.plain_keras.stopping` callbacks, which the exported script copies. Either
way the direction of every value is mogui's (:func:`mogui.core.criteria.metric_direction`),
and an epoch that a stop cut short (:class:`CompleteEpochs`) is never watched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from mogui.core.criteria import criterion_spec
from mogui.core.errors import TrainingError
from mogui.core.events import EarlyStop
from mogui.core.project import Checkpointing, EarlyStopping, Project
from mogui.engine.plain_keras.stopping import (
    Criterion,
    CriterionCheckpoint,
    CriterionEarlyStopping,
    stop_summary,
)
from mogui.engine.training.complete_epochs import CompleteEpochs

#: The file the best checkpoint is written to, in the run folder.
CHECKPOINT_FILE = "checkpoint.keras"


class _CompleteEpochsOnly(keras.callbacks.Callback):
    """Skips an epoch that a stop cut short: it never counts as the best or as waited."""

    complete: CompleteEpochs | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.complete is not None and self.complete.cut_short(epoch):
            return
        super().on_epoch_end(epoch, logs)


class KerasStopping(_CompleteEpochsOnly, keras.callbacks.EarlyStopping):
    """Keras' ``EarlyStopping``, blind to an epoch cut short."""


class KerasCheckpoint(_CompleteEpochsOnly, keras.callbacks.ModelCheckpoint):
    """Keras' ``ModelCheckpoint``, blind to an epoch cut short."""


class _NamesWhatIsMissing(_CompleteEpochsOnly):
    """A watched value the logs lack (a joint loss that returns no terms) ends the run with a
    message saying which, and what the logs hold."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        try:
            super().on_epoch_end(epoch, logs)
        except KeyError as exc:
            raise TrainingError(f"{exc.args[0]}. Choose values this run logs in the training "
                                "settings (a joint loss logs a head's loss only when it "
                                "returns a dict of terms).") from None


class Stopping(_NamesWhatIsMissing, CriterionEarlyStopping):
    """Early stopping on several values, blind to an epoch cut short."""


class Checkpoint(_NamesWhatIsMissing, CriterionCheckpoint):
    """The best checkpoint by several values, blind to an epoch cut short."""


def _check_validation(what: str, names: list[str], has_validation: bool) -> None:
    needs = [name for name in names if name.startswith("val_")]
    if needs and not has_validation:
        raise TrainingError(
            f"{what} watches '{needs[0]}', but there is no validation data (the validation "
            f"split is 0). Set a validation split above 0 or watch '{needs[0][4:]}' instead.")


def _criterion(project: Project, setting: EarlyStopping | Checkpointing, what: str,
               has_validation: bool) -> tuple[str, list[Any]]:
    kind, watched = criterion_spec(project, setting)
    _check_validation(what, [name for name, *_ in watched], has_validation)
    return kind, watched


def settings_callbacks(project: Project, *, has_validation: bool, out_dir: Path | None,
                       complete: CompleteEpochs | None = None) -> list[keras.callbacks.Callback]:
    """Early stopping and checkpointing as the project's training settings ask."""
    settings = project.training
    callbacks: list[keras.callbacks.Callback] = []
    early = settings.early_stopping
    if early.enabled:
        kind, watched = _criterion(project, early, "Early stopping", has_validation)
        if kind == "monitor":
            name, direction, _, _ = watched[0]
            stopping: keras.callbacks.Callback = KerasStopping(
                monitor=name, mode=direction, min_delta=early.min_delta,
                patience=early.patience, restore_best_weights=early.restore_best_weights)
        else:
            stopping = Stopping(Criterion(kind, watched, early.min_delta), early.patience,
                                early.restore_best_weights)
        stopping.complete = complete
        callbacks.append(stopping)
    checkpoint = settings.checkpointing
    if checkpoint.enabled and out_dir is not None:
        kind, watched = _criterion(project, checkpoint, "Checkpointing", has_validation)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        path = str(Path(out_dir) / CHECKPOINT_FILE)
        if kind == "monitor" or not checkpoint.save_best_only:
            name, direction, _, _ = watched[0]  # save_best_only off: each epoch is saved
            saving: keras.callbacks.Callback = KerasCheckpoint(
                path, monitor=name, mode=direction, save_best_only=checkpoint.save_best_only)
        else:
            saving = Checkpoint(path, Criterion(kind, watched))
        saving.complete = complete
        callbacks.append(saving)
    return callbacks


def restore_best(callbacks: list[keras.callbacks.Callback]) -> None:
    """Give the model the best weights again, after :meth:`CompleteEpochs.finish` put back
    those of the last complete epoch (a stop cut the last one short)."""
    for callback in callbacks:
        if isinstance(callback, Stopping):
            callback.restore()
        elif isinstance(callback, KerasStopping) and callback.restore_best_weights \
                and callback.best_weights is not None:
            callback.model.set_weights(callback.best_weights)


def early_stop_outcome(callbacks: list[keras.callbacks.Callback]) -> EarlyStop | None:
    """What early stopping did (``None`` when it was off)."""
    for callback in callbacks:
        if isinstance(callback, Stopping):
            crit = callback.criterion
            return EarlyStop(
                stopped_after=_counted(callback.stopped_epoch),
                best_epoch=_counted(crit.best_epoch),
                restored_epoch=_counted(callback.restored_epoch), summary=callback.summary())
        if isinstance(callback, KerasStopping):
            return _keras_outcome(callback)
    return None


def _keras_outcome(callback: KerasStopping) -> EarlyStop:
    """Keras' ``EarlyStopping`` state as an outcome (it stops only after an epoch above 0)."""
    stopped = callback.stopped_epoch if callback.stopped_epoch > 0 else None
    best = callback.best_epoch if callback.best is not None else None
    restored = best if callback.restore_best_weights and callback.best_weights is not None \
        else None
    reason = (f"{callback.monitor} had not improved for {callback.patience} epochs (best: "
              f"{'no epoch' if best is None else f'epoch {best + 1}'})")
    return EarlyStop(stopped_after=_counted(stopped), best_epoch=_counted(best),
                     restored_epoch=_counted(restored),
                     summary=stop_summary(stopped, reason, best, restored is not None))


def _counted(epoch: int | None) -> int | None:
    """A Keras epoch (from 0) as people count it (from 1)."""
    return None if epoch is None else epoch + 1

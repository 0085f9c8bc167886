"""Early stopping and checkpoints on several values, driven by hand-written epoch logs.

Each case feeds fixed logs to the callback on a tiny real model whose weights carry the epoch
number (every weight equals the epoch at its end), so the weights the model ends with say
which epoch was restored. The stop epoch and the restored epoch were worked out by hand; the
comments show the sums and comparisons. Epochs count from 0, as Keras counts them.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from mogui.core.errors import TrainingError
from mogui.core.io import load_example
from mogui.core.project import CriterionMetric
from mogui.engine.plain_keras.stopping import (
    Criterion,
    CriterionCheckpoint,
    CriterionEarlyStopping,
)
from mogui.engine.training.complete_epochs import CompleteEpochs
from mogui.engine.training.stopping import (
    KerasStopping,
    Stopping,
    early_stop_outcome,
    restore_best,
    settings_callbacks,
)

NAN = math.nan
A, B = "val_a_loss", "val_b_loss"


@pytest.fixture(scope="module")
def model() -> keras.Model:
    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


def mark(model: keras.Model, epoch: int) -> None:
    """Every weight of ``model`` set to ``epoch``."""
    model.set_weights([np.full_like(w, epoch) for w in model.get_weights()])


def epoch_of(model: keras.Model) -> int:
    values = np.concatenate([w.ravel() for w in model.get_weights()])
    assert np.all(values == values[0])
    return int(values[0])


def drive(callback: keras.callbacks.Callback, model: keras.Model, logs: list[dict]) -> int:
    """Run ``logs`` through ``callback`` as fit would; the last epoch run (from 0)."""
    model.stop_training = False
    callback.set_model(model)
    callback.on_train_begin()
    epoch = -1
    for epoch, values in enumerate(logs):
        mark(model, epoch)
        callback.on_epoch_end(epoch, dict(values))
        if model.stop_training:
            break
    callback.on_train_end()
    return epoch


def stopper(kind, watched, patience, min_delta=0.0, restore=True) -> CriterionEarlyStopping:
    return CriterionEarlyStopping(Criterion(kind, watched, min_delta), patience, restore)


def logs(*rows: tuple[float, ...], names: tuple[str, ...] = (A, B)) -> list[dict]:
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_weighted_sum_stops_after_patience_and_restores_the_lowest_sum(model):
    callback = stopper("weighted", [(A, "min", 1.0, None), (B, "min", 0.5, None)], patience=2)
    last = drive(callback, model, logs(
        (1.0, 1.0),   # 1.5  best
        (0.8, 1.6),   # 1.6  wait 1
        (0.9, 1.0),   # 1.4  best
        (0.7, 1.5),   # 1.45 wait 1
        (1.0, 0.9),   # 1.45 wait 2: stop
        (0.1, 0.1),   # never reached
    ))
    assert (last, callback.stopped_epoch, callback.criterion.best_epoch) == (4, 4, 2)
    assert epoch_of(model) == 2 and callback.restored_epoch == 2
    assert callback.summary() == (
        "Early stopping ended training after epoch 5: the weighted sum 1 × val_a_loss + "
        "0.5 × val_b_loss had not improved for 2 epochs (best: epoch 3); the weights of "
        "epoch 3, the best, were restored.")


def test_min_delta_and_ties_are_not_improvements():
    criterion = Criterion("weighted", [(A, "min", 1.0, None)], min_delta=0.1)
    sums = [1.0, 0.95, 0.9, 0.85, 0.85, 0.8, 0.9]
    better = [criterion.update(e, {A: s}) for e, s in enumerate(sums)]
    # 0.95 and 0.9 are not below 1.0 - 0.1 (0.9 is equal); 0.85 is; 0.85 again ties;
    # 0.8 is not below 0.85 - 0.1.
    assert better == [True, False, False, True, False, False, False]
    assert criterion.best_epoch == 3 and criterion.waited(6) == 3


def test_one_weighted_value_stops_where_keras_early_stopping_stops(model):
    values = [1.0, 0.9, 0.95, 0.85, 0.86, 0.849, 0.9, 0.7]
    rows = [{A: v} for v in values]
    ours = stopper("weighted", [(A, "min", 1.0, None)], patience=2, min_delta=0.01)
    keras_own = keras.callbacks.EarlyStopping(monitor=A, mode="min", patience=2,
                                              min_delta=0.01, restore_best_weights=True)
    assert drive(ours, model, rows) == drive(keras_own, model, rows) == 5
    assert ours.criterion.best_epoch == keras_own.best_epoch == 3
    assert epoch_of(model) == 3


def test_a_higher_is_better_value_counts_negatively(model):
    watched = [(A, "min", 1.0, None), ("val_b_accuracy", "max", 1.0, None)]
    callback = stopper("weighted", watched, patience=1)
    last = drive(callback, model, logs(
        (1.0, 0.5),  # 1.0 - 0.5 = 0.5  best
        (1.0, 0.7),  # 0.3  best: the accuracy rose
        (0.9, 0.5),  # 0.4  wait 1: stop
        names=(A, "val_b_accuracy")))
    assert (last, callback.criterion.best_epoch, epoch_of(model)) == (2, 1, 1)
    assert "the weighted sum 1 × val_a_loss - 1 × val_b_accuracy" in callback.summary()


def test_lexicographic_uses_the_next_value_within_a_tolerance(model):
    watched = [(A, "min", 1.0, 0.1), ("val_b_accuracy", "max", 1.0, 0.0)]
    callback = stopper("lexicographic", watched, patience=2)
    last = drive(callback, model, logs(
        (1.0, 0.5),    # best
        (0.95, 0.4),   # a within 0.1 of 1.0; accuracy lower: worse       wait 1
        (0.85, 0.3),   # a lower by 0.15 > 0.1: better, whatever b        best
        (0.9, 0.6),    # a within 0.1 of 0.85; accuracy higher: better    best
        (1.05, 0.9),   # a higher by 0.15: worse, whatever b              wait 1
        (0.9, 0.6),    # equal on both: a tie is no improvement           wait 2: stop
        names=(A, "val_b_accuracy")))
    assert (last, callback.criterion.best_epoch, epoch_of(model)) == (5, 3, 3)


def test_lexicographic_tolerance_defaults_to_min_delta():
    criterion = Criterion("lexicographic", [(A, "min", 1.0, None), (B, "min", 1.0, None)],
                          min_delta=0.2)
    assert criterion.update(0, {A: 1.0, B: 1.0})
    assert criterion.update(1, {A: 1.1, B: 0.5})  # a within 0.2: b decides
    assert not criterion.update(2, {A: 0.95, B: 0.9})  # a within 0.2: b worse
    assert criterion.update(3, {A: 0.85, B: 2.0})  # a better by 0.25


def test_every_head_waits_until_no_head_improves(model):
    watched = [(A, "min", 1.0, None), (B, "min", 1.0, None)]
    rows = logs(
        (1.0, 1.0),      # both improve; sum 2.0  best
        (0.75, 1.125),   # a improves;   sum 1.875 best
        (0.875, 0.875),  # b improves;   sum 1.75 best
        (0.75, 1.0),     # a ties its best: none; sum 1.75 ties: not best   waits a 2, b 1
        (0.5, 1.5),      # a improves;   sum 2.0                            waits a 0, b 2
        (0.625, 1.25),   # none;         sum 1.875                          waits a 1, b 3
        (0.75, 1.0),     # none;         sum 1.75                           waits a 2, b 4: stop
        (0.125, 0.125),
    )
    callback = stopper("all_heads", watched, patience=2)
    assert drive(callback, model, rows) == 6
    assert callback.criterion.value_epoch == [4, 2]
    assert (callback.criterion.best_epoch, epoch_of(model)) == (2, 2)
    assert callback.summary() == (
        "Early stopping ended training after epoch 7: no head had improved for 2 epochs "
        "(last improved: val_a_loss at epoch 5, val_b_loss at epoch 3); the weights of epoch "
        "3, the best by that sum, were restored.")
    # The weighted sum of the same values stops as soon as the sum stops falling.
    weighted = stopper("weighted", watched, patience=2)
    assert drive(weighted, model, rows) == 4 and epoch_of(model) == 2


def test_every_head_applies_min_delta_to_each_head():
    criterion = Criterion("all_heads", [(A, "min", 1.0, None), (B, "max", 1.0, None)],
                          min_delta=0.05)
    criterion.update(0, {A: 1.0, B: 0.5})
    criterion.update(1, {A: 0.97, B: 0.6})  # a by 0.03: no; b rose by 0.1: yes
    assert criterion.value_epoch == [0, 1] and criterion.waited(1) == 0
    criterion.update(2, {A: 0.9, B: 0.62})  # a by 0.1 from its best 1.0: yes; b by 0.02: no
    assert criterion.value_epoch == [2, 1] and criterion.waited(3) == 1


def test_nan_never_improves_and_never_restores(model):
    watched = [(A, "min", 1.0, None)]
    callback = stopper("weighted", watched, patience=2)
    last = drive(callback, model, logs((NAN,), (1.0,), (NAN,), (NAN,), (0.5,), names=(A,)))
    assert (last, callback.criterion.best_epoch, epoch_of(model)) == (3, 1, 1)

    lexicographic = stopper("lexicographic", [(A, "min", 1.0, None), (B, "min", 1.0, None)], 1)
    assert drive(lexicographic, model, logs((1.0, 1.0), (0.5, NAN), (0.5, 0.5))) == 1
    assert epoch_of(model) == 0

    nothing = stopper("weighted", watched, patience=2)
    assert drive(nothing, model, logs((NAN,), (math.inf,), (NAN,), names=(A,))) == 1
    assert nothing.criterion.best_epoch is None and nothing.restored_epoch is None
    assert epoch_of(model) == 1  # nothing to restore: the last weights stay
    assert nothing.summary().endswith("no epoch had a usable value, so the last weights "
                                      "were kept.")


def test_a_value_of_weight_zero_is_left_out_even_when_nan():
    criterion = Criterion("weighted", [(A, "min", 1.0, None), (B, "min", 0.0, None)])
    assert criterion.update(0, {A: 1.0, B: NAN}) and criterion.update(1, {A: 0.5, B: NAN})


def test_every_head_with_a_nan_head_keeps_no_best_but_waits_on_the_others(model):
    callback = stopper("all_heads", [(A, "min", 1.0, None), (B, "min", 1.0, None)], 2)
    rows = logs((1.0, NAN), (0.9, NAN), (0.8, NAN), (0.85, NAN), (0.9, NAN), (0.1, 0.1))
    assert drive(callback, model, rows) == 4  # a last improved at epoch 2
    assert callback.criterion.best_epoch is None and epoch_of(model) == 4


def test_runs_to_the_end_without_stopping_and_still_restores_the_best(model):
    callback = stopper("weighted", [(A, "min", 1.0, None)], patience=5)
    assert drive(callback, model, logs((1.0,), (0.5,), (0.7,), names=(A,))) == 2
    assert callback.stopped_epoch is None and epoch_of(model) == 1
    assert callback.summary() == (
        "Early stopping did not end training; the weights of epoch 2, the best, were restored.")


def test_without_restoring_the_last_weights_stay(model):
    callback = stopper("weighted", [(A, "min", 1.0, None)], patience=1, restore=False)
    assert drive(callback, model, logs((1.0,), (0.5,), (0.7,), names=(A,))) == 2
    assert epoch_of(model) == 2 and callback.restored_epoch is None
    assert "the best epoch was 2 (its weights were not restored)" in callback.summary()


def test_a_missing_value_names_what_the_logs_hold():
    criterion = Criterion("weighted", [("val_c_loss", "min", 1.0, None)])
    with pytest.raises(KeyError, match="no 'val_c_loss'.*they hold: loss, val_loss"):
        criterion.update(0, {"loss": 1.0, "val_loss": 1.0})


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="weighted"):
        Criterion("pareto", [(A, "min", 1.0, None)])


def test_checkpoint_saves_each_new_best_epoch(model, tmp_path):
    path = tmp_path / "checkpoint.keras"
    callback = CriterionCheckpoint(path, Criterion("all_heads", [(A, "min", 1.0, None),
                                                                 (B, "min", 2.0, None)]))
    drive(callback, model, logs((1.0, 1.0), (0.5, 1.5), (0.2, 1.0), (0.1, 1.1)))
    # sums 3.0, 3.5, 2.2, 2.3: the best is epoch 2
    assert callback.saved_epoch == 2
    assert epoch_of(keras.saving.load_model(path)) == 2


# -- the engine's wiring ------------------------------------------------------------------------

def demo(**early) -> object:
    project = load_example("bbox_classification")
    project.training.early_stopping = project.training.early_stopping.model_copy(
        update={"enabled": True, **early})
    return project


def test_one_value_uses_keras_with_mogui_s_direction(model):
    project = demo(monitor="val_classification_sparse_categorical_accuracy", patience=1)
    [callback] = settings_callbacks(project, has_validation=True, out_dir=None)
    assert isinstance(callback, KerasStopping) and callback.mode == "max"
    rows = [{"val_classification_sparse_categorical_accuracy": v} for v in (0.5, 0.7, 0.6)]
    assert drive(callback, model, rows) == 2 and epoch_of(model) == 1
    outcome = early_stop_outcome([callback])
    assert (outcome.stopped_after, outcome.best_epoch, outcome.restored_epoch) == (3, 2, 2)
    assert outcome.summary == (
        "Early stopping ended training after epoch 3: val_classification_sparse_categorical_"
        "accuracy had not improved for 1 epochs (best: epoch 2); the weights of epoch 2, the "
        "best, were restored.")


def test_several_values_default_to_each_head_s_validation_loss(model):
    project = demo(criterion="all_heads", patience=3, min_delta=0.01)
    [callback] = settings_callbacks(project, has_validation=True, out_dir=None)
    assert isinstance(callback, Stopping)
    assert callback.criterion.kind == "all_heads" and callback.criterion.min_delta == 0.01
    assert callback.criterion.watched == [("val_bbox_loss", "min", 1.0, None),
                                          ("val_classification_loss", "min", 1.0, None)]


def test_an_epoch_cut_short_is_not_watched_and_the_best_weights_come_back(model):
    project = demo(criterion="weighted", patience=5,
                   metrics=[CriterionMetric(metric="val_bbox_loss")])
    complete = CompleteEpochs(steps_per_epoch=4)
    [callback] = settings_callbacks(project, has_validation=True, out_dir=None,
                                    complete=complete)
    complete.set_model(model)
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    for epoch, value in enumerate([1.0, 0.5, 0.8]):
        complete.on_epoch_begin(epoch)
        if epoch:
            complete.on_train_batch_begin(0)
        mark(model, epoch)
        complete.on_train_batch_end(3)  # every batch of the epoch ran
        complete.on_epoch_end(epoch, {})
        callback.on_epoch_end(epoch, {"val_bbox_loss": value})
    complete.on_epoch_begin(3)
    complete.on_train_batch_begin(0)
    mark(model, 3)
    model.stop_training = True  # the user's stop, during the first batch of epoch 3
    complete.on_train_batch_end(0)
    complete.on_epoch_end(3, {})
    callback.on_epoch_end(3, {"val_bbox_loss": 0.1})  # a partial epoch: never the best
    callback.on_train_end()
    complete.finish({"loss": [1.0] * 4})
    assert epoch_of(model) == 2  # CompleteEpochs put back the last complete epoch's weights
    restore_best([callback])
    assert callback.criterion.best_epoch == 1 and epoch_of(model) == 1


def test_checkpointing_one_value_or_every_epoch_uses_keras(tmp_path):
    project = demo()
    project.training.early_stopping.enabled = False
    project.training.checkpointing.enabled = True
    project.training.checkpointing.monitor = "val_bbox_mae"
    [callback] = settings_callbacks(project, has_validation=True, out_dir=tmp_path)
    assert isinstance(callback, keras.callbacks.ModelCheckpoint) and callback.mode == "min"
    project.training.checkpointing.criterion = "lexicographic"
    [callback] = settings_callbacks(project, has_validation=True, out_dir=tmp_path)
    assert isinstance(callback, CriterionCheckpoint)
    assert callback.criterion.kind == "lexicographic"
    project.training.checkpointing.save_best_only = False
    [callback] = settings_callbacks(project, has_validation=True, out_dir=tmp_path)
    assert isinstance(callback, keras.callbacks.ModelCheckpoint)


def test_a_value_the_logs_lack_ends_the_run_with_a_message(model):
    project = demo(criterion="weighted", metrics=[CriterionMetric(metric="val_bbox_loss")])
    [callback] = settings_callbacks(project, has_validation=True, out_dir=None)
    callback.set_model(model)
    callback.on_train_begin()
    with pytest.raises(TrainingError, match="The training logs hold no 'val_bbox_loss'.*they "
                       "hold: loss, val_loss. Choose values this run logs"):
        callback.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.0})

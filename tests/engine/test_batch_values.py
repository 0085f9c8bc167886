"""Per-batch values: each batch's own loss and metrics, not Keras' running means."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mogui.core.events import BatchEnded, TrainingStarted
from mogui.engine.plain_keras.multi_head import HeadLossModel
from mogui.engine.training import batch_values
from mogui.engine.training.progress import ProgressCallback, TrainingControl


def _model(seed: int = 0, weighted: bool = False) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, {"reg": keras.layers.Dense(2, name="reg")(hidden),
                                 "cls": keras.layers.Dense(1, activation="sigmoid",
                                                           name="cls")(hidden)})
    model.compile(keras.optimizers.SGD(0.05),
                  loss={"reg": "mse", "cls": "binary_crossentropy"},
                  loss_weights={"reg": 1.0, "cls": 0.5},
                  metrics={"reg": ["mae", "root_mean_squared_error"],
                           "cls": ["auc", "binary_accuracy"]},
                  weighted_metrics={"reg": ["mse"]} if weighted else None)
    return model


def _data(samples: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 6)).astype("float32")
    y = {"reg": rng.normal(size=(samples, 2)).astype("float32"),
         "cls": rng.integers(0, 2, size=(samples, 1)).astype("float32")}
    return x, y


def _fit_batches(model: keras.Model, x: np.ndarray, y: dict, batch: int, epochs: int,
                 **fit_args) -> list[BatchEnded]:
    """Fit without shuffling under a ProgressCallback; the BatchEnded events it reported."""
    events: list = []
    samples = len(x)
    started = TrainingStarted("CPU", epochs, -(-samples // batch), samples, 0, ("reg", "cls"))
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0,
              callbacks=[ProgressCallback(events.append, TrainingControl(), started=started,
                                          batch_size=batch)], **fit_args)
    return [e for e in events if isinstance(e, BatchEnded)]


@pytest.fixture
def every_batch(monkeypatch):
    """Read the trackers after every batch, however fast batches come."""
    monkeypatch.setattr(batch_values, "MIN_READ_INTERVAL", 0.0)


@pytest.mark.parametrize("samples", [64, 60])  # 60: the last batch is short
def test_batch_values_equal_train_on_batch_of_the_same_batches(samples, every_batch):
    x, y = _data(samples, seed=0)
    batch = 16
    fitted = _model()
    stepped = _model()
    stepped.set_weights(fitted.get_weights())
    batches = _fit_batches(fitted, x, y, batch, epochs=2)
    expected = []
    for _epoch in range(2):
        for start in range(0, samples, batch):
            part = slice(start, start + batch)
            expected.append(stepped.train_on_batch(
                x[part], {k: v[part] for k, v in y.items()}, return_dict=True))
    assert len(batches) == len(expected) == 2 * -(-samples // batch)
    for event, logs in zip(batches, expected, strict=True):
        assert set(event.batch_values) == {"loss", "reg_loss", "cls_loss", "reg_mae",
                                           "cls_binary_accuracy"}
        for key, value in event.batch_values.items():
            assert value == pytest.approx(logs[key], rel=1e-4, abs=1e-6), (event.batch, key)
    # the running means Keras reports are still there, unchanged
    last = batches[-1]
    assert last.logs["loss"] != pytest.approx(last.batch_values["loss"], rel=1e-3)
    for kept in ("cls_auc", "reg_root_mean_squared_error"):  # not plain means: as reported
        assert kept in last.logs and kept not in last.batch_values


def test_a_batch_without_labels_for_a_head_has_no_metric_value(every_batch):
    x, y = _data(32, seed=1)
    weights = {"reg": np.r_[np.zeros(16), np.ones(16)].astype("float32"),
               "cls": np.ones(32, dtype="float32")}
    first, second = _fit_batches(_model(weighted=True), x, y, 16, epochs=1,
                                 sample_weight=weights)
    # weighted metrics skip masked rows: batch 1 has no 'reg' label left, so no value
    assert np.isnan(first.batch_values["reg_mse"])
    assert np.isfinite(second.batch_values["reg_mse"])
    assert np.isfinite(first.batch_values["cls_binary_accuracy"])


def test_fast_batches_are_read_at_most_so_often(monkeypatch):
    monkeypatch.setattr(batch_values, "MIN_READ_INTERVAL", 60.0)
    x, y = _data(64, seed=2)
    batches = _fit_batches(_model(), x, y, 8, epochs=2)
    read = [(e.epoch, e.batch) for e in batches if e.batch_values]
    assert read == [(0, 0), (0, 7), (1, 0), (1, 7)]  # each epoch's first and last batch
    # the last value covers batches 2-8: the mean over their samples
    first, last = batches[8], batches[15]
    expected = (last.logs["loss"] * 64 - first.logs["loss"] * 8) / 56
    assert last.batch_values["loss"] == pytest.approx(expected, rel=1e-4)


def test_a_short_last_batch_shares_the_point_before_it(every_batch):
    x, y = _data(52, seed=3)  # batches of 16, 16, 16 and 4
    batches = _fit_batches(_model(), x, y, 16, epochs=1)
    assert [bool(e.batch_values) for e in batches] == [True, True, False, True]
    expected = (batches[3].logs["loss"] * 52 - batches[1].logs["loss"] * 32) / 20
    assert batches[3].batch_values["loss"] == pytest.approx(expected, rel=1e-4)


def test_a_mogui_models_heads_have_batch_values_that_average_to_the_epoch(every_batch):
    """Each head's loss of a mogui model (one tracker for all heads) has a value per batch;
    weighted by the batches' rows they average to the epoch's figure."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = HeadLossModel(inputs, {"reg": keras.layers.Dense(2, name="reg")(hidden),
                                   "cls": keras.layers.Dense(1, activation="sigmoid",
                                                             name="cls")(hidden)})
    model.compile(keras.optimizers.SGD(0.05),
                  loss={"reg": keras.losses.MeanSquaredError(),
                        "cls": keras.losses.BinaryCrossentropy()})
    x, y = _data(60, seed=2)  # batches of 16, 16, 16 and 12
    events = _fit_batches(model, x, y, batch=16, epochs=1)
    rows = np.array([16, 16, 16, 12])
    for key in ("reg_loss", "cls_loss"):
        values = np.array([e.batch_values[key] for e in events])
        assert len(values) == 4 and len(set(values.round(6))) == 4  # each batch its own
        assert (values * rows).sum() / rows.sum() == pytest.approx(
            model.history.history[key][0], rel=1e-5)

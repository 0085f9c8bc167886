"""The adapter to Keras internals: fails loudly when a Keras release changes them."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mogui.engine.plain_keras.multi_head import HeadLossModel
from mogui.engine.training.keras_metrics import compiled_metrics, mean_trackers


def _two_head_model() -> keras.Model:
    inputs = keras.Input((3,), name="x")
    trunk = keras.layers.Dense(4, activation="relu")(inputs)
    outputs = {"a": keras.layers.Dense(1, name="a")(trunk),
               "b": keras.layers.Dense(3, activation="softmax", name="b")(trunk)}
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss={"a": "mse", "b": "sparse_categorical_crossentropy"},
                  weighted_metrics={"a": ["mae", "root_mean_squared_error"], "b": ["accuracy"]})
    return model


def test_every_plain_mean_log_key_has_its_tracker_after_fit():
    keras.utils.set_random_seed(0)
    model = _two_head_model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = {"a": rng.normal(size=(20, 1)).astype("float32"),
         "b": rng.integers(0, 3, size=(20, 1))}
    history = model.fit(x, y, batch_size=20, epochs=1, verbose=0).history

    containers = [m for m in model.metrics if hasattr(m, "_flat_metrics")]
    assert len(containers) == 1, "Keras no longer keeps compiled metrics in _flat_metrics"
    assert hasattr(containers[0], "_flat_weighted_metrics")

    trackers = mean_trackers(model)
    assert {"loss", "a_loss", "b_loss", "a_mae", "b_accuracy"} <= set(trackers)
    assert "a_root_mean_squared_error" not in trackers  # not a plain mean: no per-batch value
    for key in ("a_mae", "b_accuracy", "a_loss", "b_loss"):
        total, count = _slot_values(trackers[key])
        assert total / count == pytest.approx(history[key][0], rel=1e-5), key


def _slot_values(slot) -> tuple[float, float]:  # noqa: ANN001
    total, count = slot.total.numpy(), slot.count.numpy()
    if slot.index is not None:
        total, count = total[slot.index], count[slot.index]
    return float(total), float(count)


def test_the_heads_of_a_mogui_model_have_a_slot_each():
    inputs = keras.Input((3,), name="x")
    hidden = keras.layers.Dense(4)(inputs)
    model = HeadLossModel(inputs, {"a": keras.layers.Dense(1, name="a")(hidden),
                                   "b": keras.layers.Dense(2, name="b")(hidden),
                                   "c": keras.layers.Dense(1, name="c")(hidden)})
    model.compile("sgd", loss={"a": keras.losses.MeanSquaredError(), "b": None,
                               "c": keras.losses.MeanAbsoluteError()})
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 3)).astype("float32")
    y = {"a": rng.normal(size=(30, 1)).astype("float32"),
         "b": rng.normal(size=(30, 2)).astype("float32"),
         "c": rng.normal(size=(30, 1)).astype("float32")}
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history
    trackers = mean_trackers(model)
    assert {"a_loss", "c_loss"} <= set(trackers) and "b_loss" not in trackers  # b has no loss
    assert "weight_a" not in trackers  # weights are not losses: no per-batch value
    for key in ("a_loss", "c_loss"):
        total, count = _slot_values(trackers[key])
        assert count == 30  # weighted by the rows of each batch, the last one short
        assert total / count == pytest.approx(history[key][0], rel=1e-5), key


def test_anything_else_gives_no_trackers():
    assert compiled_metrics(keras.metrics.Mean(name="m")) == {}
    assert compiled_metrics(object()) == {}

"""Gradient diagnostics: heads' gradients on the shared trunk, their norms and cosines.

Synthetic heads on a shared trunk whose answers are known: identical heads on identical
targets point the same way (cosine 1), heads on ``y`` and ``-y`` opposite ways (-1), heads on
independent targets in unrelated directions (about 0). Norms equal a separate
``tf.GradientTape`` over each head's loss written out by hand, label masks included, and a
custom loss is differentiated as written. In a run: events at the sampled steps, epoch columns
in the history, and a model trained exactly as without diagnostics.
"""

from __future__ import annotations

import math
import pickle

import keras
import numpy as np
import pytest
import tensorflow as tf

from mogui.core.errors import CustomCodeError, TrainingError
from mogui.core.events import EpochEnded, GradientsSampled
from mogui.core.project import HeadSpec, LayerSpec
from mogui.engine.data import Dataset
from mogui.engine.losses import make_training_model
from mogui.engine.plain_keras.multi_head import HeadLossModel
from mogui.engine.training import run_training
from mogui.engine.training.gradient_diagnostics import (
    GradientDiagnostics,
    GradientProbe,
    GradientSample,
    epoch_figures,
)
from tests.engine.data_builders import table_arrays, table_project

MSE = keras.losses.MeanSquaredError


def two_heads(trunk: list[keras.layers.Layer], features: int, *, same_heads: bool = True,
              losses: tuple[keras.losses.Loss, keras.losses.Loss] | None = None
              ) -> HeadLossModel:
    """``x`` -> ``trunk`` -> linear heads ``a`` and ``b`` (the same kernel when
    ``same_heads``), MSE unless ``losses`` says otherwise."""
    keras.utils.set_random_seed(1)
    x = keras.Input((features,), name="x")
    hidden = x
    for layer in trunk:
        hidden = layer(hidden)
    heads = {name: keras.layers.Dense(1, name=name)(hidden) for name in ("a", "b")}
    model = HeadLossModel({"x": x}, heads)
    first, second = losses or (MSE(), MSE())
    model.compile(optimizer="adam", loss={"a": first, "b": second})
    if same_heads:
        model.get_layer("b").set_weights(model.get_layer("a").get_weights())
    return model


def zero_trunk(units: int = 4) -> list[keras.layers.Layer]:
    """A linear trunk layer whose output is 0 at first: the heads predict exactly 0, so each
    head's error is minus its target, while the trunk's gradients are not 0."""
    return [keras.layers.Dense(units, kernel_initializer="zeros", name="trunk")]


def test_identical_targets_and_losses_point_the_same_way():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    trunk = [keras.layers.Dense(8, activation="tanh", name="t1"),
             keras.layers.Dense(6, activation="relu", name="t2")]
    probe = GradientProbe(two_heads(trunk, 5), ({"x": x}, {"a": y, "b": y}, None), ["a", "b"])
    probe.trace()
    sample = probe.sample()
    assert probe.heads == ["a", "b"] and probe.blocks == ["t1", "t2"]
    assert sample.cosines == {"a__b": pytest.approx(1.0, abs=1e-6)}
    assert sample.norms["a"] == pytest.approx(sample.norms["b"], rel=1e-6) and \
        sample.norms["a"] > 0
    assert sample.block_norms["a"] == pytest.approx(sample.block_norms["b"], rel=1e-6)


def test_negated_targets_point_opposite_ways():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    # Both heads predict 0 with the same kernel: errors -y and y, gradients exactly opposite.
    probe = GradientProbe(two_heads(zero_trunk(), 5), ({"x": x}, {"a": y, "b": -y}, None),
                          ["a", "b"])
    probe.trace()
    sample = probe.sample()
    assert sample.cosines["a__b"] == pytest.approx(-1.0, abs=1e-6)
    assert sample.norms["a"] == pytest.approx(sample.norms["b"], rel=1e-6)
    assert sample.norms["a"] > 0


#: Features of the independent-targets case. With the zero trunk each head's gradient is
#: -2/n [X^T y; sum(y)] times the heads' common kernel: for independent standard normal
#: targets, two independent random vectors in R^(D+1), whose cosine is about normal with mean
#: 0 and standard deviation 1/sqrt(D + 1) = 0.044 for D = 512. |cos| < 0.25 is 5.6 standard
#: deviations: it holds for any seed in practice, and the data here are fixed anyway.
FEATURES = 512
INDEPENDENT_LIMIT = 0.25


def test_independent_targets_are_about_orthogonal():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2048, FEATURES)).astype("float32")
    y = {head: rng.normal(size=(2048, 1)).astype("float32") for head in ("a", "b")}
    probe = GradientProbe(two_heads(zero_trunk(), FEATURES), ({"x": x}, y, None), ["a", "b"])
    probe.trace()
    independent = probe.sample().cosines["a__b"]
    assert abs(independent) < INDEPENDENT_LIMIT
    # The same data with b's target mostly a's: the check tells them apart.
    related = {"a": y["a"], "b": y["a"] + 0.3 * y["b"]}
    probe = GradientProbe(two_heads(zero_trunk(), FEATURES), ({"x": x}, related, None),
                          ["a", "b"])
    probe.trace()
    assert probe.sample().cosines["a__b"] > 0.9


def test_norms_equal_a_separate_tape_over_the_losses_written_out_with_masks():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 5)).astype("float32")
    y = {head: rng.normal(size=(40, 1)).astype("float32") for head in ("a", "b")}
    masks = {head: (rng.random(40) > 0.3).astype("float32") for head in ("a", "b")}
    trunk = [keras.layers.Dense(8, activation="tanh", name="t1"),
             keras.layers.Dense(6, activation="tanh", name="t2")]
    model = two_heads(trunk, 5, same_heads=False,
                      losses=(MSE(), keras.losses.MeanAbsoluteError()))
    # Rows without a label carry garbage: only the masks keep them out.
    y = {head: np.where(masks[head][:, None] > 0, y[head], 1e3).astype("float32")
         for head in y}
    probe = GradientProbe(model, ({"x": x}, y, masks), ["a", "b"])
    probe.trace()
    sample = probe.sample()

    shared = [v for v in model.trainable_variables if v.path.split("/")[0] in ("t1", "t2")]
    by_hand = {}
    for head, error in (("a", lambda d: d ** 2), ("b", tf.abs)):
        with tf.GradientTape() as tape:
            prediction = model({"x": x})[head]
            mask = masks[head][:, None]
            loss = tf.reduce_sum(error(prediction - y[head]) * mask) / tf.reduce_sum(mask)
        by_hand[head] = tape.gradient(loss, shared)
    for head, gradients in by_hand.items():
        whole = math.sqrt(sum(float(tf.reduce_sum(g ** 2)) for g in gradients))
        assert sample.norms[head] == pytest.approx(whole, rel=1e-5)
        for block in ("t1", "t2"):
            part = math.sqrt(sum(float(tf.reduce_sum(g ** 2)) for g, v in
                                 zip(gradients, shared, strict=True)
                                 if v.path.startswith(block + "/")))
            assert sample.block_norms[head][block] == pytest.approx(part, rel=1e-5)
    flat = {head: tf.concat([tf.reshape(g, [-1]) for g in gradients], 0)
            for head, gradients in by_hand.items()}
    expected = float(tf.reduce_sum(flat["a"] * flat["b"]) / tf.norm(flat["a"])
                     / tf.norm(flat["b"]))
    assert sample.cosines["a__b"] == pytest.approx(expected, abs=1e-5)


CUSTOM = """
from keras import ops


def loss(y_true, y_pred):
    return ops.mean(ops.abs(y_true - y_pred) ** 3, axis=-1)
"""


def test_a_custom_loss_is_differentiated_as_written():
    project = table_project()
    project.heads[0].loss.kind = "custom"
    project.heads[0].loss.source = CUSTOM
    features, size, kind = table_arrays(32)
    x = {"x": features.astype("float32")}
    y = {"size": size[:, None].astype("float32"), "kind": kind[:, None].astype("int32")}
    keras.utils.set_random_seed(0)
    model = make_training_model(project)
    probe = GradientProbe(model, (x, y, None), ["size", "kind"])
    probe.trace()
    sample = probe.sample()
    shared = model.get_layer("hidden").trainable_variables
    with tf.GradientTape() as tape:
        prediction = model(x)["size"]
        loss = tf.reduce_mean(tf.abs(y["size"] - prediction) ** 3)
    gradients = tape.gradient(loss, shared)
    whole = math.sqrt(sum(float(tf.reduce_sum(g ** 2)) for g in gradients))
    assert probe.blocks == ["hidden"]
    assert sample.norms["size"] == pytest.approx(whole, rel=1e-5)


def test_heads_without_shared_layers_are_refused_plainly():
    x = keras.Input((3,), name="x")
    model = HeadLossModel({"x": x}, {name: keras.layers.Dense(1, name=name)(x) for name in "ab"})
    model.compile(optimizer="adam", loss={"a": MSE(), "b": MSE()})
    rows = {"x": np.zeros((4, 3), "float32")}, {h: np.zeros((4, 1), "float32") for h in "ab"}
    probe = GradientProbe(model, (*rows, None), ["a", "b"])
    with pytest.raises(TrainingError) as caught:
        probe.trace()
    assert str(caught.value) == (
        "Gradient diagnostics compare the heads' gradients on the layers they share, but no "
        "layer is trained by two heads' losses. Give the heads a shared trunk or switch "
        "gradient diagnostics off.")


def _data(n: int) -> Dataset:
    features, size, kind = table_arrays(n)
    return Dataset(x={"x": features.astype("float32")},
                   y={"size": size[:, None].astype("float32"), "kind": kind[:, None]})


def _diagnosed(every: int, epochs: int, **training: object):
    project = table_project()
    project.training.batch_size = 16
    project.training.epochs = epochs
    for key, value in training.items():
        setattr(project.training, key, value)
    project.training.gradient_diagnostics.enabled = True
    project.training.gradient_diagnostics.every = every
    return project


def test_a_run_samples_every_n_steps_and_writes_the_epoch_columns():
    project = _diagnosed(every=3, epochs=3)  # 48 training rows: 3 steps per epoch
    events: list[object] = []
    result = run_training(project, _data(64), events.append)
    samples = [e for e in events if isinstance(e, GradientsSampled)]
    assert [(s.step, s.epoch, s.batch) for s in samples] == [(0, 0, 0), (3, 1, 0), (6, 2, 0)]
    for sample in samples:
        assert set(sample.norms) == {"size", "kind"} and set(sample.cosines) == {"size__kind"}
        assert set(sample.block_norms["kind"]) == {"hidden"}
        assert -1.0 <= sample.cosines["size__kind"] <= 1.0
        assert sample.seconds > 0 and (sample.share > 0) == (sample.step > 0)
        assert pickle.loads(pickle.dumps(sample)) == sample  # it crosses the pipe
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    for epoch, sample in zip(epochs, samples, strict=True):
        assert epoch.logs["gradnorm_size"] == pytest.approx(sample.norms["size"])
        assert epoch.logs["gradcos_size__kind"] == pytest.approx(sample.cosines["size__kind"])
    assert result.history["gradnorm_kind"] == [e.logs["gradnorm_kind"] for e in epochs]
    assert not any(key.startswith("val_grad") for key in result.history)


def test_an_epoch_without_a_sample_repeats_the_last_and_an_epoch_averages_its_own():
    project = _diagnosed(every=2, epochs=3, validation_split=0.0)  # 4 steps per epoch
    events: list[object] = []
    result = run_training(project, _data(64), events.append)
    samples = [e for e in events if isinstance(e, GradientsSampled)]
    assert [s.step for s in samples] == [0, 2, 4, 6, 8, 10]
    firsts = [s.norms["size"] for s in samples]
    assert result.history["gradnorm_size"] == pytest.approx(
        [np.mean(pair) for pair in (firsts[0:2], firsts[2:4], firsts[4:6])])

    sparse = _diagnosed(every=6, epochs=3, validation_split=0.0)  # samples in epochs 1 and 2
    events = []
    result = run_training(sparse, _data(64), events.append)
    samples = [e for e in events if isinstance(e, GradientsSampled)]
    assert [(s.epoch, s.batch) for s in samples] == [(0, 0), (1, 2)]
    assert result.history["gradnorm_kind"] == pytest.approx(
        [samples[0].norms["kind"], samples[1].norms["kind"], samples[1].norms["kind"]])


def test_sampling_leaves_training_exactly_as_it_was():
    """The probe runs the model without touching it: batch statistics, dropout's random
    state and the weights train as in a run without diagnostics."""
    def project(diagnostics: bool):
        built = _diagnosed(every=1, epochs=2)
        built.trunk += [LayerSpec(name="norm", kind="BatchNormalization"),
                        LayerSpec(name="drop", kind="Dropout", params={"rate": 0.3})]
        built.training.gradient_diagnostics.enabled = diagnostics
        return built

    runs = [run_training(project(on), _data(64), lambda _event: None) for on in (False, True)]
    off, on = runs
    assert {k: v for k, v in on.history.items() if not k.startswith("grad")} == off.history
    for first, second in zip(off.model.get_weights(), on.model.get_weights(), strict=True):
        np.testing.assert_array_equal(first, second)


def test_a_joint_loss_returning_one_value_cannot_be_diagnosed():
    project = _diagnosed(every=1, epochs=1)
    project.loss_mode = "joint"
    project.joint_loss.source = ("from keras import ops\n\n\ndef loss(y_true, y_pred):\n"
                                 "    return ops.mean(ops.square(y_true['size'] - "
                                 "y_pred['size']))\n")
    with pytest.raises(CustomCodeError) as caught:
        run_training(project, _data(32), lambda _event: None)
    assert str(caught.value).startswith("joint loss: loss() returns one value, but gradient "
                                        "diagnostics compare each head's term; return a dict")


def test_epoch_figures_leave_out_undefined_cosines():
    samples = [GradientSample({"a": 1.0, "b": 0.0}, {}, {"a__b": math.nan}),
               GradientSample({"a": 3.0, "b": 2.0}, {}, {"a__b": 0.5})]
    assert epoch_figures(samples) == {"gradnorm_a": 2.0, "gradnorm_b": 1.0,
                                      "gradcos_a__b": 0.5}
    assert math.isnan(epoch_figures(samples[:1])["gradcos_a__b"])
    assert epoch_figures([]) == {}


def test_many_heads_get_every_pair_in_training_order():
    project = table_project()
    project.heads += [HeadSpec(name=f"extra{i}", task="regression", units=1) for i in range(2)]
    features, size, kind = table_arrays(16)
    y = {"size": size[:, None], "kind": kind[:, None], "extra0": size[:, None],
         "extra1": -size[:, None]}
    model = make_training_model(project)
    order = ["size", "kind", "extra0", "extra1"]
    probe = GradientProbe(model, ({"x": features.astype("float32")}, y, None), order)
    probe.trace()
    sample = probe.sample()
    assert list(sample.norms) == order
    assert list(sample.cosines) == [f"{a}__{b}" for i, a in enumerate(order)
                                    for b in order[i + 1:]]
    assert all(norm > 0 for norm in sample.norms.values())


def test_automatic_sampling_keeps_its_share_of_the_training_time():
    """Automatic: at least 50 steps apart, and as far apart as keeps the samples' time within
    a tenth of the steps' time (hand-worked: a 0.2 s sample, 10 ms steps -> 200 steps)."""
    callback = GradientDiagnostics(lambda: [], 16, None, lambda event: None, ["a", "b"])
    callback.step = 30
    callback._recent = [0.5, 50]  # 10 ms a step since the last sample
    callback._space_automatically(0.2)
    assert callback._next == 30 + 200
    assert callback._recent == [0.0, 0]  # the next spacing goes by the steps after this one
    callback._recent = [0.5, 50]
    callback._space_automatically(0.01)  # cheap: the fewest steps apart
    assert callback._next == 30 + 50
    callback._space_automatically(5.0)  # nothing timed yet
    assert callback._next == 30 + 50


def test_an_automatic_run_samples_the_first_step_and_not_again_before_50():
    project = _diagnosed(every=3, epochs=3)
    project.training.gradient_diagnostics.every = None  # automatic
    events: list[object] = []
    result = run_training(project, _data(64), events.append)  # 9 steps in all
    samples = [e for e in events if isinstance(e, GradientsSampled)]
    assert [s.step for s in samples] == [0]
    assert len(result.history["gradnorm_size"]) == 3  # later epochs repeat the last sample
    assert len(set(result.history["gradnorm_size"])) == 1

"""Per-head sample weights travel as one matrix (a column per head, sorted by head name) and
give the same per-head losses as a dict of weights: each a mean over its labelled rows."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from mogui.engine.losses import compile_model
from mogui.engine.plain_keras.batches import epoch_batches, packed_weights
from tests.engine.loss_models import FEATURES, hand_model, head, regression_target, tiny_project

N = 16


def _project():  # noqa: ANN202
    # Named so that the sorted order (a_first, m_mid, z_last) differs from the listed order.
    return tiny_project([head("z_last", units=2, weight=0.5), head("a_first", units=1),
                         head("m_mid", units=3, weight=2.0)], batch_size=8)


def _data(project):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    y = {h.name: regression_target(N, h.units, 1.0 + i, seed=i)
         for i, h in enumerate(project.heads)}
    weights = {name: (rng.random(N) > 0.4).astype("float32") for name in y}
    weights["m_mid"][:] = 0.0  # a head with no label in the batch: its loss is 0, not NaN
    weights["m_mid"][N // 2:] = 1.0
    return x, y, weights


def test_packed_weights_are_a_column_per_head_in_sorted_order():
    weights = {"b": np.array([1, 0, 1]), "a": np.array([0, 0, 1]), "c": np.array([1, 1, 1])}
    packed = packed_weights(weights)
    assert packed.dtype == np.float32 and packed.shape == (3, 3)
    np.testing.assert_array_equal(packed, [[0, 1, 1], [0, 0, 1], [1, 1, 1]])


def test_batches_carry_one_weight_matrix_holding_each_rows_weights():
    x = {"x": np.arange(10, dtype="float32")[:, None]}
    y = {"b": np.arange(10, dtype="float32")[:, None], "a": -np.arange(10, dtype="float32")}
    weights = {"b": (np.arange(10) % 2).astype("float32"), "a": (np.arange(10) < 5) * 1.0}
    seen = 0
    for bx, _by, bw in epoch_batches(x, y, weights, 4, seed=1):
        rows = bx["x"].numpy()[:, 0].astype(int)
        assert bw.shape == (len(rows), 2)
        np.testing.assert_array_equal(bw.numpy()[:, 0], rows < 5)  # column "a"
        np.testing.assert_array_equal(bw.numpy()[:, 1], rows % 2)  # column "b"
        seen += len(rows)
    assert seen == 10


def _hand_losses(model, x, y, weights):  # noqa: ANN001, ANN202
    """Each head's MSE over its labelled rows, from the model's predictions, in NumPy."""
    predictions = model.predict({"x": x}, verbose=0)
    losses = {}
    for name, target in y.items():
        per_row = ((predictions[name] - target) ** 2).mean(axis=1)
        w = weights[name]
        losses[name] = float((per_row * w).sum() / w.sum()) if w.sum() else 0.0
    return losses


def test_a_weight_matrix_gives_each_heads_masked_mean_computed_by_hand():
    project = _project()
    model = compile_model(hand_model(project), project)
    x, y, weights = _data(project)
    expected = _hand_losses(model, x, y, weights)
    terms, total = model.loss_terms(y, model({"x": x}), packed_weights(weights))
    by_dict, _ = model.loss_terms(y, model({"x": x}), weights)
    for name, value in expected.items():
        assert float(terms[name]) == pytest.approx(value, rel=1e-5)
        assert float(by_dict[name]) == pytest.approx(value, rel=1e-5)
    stated = {h.name: h.loss.weight for h in project.heads}
    assert float(total) == pytest.approx(sum(stated[k] * v for k, v in expected.items()),
                                         rel=1e-5)


def test_evaluate_with_a_weight_matrix_logs_each_heads_masked_mean():
    project = _project()
    model = compile_model(hand_model(project), project)
    x, y, weights = _data(project)
    expected = _hand_losses(model, x, y, weights)
    batches = epoch_batches({"x": x}, y, weights, N, seed=0, shuffle=False)
    logs = model.evaluate(batches, verbose=0, return_dict=True)
    for name, value in expected.items():
        assert logs[f"{name}_loss"] == pytest.approx(value, rel=1e-5)


def test_one_heads_loss_reaches_only_its_own_layers_and_the_trunk():
    project = _project()
    model = compile_model(hand_model(project), project)
    x, y, weights = _data(project)
    with tf.GradientTape(persistent=True) as tape:
        terms, _ = model.loss_terms(y, model({"x": x}, training=True), packed_weights(weights))
    own = {name: model.get_layer(name).trainable_variables for name in y}
    for name, term in terms.items():
        for other, variables in own.items():
            gradients = tape.gradient(term, variables)
            reached = [g is not None for g in gradients]
            assert all(reached) if other == name else not any(reached), (name, other)
    del tape


def test_a_weight_matrix_of_the_wrong_width_says_what_fits():
    project = _project()
    model = compile_model(hand_model(project), project)
    x, y, _weights = _data(project)
    with pytest.raises(ValueError, match="do not fit 3 heads"):
        model.loss_terms(y, model({"x": x}), np.ones((N, 2), "float32"))


def test_training_on_packed_batches_matches_training_on_dict_batches():
    project = _project()
    x, y, weights = _data(project)
    results = []
    for pack in (True, False):
        model = compile_model(hand_model(project), project)
        data = epoch_batches({"x": x}, y, weights, 8, seed=0)
        if not pack:  # the same batches, with the weights as a dict per batch
            names = sorted(weights)
            data = data.map(lambda bx, by, bw, names=names: (
                bx, by, {name: bw[:, i] for i, name in enumerate(names)}))
        history = model.fit(data, epochs=2, shuffle=False, verbose=0)
        results.append(({k: v[-1] for k, v in history.history.items()},
                        [w.copy() for w in model.get_weights()]))
    (packed_logs, packed_weights_), (dict_logs, dict_weights) = results
    assert packed_logs.keys() == dict_logs.keys()
    for key, value in packed_logs.items():
        assert value == pytest.approx(dict_logs[key], rel=1e-5), key
    for a, b in zip(packed_weights_, dict_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

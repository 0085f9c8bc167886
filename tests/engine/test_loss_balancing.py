"""Loss-based balancing methods and weight schedules, each against a computation from its paper.

The expected values are written here in NumPy or plain Python, straight from the papers'
equations, not by calling the module under test.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from mogui.engine.plain_keras import loss_balancing as lb
from mogui.engine.plain_keras.multi_head import HeadLossModel


def _np(weights: dict) -> np.ndarray:
    return np.array([float(v) for v in weights.values()])


def _losses(values: dict) -> dict:
    return {head: tf.constant(value, tf.float32) for head, value in values.items()}


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def test_module_imports_only_what_exported_scripts_have():
    tree = ast.parse(Path(lb.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"math", "keras", "tensorflow", "numpy"}
    assert lb.LOSS_METHODS == ("uw", "dwa", "rlw", "gls", "famo")


# uw: Kendall, Gal & Cipolla 2018, total = sum exp(-s) L + s


def test_uncertainty_total_and_its_gradients_match_the_closed_form():
    heads = ("a", "b", "c")
    log_vars = lb.uncertainty_log_vars(heads)
    assert all(float(v) == 0.0 and v.trainable for v in log_vars.values())
    s = np.array([0.3, -1.2, 2.0])
    loss = np.array([0.5, 4.0, 0.01])
    for head, value in zip(heads, s, strict=True):
        log_vars[head].assign(value)
    losses = _losses(dict(zip(heads, loss, strict=True)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(list(losses.values()))
        total, weights = lb.uncertainty_total(losses, log_vars)
    expected_total = np.sum(np.exp(-s) * loss + s)
    np.testing.assert_allclose(float(total), expected_total, rtol=1e-6)
    np.testing.assert_allclose(_np(weights), np.exp(-s), rtol=1e-6)
    by_s = [float(tape.gradient(total, log_vars[h])) for h in heads]
    np.testing.assert_allclose(by_s, -np.exp(-s) * loss + 1.0, rtol=1e-5)
    by_loss = [float(tape.gradient(total, losses[h])) for h in heads]
    np.testing.assert_allclose(by_loss, np.exp(-s), rtol=1e-6)


def test_uncertainty_head_without_labels_adds_no_log_variance_term():
    log_vars = lb.uncertainty_log_vars(("a", "b"))
    log_vars["b"].assign(-0.7)
    with tf.GradientTape() as tape:
        total, _ = lb.uncertainty_total(_losses({"a": 2.0, "b": 0.0}), log_vars)
    grads = tape.gradient(total, [log_vars["a"], log_vars["b"]])
    np.testing.assert_allclose(float(total), 2.0, rtol=1e-6)  # exp(0) * 2 + 0; no -0.7 term
    np.testing.assert_allclose(float(grads[0]), -2.0 + 1.0, rtol=1e-6)
    assert float(grads[1]) == 0.0


def test_uncertainty_log_variances_are_trained_by_fit():
    """Inside Keras' compiled train step the s_k move toward log L_k (the optimum)."""

    class Balanced(HeadLossModel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.log_vars = lb.uncertainty_log_vars(self.output_names)

        def loss_terms(self, y, y_pred, sample_weight=None):
            terms, _ = super().loss_terms(y, y_pred, sample_weight)
            total, _ = lb.uncertainty_total(terms, self.log_vars)
            return terms, total

    keras.utils.set_random_seed(1)
    inputs = keras.Input((2,))
    outputs = {name: keras.layers.Dense(1, kernel_initializer="zeros", name=name)(inputs)
               for name in ("big", "small")}
    model = Balanced(inputs, outputs)
    assert {id(v) for v in model.log_vars.values()} <= {id(v) for v in model.trainable_variables}
    mse = keras.losses.MeanSquaredError
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss={"big": mse(), "small": mse()})
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    y = {"big": 30.0 + np.zeros((32, 1), "float32"), "small": x[:, :1] * 0.01}
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    # d total / d s = 1 - exp(-s) L: s rises for the loss far above 1 (about 900), falls for
    # the loss far below 1 (about 1e-4), toward log L.
    assert float(model.log_vars["big"]) > 0.1
    assert float(model.log_vars["small"]) < -0.1


# dwa: Liu, Johns & Davison 2019, w_k = K exp(r_k / T) / sum exp(r_j / T)


def test_dwa_by_hand():
    weights = lb.dwa_weights({"a": 0.5, "b": 0.9}, {"a": 1.0, "b": 1.0}, temperature=2.0)
    # r = (0.5, 0.9); two heads: w_a = 2 / (1 + exp((0.9 - 0.5) / 2)) = 0.90033...
    assert weights["a"] == pytest.approx(2.0 / (1.0 + math.exp(0.2)), rel=1e-12)
    assert weights["a"] == pytest.approx(0.9003320053750442, rel=1e-12)
    assert weights["b"] == pytest.approx(2.0 - 0.9003320053750442, rel=1e-12)


def test_dwa_three_heads_sum_to_k_and_favour_the_slowest():
    previous = {"a": 0.9, "b": 2.0, "c": 0.1}
    before = {"a": 1.0, "b": 2.0, "c": 0.4}
    weights = lb.dwa_weights(previous, before, temperature=1.0)
    ratios = np.array([0.9, 1.0, 0.25])
    expected = 3 * np.exp(ratios) / np.exp(ratios).sum()
    np.testing.assert_allclose(_np(weights), expected, rtol=1e-12)
    assert sum(weights.values()) == pytest.approx(3.0)
    assert max(weights, key=weights.get) == "b"


def test_dwa_equal_in_the_first_two_epochs_and_unformable_ratios_count_as_one():
    assert lb.dwa_weights(None, None, heads=["a", "b"]) == {"a": 1.0, "b": 1.0}
    assert lb.dwa_weights({"a": 3.0, "b": 1.0}, None) == {"a": 1.0, "b": 1.0}
    # b: before 0 (no labelled row that epoch), c: nan -> both ratios 1, a: 2 / 1.
    weights = lb.dwa_weights({"a": 2.0, "b": 1.0, "c": float("nan")},
                             {"a": 1.0, "b": 0.0, "c": 1.0}, temperature=2.0)
    powers = np.exp(np.array([2.0, 1.0, 1.0]) / 2)
    expected = 3 * powers / powers.sum()
    np.testing.assert_allclose(_np(weights), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="temperature must be above 0"):
        lb.dwa_weights({"a": 1.0}, {"a": 1.0}, temperature=0.0)
    with pytest.raises(ValueError, match="pass heads="):
        lb.dwa_weights(None, None)


# rlw: Lin et al. 2022, w = K softmax(x), x ~ N(0, I), a new draw every step


def test_random_weights_positive_sum_to_k_reproducible_and_redrawn():
    heads = ["a", "b", "c", "d", "e"]
    first = _np(lb.random_weights(heads, seed=7, step=3))
    assert (first > 0).all()
    assert first.sum() == pytest.approx(5.0, rel=1e-6)
    np.testing.assert_array_equal(first, _np(lb.random_weights(heads, seed=7, step=3)))
    assert not np.allclose(first, _np(lb.random_weights(heads, seed=7, step=4)))
    assert not np.allclose(first, _np(lb.random_weights(heads, seed=8, step=3)))
    # K times the softmax of the step's standard-normal draw.
    draws = tf.random.stateless_normal((5,), seed=[7, 3]).numpy().astype(np.float64)
    np.testing.assert_allclose(first, 5 * _softmax(draws), rtol=1e-5)


def test_random_weights_are_standard_normal_through_a_softmax():
    """Over many steps the log-weights' differences have the variance 2 of N(0,1) - N(0,1)."""
    draws = np.array([_np(lb.random_weights(["a", "b"], seed=0, step=s)) for s in range(2000)])
    log_ratio = np.log(draws[:, 0] / draws[:, 1])
    assert abs(log_ratio.mean()) < 0.15
    assert log_ratio.var() == pytest.approx(2.0, rel=0.1)


# gls: Chennupati et al. 2019, total = (prod L)^(1/K)


def _geometric(values: np.ndarray) -> float:
    return float(np.prod(values) ** (1.0 / len(values)))


def test_geometric_total_and_weights_are_its_derivatives():
    values = np.array([0.3, 2.0, 5.0])
    losses = _losses(dict(zip("abc", values, strict=True)))
    with tf.GradientTape() as tape:
        tape.watch(list(losses.values()))
        total, weights = lb.geometric_total(losses)
    assert float(total) == pytest.approx(_geometric(values), rel=1e-6)
    step = 1e-6
    finite = [(_geometric(values + step * np.eye(3)[k]) - _geometric(values - step * np.eye(3)[k]))
              / (2 * step) for k in range(3)]
    np.testing.assert_allclose(_np(weights), finite, rtol=1e-5)
    np.testing.assert_allclose([float(g) for g in tape.gradient(total, list(losses.values()))],
                               finite, rtol=1e-5)


def test_geometric_total_is_stable_where_the_product_is_not():
    tiny = _losses({"a": 1e-20, "b": 1e-20, "c": 1e-20})  # product 1e-60 underflows float32
    assert float(lb.geometric_total(tiny)[0]) == pytest.approx(1e-20, rel=1e-5)
    huge = _losses({"a": 1e30, "b": 1e30})  # product 1e60 overflows float32
    assert float(lb.geometric_total(huge)[0]) == pytest.approx(1e30, rel=1e-5)


def test_geometric_leaves_out_a_head_without_labels():
    losses = _losses({"a": 0.0, "b": 4.0, "c": 9.0})
    with tf.GradientTape() as tape:
        tape.watch(list(losses.values()))
        total, weights = lb.geometric_total(losses)
    assert float(total) == pytest.approx(6.0, rel=1e-6)  # sqrt(4 * 9)
    np.testing.assert_allclose(_np(weights), [0.0, 6.0 / 8.0, 6.0 / 18.0], rtol=1e-6)
    grads = [float(g) for g in tape.gradient(total, list(losses.values()))]
    np.testing.assert_allclose(grads, [0.0, 0.75, 1.0 / 3.0], rtol=1e-6)
    none = _losses({"a": 0.0, "b": 0.0})
    with tf.GradientTape() as tape:
        tape.watch(list(none.values()))
        total, weights = lb.geometric_total(none)
    assert float(total) == 0.0 and _np(weights).tolist() == [0.0, 0.0]
    assert all(np.isfinite(float(g)) for g in tape.gradient(total, list(none.values())))


# famo: Liu, Feng, Stone & Liu 2023, Algorithm 1 (and the authors' Adam on the logits)

EPS = 1e-8


def _famo_total_np(loss: np.ndarray, xi: np.ndarray) -> tuple[float, np.ndarray]:
    z = _softmax(xi)
    c = 1.0 / np.sum(z / (loss + EPS))
    return float(c * np.sum(z * np.log(loss + EPS))), c * z / (loss + EPS)


def _famo_delta_np(xi: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """delta = J^T d with J_ij = dz_i / dxi_j = z_i (1[i=j] - z_j), d = log L(t) - log L(t+1)."""
    z = _softmax(xi)
    jacobian = np.diag(z) - np.outer(z, z)
    return jacobian.T @ (np.log(before + EPS) - np.log(after + EPS))


def test_famo_total_and_weights():
    xi = np.array([0.2, -0.5, 0.1])
    loss = np.array([0.4, 3.0, 1.2])
    logits = lb.famo_logits("abc")
    assert all(float(v) == 0.0 and not v.trainable for v in logits.values())
    for head, value in zip("abc", xi, strict=True):
        logits[head].assign(value)
    losses = _losses(dict(zip("abc", loss, strict=True)))
    with tf.GradientTape() as tape:
        tape.watch(list(losses.values()))
        total, weights = lb.famo_total(losses, logits)
    expected_total, expected_weights = _famo_total_np(loss, xi)
    assert float(total) == pytest.approx(expected_total, rel=1e-5)
    np.testing.assert_allclose(_np(weights), expected_weights, rtol=1e-5)
    # The parameters move along c sum z_k / L_k grad L_k: d total / d L_k are the weights.
    grads = [float(g) for g in tape.gradient(total, list(losses.values()))]
    np.testing.assert_allclose(grads, expected_weights, rtol=1e-5)
    assert float(np.sum(_np(weights))) == pytest.approx(1.0, rel=1e-6)  # c normalises them


def test_famo_total_leaves_out_a_head_without_labels():
    logits = lb.famo_logits("abc")
    logits["a"].assign(0.4)
    total, weights = lb.famo_total(_losses({"a": 0.5, "b": 0.0, "c": 2.0}), logits)
    z = _softmax(np.array([0.4, 0.0, 0.0]))[[0, 2]]
    kept_total, kept_weights = float(np.sum(z * np.log([0.5, 2.0]))), z / np.array([0.5, 2.0])
    kept_total, kept_weights = kept_total / kept_weights.sum(), kept_weights / kept_weights.sum()
    assert float(total) == pytest.approx(kept_total, rel=1e-5)
    np.testing.assert_allclose(_np(weights), [kept_weights[0], 0.0, kept_weights[1]], rtol=1e-5)


def test_famo_plain_update_is_algorithm_1():
    xi = np.array([0.3, -0.2, 0.0])
    before, after = np.array([1.0, 2.0, 0.5]), np.array([0.8, 1.99, 0.45])
    logits = lb.famo_logits("abc")
    for head, value in zip("abc", xi, strict=True):
        logits[head].assign(value)
    lb.famo_update(logits, dict(zip("abc", before, strict=True)),
                   _losses(dict(zip("abc", after, strict=True))), lr=0.5, decay=0.01)
    expected = xi - 0.5 * (_famo_delta_np(xi, before, after) + 0.01 * xi)
    np.testing.assert_allclose(_np(logits), expected, rtol=1e-5, atol=1e-7)
    # Apart from the decay, the logit of the head whose loss fell most (a) falls most, that of
    # the head whose loss barely moved (b) rises most.
    moved = _np(logits) - (1 - 0.5 * 0.01) * xi
    assert moved.argmin() == 0 and moved.argmax() == 1


def _adam_np(xi, m, v, t, grad, lr, b1=0.9, b2=0.999, eps=1e-8):
    """PyTorch's Adam step (the authors' optimizer of the logits), L2 decay already in grad."""
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    return xi - (lr / (1 - b1**t)) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps), m, v


def test_famo_adam_update_matches_the_authors_optimizer_over_two_steps():
    steps = [(np.array([1.0, 2.0]), np.array([0.7, 1.98])),
             (np.array([0.9, 1.9]), np.array([0.88, 1.7]))]
    logits, moments = lb.famo_logits("ab"), lb.famo_moments("ab")
    xi, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    for t, (before, after) in enumerate(steps, start=1):
        lb.famo_update(logits, dict(zip("ab", before, strict=True)),
                       dict(zip("ab", after, strict=True)), lr=0.025, decay=1e-3,
                       moments=moments)
        grad = _famo_delta_np(xi, before, after) + 1e-3 * xi
        xi, m, v = _adam_np(xi, m, v, t, grad, lr=0.025)
        np.testing.assert_allclose(_np(logits), xi, rtol=1e-4, atol=1e-7)
    assert float(moments["step"]) == 2.0
    np.testing.assert_allclose(_np(moments["first"]), m, rtol=1e-4)
    np.testing.assert_allclose(_np(moments["second"]), v, rtol=1e-4)


def test_famo_update_ignores_a_head_without_labels():
    logits = lb.famo_logits("ab")
    lb.famo_update(logits, {"a": 0.0, "b": 1.0}, {"a": 0.0, "b": 1.0}, lr=1.0, decay=0.0)
    assert _np(logits).tolist() == [0.0, 0.0]
    lb.famo_update(logits, {"a": 0.0, "b": 1.0}, {"a": 0.0, "b": 0.5}, lr=1.0, decay=0.0)
    # d = (0, log 2): the only head that learned loses weight; nothing is nan.
    expected = -_famo_delta_np(np.zeros(2), np.array([1.0, 1.0]), np.array([1.0, 0.5]))
    np.testing.assert_allclose(_np(logits), expected, rtol=1e-5)


# Everything inside tf.function: traced once, called twice


def test_methods_trace_once_inside_tf_function():
    traces = []
    log_vars = lb.uncertainty_log_vars("ab")
    logits = lb.famo_logits("ab")

    @tf.function
    def step(a, b, iteration):
        traces.append(1)
        losses = {"a": a, "b": b}
        uw, _ = lb.uncertainty_total(losses, log_vars)
        gls, gls_weights = lb.geometric_total(losses)
        famo, famo_weights = lb.famo_total(losses, logits)
        rlw = lb.random_weights(["a", "b"], 11, iteration)
        lb.famo_update(logits, losses, {"a": a * 0.5, "b": b}, lr=0.1, decay=0.0)
        return uw, gls, gls_weights, famo, famo_weights, rlw

    for a, b, iteration in ((2.0, 8.0, 0), (0.5, 3.0, 1)):
        xi = _np(logits)
        uw, gls, gls_weights, famo, famo_weights, rlw = step(
            tf.constant(a), tf.constant(b), tf.constant(iteration, tf.int64))
        assert float(uw) == pytest.approx(a + b)
        assert float(gls) == pytest.approx(math.sqrt(a * b), rel=1e-6)
        np.testing.assert_allclose(_np(gls_weights), [math.sqrt(a * b) / (2 * a),
                                                      math.sqrt(a * b) / (2 * b)], rtol=1e-6)
        expected_famo, expected_weights = _famo_total_np(np.array([a, b]), xi)
        assert float(famo) == pytest.approx(expected_famo, rel=1e-5)
        np.testing.assert_allclose(_np(famo_weights), expected_weights, rtol=1e-5)
        np.testing.assert_allclose(_np(rlw), _np(lb.random_weights("ab", 11, iteration)),
                                   rtol=1e-6)
        delta = _famo_delta_np(xi, np.array([a, b]), np.array([a * 0.5, b]))
        np.testing.assert_allclose(_np(logits), xi - 0.1 * delta, rtol=1e-5, atol=1e-7)
    assert len(traces) == 1


def test_famo_adam_update_traces_once():
    traces = []
    logits, moments = lb.famo_logits("ab"), lb.famo_moments("ab")

    @tf.function
    def update(before, after):
        traces.append(1)
        lb.famo_update(logits, {"a": before[0], "b": before[1]},
                       {"a": after[0], "b": after[1]}, moments=moments)

    xi, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    for t, (before, after) in enumerate([([1.0, 2.0], [0.5, 1.9]), ([0.5, 1.9], [0.45, 1.0])], 1):
        update(tf.constant(before), tf.constant(after))
        grad = _famo_delta_np(xi, np.array(before), np.array(after)) + 1e-3 * xi
        xi, m, v = _adam_np(xi, m, v, t, grad, lr=0.025)
        np.testing.assert_allclose(_np(logits), xi, rtol=1e-4, atol=1e-7)
    assert len(traces) == 1


# Schedules of a head's base weight


def test_schedules_by_hand():
    assert lb.scheduled_weight("constant", 2.5, 7, 10) == 2.5
    warm = [lb.scheduled_weight("linear_warmup", 1.0, e, 10, start=0.2, warmup=4) for e in range(6)]
    assert warm == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    steps = [lb.scheduled_weight("step", 2.0, e, 10, gamma=0.5, every=3)
             for e in (0, 2, 3, 5, 6, 9)]
    assert steps == pytest.approx([2.0, 2.0, 1.0, 1.0, 0.5, 0.25])
    cosine = [lb.scheduled_weight("cosine", 1.0, e, 5, minimum=0.2) for e in range(7)]
    # 0.2 + 0.8 * (1 + cos(pi * e / 4)) / 2; epoch 1: 0.2 + 0.4 * (1 + 0.70711) = 0.88284
    assert cosine == pytest.approx([1.0, 0.8828427, 0.6, 0.3171573, 0.2, 0.2, 0.2], rel=1e-6)


def test_schedule_defaults_and_edges():
    assert lb.scheduled_weight("linear_warmup", 1.0, 1, 10) == pytest.approx(0.2)  # 0 over 5
    assert lb.scheduled_weight("step", 1.0, 10, 20) == pytest.approx(0.5)  # 0.5 every 10
    assert lb.scheduled_weight("cosine", 1.0, 9, 10) == pytest.approx(0.0, abs=1e-12)
    assert lb.scheduled_weight("linear_warmup", 3.0, 0, 10, warmup=0) == 3.0
    assert lb.scheduled_weight("cosine", 1.0, 0, 1) == 1.0


@pytest.mark.parametrize(("call", "message"), [
    (lambda: lb.scheduled_weight("exponential", 1.0, 0, 5),
     "unknown weight schedule 'exponential'; choose one of constant, linear_warmup"),
    (lambda: lb.scheduled_weight("step", 1.0, 0, 5, rate=0.5),
     "the step schedule has no parameter rate; its parameters: gamma, every"),
    (lambda: lb.scheduled_weight("constant", 1.0, 0, 5, start=0.0),
     "its parameters: none"),
    (lambda: lb.scheduled_weight("step", 1.0, 0, 5, every=0), "every >= 1"),
    (lambda: lb.scheduled_weight("linear_warmup", 1.0, 0, 5, warmup=-1), "warmup must be >= 0"),
    (lambda: lb.scheduled_weight("cosine", 1.0, 0, 0), "epochs >= 1"),
])
def test_schedule_mistakes_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()

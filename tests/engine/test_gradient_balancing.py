"""Gradient-based balancing against independent NumPy implementations written from the papers.

Each aggregator gets fixed gradient matrices (K = 2, 3, 5 heads, P = 6 parameters) in float32;
the references compute in float64 from the same float32 values, with algorithms of their own
(closed forms, exhaustive active-set enumeration, coordinate descent run to convergence).
Agreement is to 1e-5 relative to the largest entry unless a test says otherwise: the
aggregators form the Gram matrix in float32, which costs about 1e-7 times its condition number.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import toy_pareto
from mogui.engine.export.codegen.shared import definitions
from mogui.engine.plain_keras import gradient_balancing as gb
from mogui.engine.plain_keras import gradient_step as gs

RTOL = 1e-5


def conflicting(k: int, seed: int, p: int = 6) -> np.ndarray:
    """A fixed ``(k, p)`` float32 gradient matrix whose rows conflict (negative inner products)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(k, p))
    rows[1:] -= 0.7 * rows[0]
    rows *= rng.uniform(0.3, 3.0, size=(k, 1))  # unequal gradient norms
    return rows.astype(np.float32)


MATRICES = {f"K{k}-{seed}": conflicting(k, seed) for k in (2, 3, 5) for seed in (1, 2)}
#: Rows with pairwise non-negative inner products: nothing conflicts.
ALIGNED = np.array([[1.0, 0.5, 0.0, 2.0], [0.5, 1.0, 0.2, 0.0], [0.0, 0.3, 1.0, 0.5]], np.float32)


def close(actual, expected, rtol: float = RTOL) -> None:
    """``actual`` equals ``expected`` to ``rtol`` of the largest entry of ``expected``."""
    expected = np.asarray(expected, np.float64)
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=0, atol=rtol * scale)


def run(name: str, grads: np.ndarray, **params):
    """``(direction, weights)`` of ``name`` as NumPy float64 arrays, checking the contract."""
    tensor = tf.constant(grads)
    direction, weights = gb.GRADIENT_METHODS[name](tensor, **params)
    assert direction.shape == (grads.shape[1],) and weights.shape == (grads.shape[0],)
    assert direction.dtype == tf.float32 and weights.dtype == tf.float32
    direction, weights = direction.numpy().astype(np.float64), weights.numpy().astype(np.float64)
    close(direction, weights @ grads.astype(np.float64), 1e-6)  # direction == weights @ grads
    return direction, weights


# ---------------------------------------------------------------------------- PCGrad


def pcgrad_reference(g: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Yu et al. 2020, Algorithm 1, on the vectors themselves, in the given orders."""
    projected = []
    for i in range(len(g)):
        p = g[i].copy()
        for j in orders[i]:
            if j != i and p @ g[j] < 0:
                p = p - (p @ g[j]) / (g[j] @ g[j]) * g[j]
        projected.append(p)
    return np.sum(projected, axis=0)


def test_pcgrad_two_tasks_is_the_closed_form_projection():
    g = np.array([[2.0, 1.0, 0.0], [-1.0, 1.0, 1.0]], np.float32)
    g1, g2 = g.astype(np.float64)
    assert g1 @ g2 < 0
    expected = (g1 - (g1 @ g2) / (g2 @ g2) * g2) + (g2 - (g2 @ g1) / (g1 @ g1) * g1)
    direction, weights = run("pcgrad", g)
    close(direction, expected)
    close(weights, [1 - (g1 @ g2) / (g1 @ g1), 1 - (g1 @ g2) / (g2 @ g2)])
    # each projected gradient is orthogonal to the other head's gradient
    assert abs((g1 - (g1 @ g2) / (g2 @ g2) * g2) @ g2) < 1e-12


def test_pcgrad_without_conflicts_is_the_sum():
    assert (ALIGNED @ ALIGNED.T >= 0).all()
    for step in range(3):
        direction, weights = run("pcgrad", ALIGNED, seed=4, step=step)
        close(direction, ALIGNED.sum(axis=0))
        close(weights, np.ones(3))


@pytest.mark.parametrize("key", sorted(MATRICES))
def test_pcgrad_matches_algorithm_1(key):
    g = MATRICES[key]
    for seed, step in [(0, 0), (0, 1), (3, 7)]:
        orders = gb.pcgrad_order(len(g), seed, step).numpy()
        assert sorted(orders[0]) == list(range(len(g)))
        direction, _ = run("pcgrad", g, seed=seed, step=step)
        close(direction, pcgrad_reference(g.astype(np.float64), orders))


def test_pcgrad_order_is_reproducible_and_changes_with_the_step():
    first = gb.pcgrad_order(5, 0, 0).numpy()
    assert (gb.pcgrad_order(5, 0, 0).numpy() == first).all()
    assert (gb.pcgrad_order(5, tf.constant(0), tf.constant(0, tf.int64)).numpy() == first).all()
    others = [gb.pcgrad_order(5, 0, step).numpy() for step in range(1, 6)]
    assert any((order != first).any() for order in others)
    g = MATRICES["K5-1"]
    results = {tuple(np.round(run("pcgrad", g, seed=0, step=s)[0], 5)) for s in range(6)}
    assert len(results) > 1, "the random order makes a difference on conflicting gradients"


# ---------------------------------------------------------------------------- MGDA


def min_norm_reference(gram: np.ndarray) -> np.ndarray:
    """The min-norm point of the convex hull, by enumerating supports (KKT, exact)."""
    k = len(gram)
    best = None
    for size in range(1, k + 1):
        for support in itertools.combinations(range(k), size):
            s = list(support)
            try:
                x = np.linalg.solve(gram[np.ix_(s, s)], np.ones(size))
            except np.linalg.LinAlgError:
                continue
            if x.sum() <= 0:
                continue
            alpha = np.zeros(k)
            alpha[s] = x / x.sum()
            if (alpha >= -1e-12).all() and (gram @ alpha >= alpha @ gram @ alpha - 1e-10).all():
                value = alpha @ gram @ alpha
                if best is None or value < best[0]:
                    best = (value, alpha)
    return best[1]


@pytest.mark.parametrize(
    "g",
    [
        [[1.0, 0.0], [-0.5, 1.0]],  # interior point of the segment
        [[1.0, 0.0], [3.0, 0.1]],  # clipped: the shorter gradient itself
        [[4.0, 1.0], [0.5, 0.0]],  # clipped the other way
        [[1.0, 2.0, -1.0], [-2.0, 0.5, 3.0]],
    ],
)
def test_mgda_two_tasks_is_the_closed_form(g):
    g = np.array(g, np.float32)
    g1, g2 = g.astype(np.float64)
    alpha = np.clip((g2 - g1) @ g2 / ((g1 - g2) @ (g1 - g2)), 0, 1)
    direction, weights = run("mgda", g)
    close(weights, [alpha, 1 - alpha])
    close(direction, alpha * g1 + (1 - alpha) * g2)


@pytest.mark.parametrize("key", [k for k in sorted(MATRICES) if not k.startswith("K2")])
def test_mgda_satisfies_the_kkt_conditions(key):
    g = MATRICES[key].astype(np.float64)
    gram = g @ g.T
    _, alpha = run("mgda", MATRICES[key])
    tol = RTOL * np.max(np.diag(gram))
    assert (alpha >= 0).all() and abs(alpha.sum() - 1) < 1e-6
    products, value = gram @ alpha, alpha @ gram @ alpha
    assert (products >= value - tol).all()  # no vertex improves on the point
    assert (np.abs(products - value)[alpha > 1e-6] <= tol).all()  # the support is balanced
    close(alpha, min_norm_reference(gram))


# ---------------------------------------------------------------------------- non-conflict


@pytest.mark.parametrize("name", ["mgda", "upgrad"])
@pytest.mark.parametrize("key", sorted(MATRICES))
def test_direction_conflicts_with_no_head(name, key):
    g = MATRICES[key]
    direction, _ = run(name, g)
    products = g.astype(np.float64) @ direction
    assert (products >= -RTOL * np.max(np.abs(g)) ** 2).all(), products


# ---------------------------------------------------------------------------- IMTL-G


def imtl_g_reference(g: np.ndarray) -> np.ndarray:
    """Liu et al. 2021 (IMTL), eq. 7: a_{2:K} = g_1 U^T (D U^T)^-1, a_1 = 1 - sum a_{2:K}."""
    units = g / np.linalg.norm(g, axis=1, keepdims=True)
    d = g[0] - g[1:]
    u = units[0] - units[1:]
    rest = g[0] @ u.T @ np.linalg.inv(d @ u.T)
    return np.concatenate([[1 - rest.sum()], rest])


@pytest.mark.parametrize("key", sorted(MATRICES))
def test_imtl_g_equalises_the_projections(key):
    g = MATRICES[key].astype(np.float64)
    direction, weights = run("imtl_g", MATRICES[key])
    close(weights, imtl_g_reference(g))
    assert abs(weights.sum() - 1) < 1e-6
    projections = (g / np.linalg.norm(g, axis=1, keepdims=True)) @ direction
    close(projections, np.full(len(g), projections.mean()))


# ---------------------------------------------------------------------------- CAGrad


def cagrad_reference(g: np.ndarray, c: float) -> np.ndarray:
    """Liu et al. 2021 (CAGrad), Algorithm 1, by enumerating the supports of ``w``.

    On a support S, stationarity ``a + r G w / |g_w| = l 1`` with ``a = G 1/K`` and
    ``r = c |g_0|`` gives ``w ~ l G_SS^-1 1 - G_SS^-1 a`` and ``|g_w| = r / sum(...)``; ``l`` solves
    a quadratic. The feasible stationary point with the lowest objective is the minimum.
    """
    k = len(g)
    gram = g @ g.T
    a = gram.mean(axis=1)
    r = c * np.linalg.norm(g.mean(axis=0))
    best = None
    for size in range(1, k + 1):
        for support in itertools.combinations(range(k), size):
            s = list(support)
            inverse = np.linalg.inv(gram[np.ix_(s, s)])
            p, q = inverse @ np.ones(size), inverse @ a[s]
            sub = gram[np.ix_(s, s)]
            aa, bb, cc = p @ sub @ p, p @ sub @ q, q @ sub @ q
            disc = bb * bb - aa * (cc - r * r)
            if disc < 0:
                continue
            for level in ((bb + np.sqrt(disc)) / aa, (bb - np.sqrt(disc)) / aa):
                z = level * p - q
                if z.sum() <= 0 or (z < -1e-12).any():
                    continue
                w = np.zeros(k)
                w[s] = z / z.sum()
                value = w @ a + r * np.sqrt(w @ gram @ w)
                if best is None or value < best[0]:
                    best = (value, w)
    w = best[1]
    return g.mean(axis=0) + r / np.linalg.norm(w @ g) * (w @ g)


@pytest.mark.parametrize("c", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("key", sorted(MATRICES))
def test_cagrad_matches_algorithm_1(key, c):
    direction, weights = run("cagrad", MATRICES[key], c=c)
    close(direction, cagrad_reference(MATRICES[key].astype(np.float64), c))
    assert (weights >= 1 / len(weights) - 1e-6).all()  # mean weights plus a simplex part


def test_cagrad_without_radius_is_the_mean():
    g = MATRICES["K3-1"]
    direction, weights = run("cagrad", g, c=0.0)
    close(direction, g.astype(np.float64).mean(axis=0))
    close(weights, np.full(3, 1 / 3))


# ---------------------------------------------------------------------------- Aligned-MTL


def aligned_reference(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Senushkin et al. 2023, Algorithm 1, from the SVD of the gradient matrix itself.

    The aligned rows are ``sigma_min U V^T`` over the non-zero singular values; their sum is
    the direction, and ``sigma_min U S^-1 U^T 1`` the weights.
    """
    u, s, vt = np.linalg.svd(g, full_matrices=False)
    rank = int((s > s[0] * 1e-3).sum())
    u, s, vt = u[:, :rank], s[:rank], vt[:rank]
    aligned = s[-1] * u @ vt
    return aligned.sum(axis=0), s[-1] * u @ np.diag(1 / s) @ u.T @ np.ones(len(g))


@pytest.mark.parametrize("key", sorted(MATRICES))
def test_aligned_mtl_matches_algorithm_1(key):
    direction, weights = run("aligned_mtl", MATRICES[key])
    expected_direction, expected_weights = aligned_reference(MATRICES[key].astype(np.float64))
    close(direction, expected_direction)
    close(weights, expected_weights)


def test_aligned_mtl_with_dependent_gradients():
    g = MATRICES["K3-1"].copy()
    g[2] = g[0] + g[1]  # rank 2
    direction, _ = run("aligned_mtl", g)
    close(direction, aligned_reference(g.astype(np.float64))[0], 1e-4)


# ---------------------------------------------------------------------------- Nash-MTL


def nash_reference(g: np.ndarray) -> np.ndarray:
    """Navon et al. 2022, eq. 3, ``G a = 1 / a``: exact coordinate minimisation of
    ``a^T G a / 2 - sum(log a)`` (each coordinate solves ``G_ii a^2 + b a - 1 = 0``)."""
    gram = g @ g.T
    alpha = np.ones(len(g))
    for _ in range(20000):
        for i in range(len(g)):
            b = gram[i] @ alpha - gram[i, i] * alpha[i]
            alpha[i] = (-b + np.sqrt(b * b + 4 * gram[i, i])) / (2 * gram[i, i])
    assert np.allclose(alpha * (gram @ alpha), 1, atol=1e-12)
    return alpha


@pytest.mark.parametrize("key", sorted(MATRICES))
def test_nash_mtl_solves_the_bargaining_equation(key):
    g = MATRICES[key].astype(np.float64)
    direction, alpha = run("nash_mtl", MATRICES[key])
    close(alpha, nash_reference(g))
    close(alpha * (g @ g.T @ alpha), np.ones(len(g)))  # (G a) * a = 1
    assert abs(np.linalg.norm(direction) - np.sqrt(len(g))) < 1e-5 * np.sqrt(len(g))


def test_nash_mtl_on_exactly_opposed_gradients_stays_finite():
    g = np.array([[1.0, 2.0, 0.0], [-1.0, -2.0, 0.0]], np.float32)
    direction, weights = run("nash_mtl", g)
    assert np.isfinite(weights).all() and (weights > 0).all()
    assert np.linalg.norm(direction) < 1e-3  # no bargaining solution: the heads cancel out


# ---------------------------------------------------------------------------- UPGrad


def dual_cone_projection_weights(gram: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """``argmin v^T G v`` subject to ``v >= bound`` (Quinton & Rey 2024, Proposition 1), by
    enumerating which constraints are free (KKT, exact)."""
    k = len(gram)
    for size in range(k + 1):
        for free in itertools.combinations(range(k), size):
            f = list(free)
            fixed = [i for i in range(k) if i not in free]
            v = bound.copy()
            if f:
                v[f] = np.linalg.solve(gram[np.ix_(f, f)], -gram[np.ix_(f, fixed)] @ bound[fixed])
            if (v[f] >= bound[f] - 1e-12).all() and ((gram @ v)[fixed] >= -1e-10).all():
                return v
    raise AssertionError("no KKT point")


@pytest.mark.parametrize("key", sorted(MATRICES))
def test_upgrad_averages_the_projections_onto_the_dual_cone(key):
    g = MATRICES[key].astype(np.float64)
    k = len(g)
    gram = g @ g.T
    projections = [dual_cone_projection_weights(gram, np.eye(k)[i]) @ g for i in range(k)]
    for p in projections:  # each projection conflicts with no head
        assert (g @ p >= -1e-9).all()
    direction, weights = run("upgrad", MATRICES[key])
    close(direction, np.mean(projections, axis=0))
    assert weights.sum() >= 1 - 1e-6


def test_upgrad_without_conflicts_is_the_mean():
    direction, weights = run("upgrad", ALIGNED)
    close(direction, ALIGNED.astype(np.float64).mean(axis=0))
    close(weights, np.full(3, 1 / 3))


@pytest.mark.parametrize("key", sorted(MATRICES))
def test_iterative_solvers_are_exact_within_five_iterations(key):
    g = MATRICES[key].astype(np.float64)
    gram, k = g @ g.T, len(g)
    expected = {
        "mgda": min_norm_reference(gram) @ g,
        "cagrad": cagrad_reference(g, 0.5),
        "upgrad": np.mean([dual_cone_projection_weights(gram, e) @ g for e in np.eye(k)], axis=0),
    }
    for name, direction in expected.items():
        close(run(name, MATRICES[key], iterations=5)[0], direction)


# ---------------------------------------------------------------------------- GradNorm


def gradnorm_loss(weights, norms, losses, initial, alpha, target_weights):
    """Chen et al. 2018, eq. 2: sum |w_k n_k - mean(G) r_k^alpha|, the target taken at
    ``target_weights`` (held constant)."""
    ratios = losses / initial
    rates = ratios / ratios.mean()
    target = np.mean(target_weights * norms) * rates**alpha
    return np.abs(weights * norms - target).sum()


@pytest.mark.parametrize("alpha", [0.5, 1.5, 3.0])  # head 3's target crosses its norm
def test_gradnorm_update_is_one_step_on_the_gradnorm_loss(alpha):
    weights = np.array([1.2, 0.5, 1.3])
    norms = np.array([2.0, 0.4, 0.4])
    losses = np.array([0.8, 0.9, 0.3])
    initial = np.array([1.0, 1.0, 1.0])
    lr = 0.025
    eps = 1e-6
    gradient = np.array([
        (gradnorm_loss(weights + eps * e, norms, losses, initial, alpha, weights)
         - gradnorm_loss(weights - eps * e, norms, losses, initial, alpha, weights)) / (2 * eps)
        for e in np.eye(3)
    ])  # fmt: skip
    expected = weights - lr * gradient
    expected *= 3 / expected.sum()
    new = gb.gradnorm_update(
        tf.constant(weights, tf.float32), tf.constant(norms, tf.float32),
        tf.constant(losses, tf.float32), tf.constant(initial, tf.float32), alpha=alpha, lr=lr,
    )  # fmt: skip
    close(new.numpy(), expected)
    assert abs(float(tf.reduce_sum(new)) - 3) < 1e-5


def test_gradnorm_update_keeps_weights_positive():
    new = gb.gradnorm_update(
        tf.constant([0.01, 1.0, 1.99]), tf.constant([5.0, 1.0, 1.0]),
        tf.constant([1.0, 0.1, 0.1]), tf.constant([1.0, 1.0, 1.0]), lr=1.0,
    )  # fmt: skip
    assert (new.numpy() > 0).all() and abs(float(tf.reduce_sum(new)) - 3) < 1e-5


def test_gradnorm_direction_is_the_weighted_sum():
    g = MATRICES["K3-2"]
    weights = tf.constant([0.5, 2.0, 0.5])
    direction, returned = gb.gradnorm(tf.constant(g), weights)
    close(direction.numpy(), weights.numpy() @ g.astype(np.float64))
    close(returned.numpy(), weights.numpy())


# ---------------------------------------------------------------------------- shared behaviour


def call(name: str, grads, step=0):
    """Run ``name`` with what it needs beyond the gradients."""
    if name == "gradnorm":
        return gb.gradnorm(grads, tf.constant([0.5, 1.5, 1.0]))
    if name == "pcgrad":
        return gb.pcgrad(grads, seed=1, step=step)
    return gb.GRADIENT_METHODS[name](grads)


@pytest.mark.parametrize("name", sorted(gb.GRADIENT_METHODS))
def test_compiled_equals_eager(name):
    traces = []

    @tf.function
    def compiled(grads, step):
        traces.append(name)
        return call(name, grads, step)

    for key in ("K3-1", "K3-2"):
        grads = tf.constant(MATRICES[key])
        eager = call(name, grads, tf.constant(5))
        graph = compiled(grads, tf.constant(5))
        for a, b in zip(graph, eager, strict=True):
            close(a.numpy(), b.numpy(), 1e-6)
    assert len(traces) == 1


@pytest.mark.parametrize("name", sorted(gb.GRADIENT_METHODS))
def test_xla_compiled_equals_eager(name):
    grads = tf.constant(MATRICES["K3-1"])
    eager = call(name, grads)
    compiled = tf.function(lambda g: call(name, g), jit_compile=True)(grads)
    for a, b in zip(compiled, eager, strict=True):
        close(a.numpy(), b.numpy(), 1e-6)


@pytest.mark.parametrize("name", sorted(set(gb.GRADIENT_METHODS) - {"gradnorm"}))
def test_a_head_without_gradient_takes_no_part(name):
    g = MATRICES["K2-1"]
    padded = np.concatenate([g[:1], np.zeros_like(g[:1]), g[1:]])
    direction, weights = run(name, padded)
    alone_direction, alone_weights = run(name, g)
    assert weights[1] == 0
    close(direction, alone_direction)
    close(weights[[0, 2]], alone_weights)


@pytest.mark.parametrize("name", sorted(set(gb.GRADIENT_METHODS) - {"gradnorm"}))
def test_all_gradients_zero(name):
    direction, weights = run(name, np.zeros((3, 4), np.float32))
    assert (direction == 0).all() and (weights == 0).all()


@pytest.mark.parametrize("name", sorted(set(gb.GRADIENT_METHODS) - {"gradnorm"}))
def test_one_head_moves_along_its_gradient(name):
    g = np.array([[3.0, -4.0, 0.0]], np.float32)
    direction, weights = run(name, g)
    assert weights[0] > 0
    close(direction / np.linalg.norm(direction), g[0] / 5.0)


def test_per_head_gradients_equal_separate_tape_calls():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    trunk = keras.layers.Dense(5, activation="tanh", name="trunk")(inputs)
    heads = [keras.layers.Dense(1, name=f"head{i}")(trunk) for i in range(3)]
    model = keras.Model(inputs, heads)
    x = tf.constant(np.random.default_rng(0).normal(size=(8, 4)), tf.float32)
    shared = model.get_layer("trunk").trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        outputs = model(x)
        losses = [tf.reduce_mean((out - float(i)) ** 2) for i, out in enumerate(outputs)]
        losses.append(tf.reduce_sum(model.get_layer("head0").kernel))  # reaches no trunk weight
    grads = gs.per_head_gradients(tape, losses, shared)
    assert grads.shape == (4, sum(int(np.prod(v.shape)) for v in shared))
    for row, loss in zip(grads[:3], losses[:3], strict=True):
        separate = tape.gradient(loss, shared)
        expected = np.concatenate([t.numpy().ravel() for t in separate])
        np.testing.assert_array_equal(row.numpy(), expected)
    assert (grads[3].numpy() == 0).all()
    parts = gs.split_like(tf.reduce_sum(grads, axis=0), shared)
    summed = [sum(tape.gradient(loss, v) for loss in losses[:3]) for v in shared]
    for part, expected, v in zip(parts, summed, shared, strict=True):
        assert part.shape == v.shape
        np.testing.assert_allclose(part.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


def test_copied_definitions_run_on_their_own():
    """The exported script copies the module's definitions as written, with its imports only."""
    source = Path(gb.__file__).read_text(encoding="utf-8")
    names = [node.name if isinstance(node, ast.FunctionDef) else node.targets[0].id
             for node in ast.parse(source).body
             if isinstance(node, ast.FunctionDef | ast.Assign)]  # fmt: skip
    assert "GRADIENT_METHODS" in names and "gradnorm_update" in names
    namespace: dict = {}
    exec("import math\nimport tensorflow as tf\n\n" + definitions(gb, *names), namespace)
    grads = tf.constant(MATRICES["K3-1"])
    for name in sorted(gb.GRADIENT_METHODS):
        copied = namespace["GRADIENT_METHODS"][name]
        args = (tf.constant([0.5, 1.5, 1.0]),) if name == "gradnorm" else ()
        for a, b in zip(copied(grads, *args), gb.GRADIENT_METHODS[name](grads, *args), strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---------------------------------------------------------------------------- toy problem


def test_toy_pareto_set_is_pareto_stationary():
    front = toy_pareto.pareto_set(41)
    for x in front:
        point = tf.constant(x)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(point)
            f1, f2 = tf.unstack(toy_pareto.objectives(point))
        g1, g2 = tape.gradient(f1, point).numpy(), tape.gradient(f2, point).numpy()
        alpha = np.clip((g2 - g1) @ g2 / ((g1 - g2) @ (g1 - g2)), 0, 1)
        # a convex combination of the two gradients vanishes
        scale = max(np.linalg.norm(g1), np.linalg.norm(g2))
        assert np.linalg.norm(alpha * g1 + (1 - alpha) * g2) < 1e-6 * scale
    assert front[0, 0] == -7 and front[-1, 0] == 7
    assert np.all(np.abs(front[:, 1] + 8.36) < 0.1)  # the curve of the CAGrad paper's figure


@pytest.mark.parametrize("method", ["mgda", "cagrad"])
def test_toy_reaches_the_pareto_front(method):
    front = toy_pareto.pareto_set()
    start = (-8.5, -5.0)
    before = toy_pareto.distance_to_front(np.array(start), front)
    end = toy_pareto.descend(method, start, steps=5000, lr=0.1)
    assert before > 3
    assert toy_pareto.distance_to_front(end, front) < 0.05

"""Does each gradient-based method reach the Pareto front of a two-task toy problem?

The toy is the one of the CAGrad paper (Liu et al. 2021, Fig. 1; reused by Nash-MTL, Navon et
al. 2022): two conflicting objectives over ``x`` in R^2 whose Pareto set is a curve close to
``x2 = -8.36`` for ``x1`` in ``[-7, 7]``. From the papers' starting points (CAGrad:
``(-8.5, 7.5)``, ``(-8.5, -5)``, ``(9, 9)``; Nash-MTL adds ``(0, 0)``, ``(-7.5, -0.5)``,
``(9, -1)``) each method runs plain gradient descent, ``x -= lr_t * direction``, with ``lr_t``
decaying linearly from ``--lr`` to 0 over ``--steps`` steps (no momentum, no Adam: the papers
used Adam, which hides the differences in scale between the methods). A run reaches the front
when it ends within ``--tolerance`` (Euclidean, in ``x``) of the Pareto set.

Prints a Markdown table (the one in docs/balancing.md):

    python benchmarks/toy_pareto.py [--steps 5000] [--lr 0.1] [--tolerance 0.05]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mogui.engine.plain_keras import gradient_balancing as gb  # noqa: E402

LOWER = 5e-6
STARTS = [(-8.5, 7.5), (-8.5, -5.0), (9.0, 9.0), (0.0, 0.0), (-7.5, -0.5), (9.0, -1.0)]
METHODS = ["equal", "pcgrad", "gradnorm", "mgda", "cagrad", "imtl_g", "aligned_mtl",
           "nash_mtl", "upgrad"]  # fmt: skip
#: The toy's losses go down to -20; GradNorm's loss ratios need positive losses.
GRADNORM_SHIFT = 21.0


def objectives(x: tf.Tensor) -> tf.Tensor:
    """The two objectives of the CAGrad toy (their official ``toy.py``) at ``x`` ``(2,)``."""
    x1, x2 = x[0], x[1]
    f1 = tf.math.log(tf.maximum(tf.abs(0.5 * (-x1 - 7) - tf.tanh(-x2)), LOWER)) + 6
    f2 = tf.math.log(tf.maximum(tf.abs(0.5 * (-x1 + 3) + tf.tanh(-x2) + 2), LOWER)) + 6
    c1 = tf.maximum(tf.tanh(x2 * 0.5), 0.0)
    f1_sq = ((-x1 + 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    f2_sq = ((-x1 - 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    c2 = tf.maximum(tf.tanh(-x2 * 0.5), 0.0)
    return tf.stack([f1 * c1 + f1_sq * c2, f2 * c1 + f2_sq * c2])


def pareto_set(points: int = 2001) -> np.ndarray:
    """``(points, 2)`` samples of the Pareto set: the minimisers of ``a f1 + (1 - a) f2``.

    Below ``x2 = 0`` both objectives are ``tanh(-x2 / 2) q_k(x)`` with quadratic ``q_k``, so
    ``x1 = 7 (2a - 1)`` and ``x2`` solves the one-dimensional stationarity condition, found by
    bisection on ``[-12, -5]``.
    """
    a = np.linspace(0.0, 1.0, points)
    x1 = 7.0 * (2.0 * a - 1.0)
    mixed = (a * (x1 - 7) ** 2 + (1 - a) * (x1 + 7) ** 2) / 10 - 20  # a q1 + (1 - a) q2 less x2

    def slope(x2: np.ndarray) -> np.ndarray:  # d/dx2 of tanh(-x2/2) (mixed + (x2 + 8)^2 / 100)
        c2 = np.tanh(-x2 / 2)
        return -0.5 * (1 - c2**2) * (mixed + 0.01 * (x2 + 8) ** 2) + c2 * 0.02 * (x2 + 8)

    low, high = np.full(points, -12.0), np.full(points, -5.0)
    for _ in range(200):
        middle = (low + high) / 2
        below = slope(middle) < 0
        low, high = np.where(below, middle, low), np.where(below, high, middle)
    return np.stack([x1, (low + high) / 2], axis=1)


def distance_to_front(x: np.ndarray, front: np.ndarray) -> float:
    """Euclidean distance from ``x`` to the sampled Pareto set."""
    return float(np.min(np.linalg.norm(front - np.asarray(x)[None, :], axis=1)))


def descend(method: str, start: tuple[float, float], steps: int, lr: float) -> np.ndarray:
    """Where plain gradient descent along ``method``'s direction ends, from ``start``."""
    aggregate = gb.GRADIENT_METHODS.get(method)

    @tf.function
    def run(x: tf.Tensor) -> tf.Tensor:
        initial = objectives(x) + GRADNORM_SHIFT

        def step(i: tf.Tensor, x: tf.Tensor, weights: tf.Tensor) -> tuple:
            with tf.GradientTape() as tape:
                tape.watch(x)
                losses = objectives(x)
            grads = tape.jacobian(losses, x)
            if method == "equal":
                direction = tf.reduce_sum(grads, axis=0)
            elif method == "pcgrad":
                direction, _ = gb.pcgrad(grads, seed=0, step=i)
            elif method == "gradnorm":
                direction, _ = gb.gradnorm(grads, tf.cast(weights, grads.dtype))
                norms = tf.cast(tf.norm(grads, axis=1), tf.float32)
                shifted = tf.cast(losses + GRADNORM_SHIFT, tf.float32)
                weights = gb.gradnorm_update(weights, norms, shifted, tf.cast(initial, tf.float32))
            else:
                direction, _ = aggregate(grads)
            rate = lr * (1.0 - tf.cast(i, x.dtype) / steps)
            return i + 1, x - rate * direction, weights

        loop = (tf.constant(0), x, tf.ones(2, tf.float32))
        return tf.while_loop(lambda i, x, w: i < steps, step, loop)[1]

    return run(tf.constant(start, tf.float64)).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    front = pareto_set()
    starts = " | ".join(f"({x1:g}, {x2:g})" for x1, x2 in STARTS)
    print(f"Plain gradient descent, {args.steps} steps, step size {args.lr:g} decaying "
          f"linearly to 0; reached = within {args.tolerance:g} of the Pareto set "
          "(distance in brackets).\n")  # fmt: skip
    print(f"| method | {starts} | reached |")
    print("|---" * (len(STARTS) + 2) + "|")
    for method in METHODS:
        cells, reached = [], 0
        for start in STARTS:
            end = descend(method, start, args.steps, args.lr)
            distance = distance_to_front(end, front)
            ok = bool(np.all(np.isfinite(end))) and distance <= args.tolerance
            reached += ok
            cells.append(f"{'yes' if ok else 'no'} ({distance:.2g})")
        print(f"| {method} | {' | '.join(cells)} | {reached}/{len(STARTS)} |", flush=True)


if __name__ == "__main__":
    main()

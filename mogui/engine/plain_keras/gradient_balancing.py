"""Gradient-based multi-task balancing: per-head gradients in, one update direction out.

Every aggregator takes ``grads``, a float32 ``(K, P)`` tensor whose row ``k`` is head ``k``'s
loss gradient with respect to the shared trunk's parameters, flattened, and returns
``(direction, weights)``: ``direction`` ``(P,)`` replaces the sum of the rows in the update and
``weights`` ``(K,)`` are the per-head weights with ``direction == weights @ grads``.

All of them run inside a compiled train step (``tf.function``, XLA too). Each works on the
``K x K`` Gram matrix ``G = grads @ grads.T``, formed once in float32 (one ``O(K^2 P)`` product)
and then solved in float64, so their cost beyond the ``K`` backward passes that give ``grads``
is that product, the ``O(K^3)``-per-iteration solve, and one ``O(K P)`` combination.

A head whose gradient is exactly zero (no labelled rows in the batch) takes no part: it gets
weight 0 and the method is solved over the other heads. ``gradient_step`` forms the rows in a
model's training step and applies the direction.
"""

import tensorflow as tf

FLOAT32_EPS = 1.1920929e-07


def head_gram(grads):
    """``grads @ grads.T`` (float32 product) in float64, and the float64 mask of non-zero rows."""
    gram = tf.cast(tf.matmul(grads, grads, transpose_b=True), tf.float64)
    return gram, tf.cast(tf.linalg.diag_part(gram) > 0, tf.float64)


def weighted_direction(grads, weights):
    """``(weights @ grads, weights)`` with ``weights`` cast to the gradients' dtype."""
    weights = tf.cast(weights, grads.dtype)
    return tf.linalg.matvec(grads, weights, transpose_a=True), weights


def pcgrad_order(k, seed, step):
    """Row ``i``: the random order in which head ``i`` meets the heads, from ``(seed, step)``."""
    seeds = tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])
    noise = tf.random.stateless_uniform((k, k), seed=seeds, alg="philox")
    return tf.argsort(noise, axis=1, stable=True)


def pcgrad(grads, seed=0, step=0):
    """PCGrad, Yu et al. 2020, "Gradient Surgery for Multi-Task Learning", Algorithm 1.

    Each head's gradient is projected, in a random order of the other heads, onto the normal
    plane of every gradient it conflicts with (``g_i -= (g_i . g_j / |g_j|^2) g_j`` when
    ``g_i . g_j < 0``); the direction is the sum of the projected gradients. The order is
    ``pcgrad_order(K, seed, step)``: the same seed and step give the same update.

    Every projection subtracts a multiple of an original row, so the direction is exactly
    ``weights @ grads``; the weights are those coefficients (1 for every head when nothing
    conflicts). Cost: the Gram product, then ``K`` steps of ``O(K^2)``.
    """
    k = grads.shape[0]
    gram, active = head_gram(grads)
    order = pcgrad_order(k, seed, step)
    squares = tf.linalg.diag_part(gram)
    heads = tf.range(k, dtype=order.dtype)
    coefficients = tf.eye(k, dtype=tf.float64)  # row i: projected g_i in terms of the rows
    for position in range(k):
        other = order[:, position]
        pick = tf.one_hot(other, k, dtype=tf.float64)
        inner = tf.reduce_sum(tf.matmul(coefficients, gram) * pick, axis=1)
        conflict = (inner < 0) & (other != heads)
        scale = tf.where(conflict, tf.math.divide_no_nan(inner, tf.gather(squares, other)), 0.0)
        coefficients -= scale[:, None] * pick
    return weighted_direction(grads, tf.reduce_sum(coefficients * active[:, None], axis=0) * active)


def solve_on_support(gram, support, rhs):
    """``x`` with ``G_SS x_S = rhs_S`` (pseudo-inverse) and 0 off the support ``S``.

    ``support`` and ``rhs`` are float ``(..., K)``: a batch of supports, solved at once.
    """
    k = gram.shape[-1]
    fill = tf.reduce_max(tf.linalg.diag_part(gram))
    fill = tf.where(fill > 0, fill, 1.0)
    system = gram * support[..., :, None] * support[..., None, :]
    system += tf.linalg.diag((1.0 - support) * fill)
    return tf.linalg.matvec(tf.linalg.pinv(system, rcond=k * FLOAT32_EPS), rhs * support) * support


def min_norm_two(gram, active):
    """Simplex weights of the min-norm point of the segment between two rows (closed form)."""
    g11, g12, g22 = gram[0, 0], gram[0, 1], gram[1, 1]
    spread = g11 + g22 - 2.0 * g12
    first = tf.clip_by_value((g22 - g12) / tf.where(spread > 0, spread, 1.0), 0.0, 1.0)
    first = tf.where(spread > 0, first, 0.5)
    first = tf.where(active[1] > 0, tf.where(active[0] > 0, first, 0.0), 1.0)
    return tf.stack([first, 1.0 - first]) * active


def min_norm_simplex(gram, active, iterations):
    """Simplex weights of the min-norm point of the rows' convex hull (see ``mgda``)."""
    k = gram.shape[0]
    squares = tf.linalg.diag_part(gram)
    limit = 1e-12 * tf.reduce_max(squares)

    def square_norm(alpha):
        return tf.tensordot(alpha, tf.linalg.matvec(gram, alpha), 1)

    def gap_of(alpha):
        products = tf.linalg.matvec(gram, alpha)
        t = tf.argmin(tf.where(active > 0, products, float("inf")))
        s = tf.argmax(tf.where(alpha > 0, products, -float("inf")))
        return products, t, s, tf.gather(products, s) - tf.gather(products, t)

    def step(alpha, gap):
        products, t, s, gap = gap_of(alpha)
        spread = tf.gather(squares, t) + tf.gather(squares, s) - 2.0 * gram[t, s]
        gamma = tf.clip_by_value(tf.math.divide_no_nan(gap, spread), 0.0, tf.gather(alpha, s))
        move = tf.one_hot(t, k, dtype=tf.float64) - tf.one_hot(s, k, dtype=tf.float64)
        alpha += gamma * move
        exact = solve_on_support(gram, tf.cast(alpha > 0, tf.float64), tf.ones_like(alpha))
        total = tf.reduce_sum(exact)
        exact /= tf.where(total > 0, total, 1.0)
        better = (total > 0) & tf.reduce_all(exact >= -1e-9)
        exact = tf.maximum(exact, 0.0)
        exact /= tf.where(better, tf.reduce_sum(exact), 1.0)
        better &= square_norm(exact) <= square_norm(alpha)
        alpha = tf.where(better, exact, alpha)
        return alpha, gap_of(alpha)[3]

    start = tf.math.divide_no_nan(active, tf.reduce_sum(active))
    alpha, _ = tf.while_loop(
        lambda alpha, gap: gap > limit,
        step,
        (start, gap_of(start)[3]),
        maximum_iterations=iterations,
    )
    return alpha


def mgda(grads, iterations=20):
    """MGDA, Sener & Koltun 2018, "Multi-Task Learning as Multi-Objective Optimization".

    The direction is the min-norm point of the convex hull of the rows
    (``min |sum_k a_k g_k|^2`` over the simplex), which has a non-negative inner product with every
    head's gradient. Two heads: the closed form of Algorithm 1,
    ``a_1 = clip((g_2 - g_1) . g_2 / |g_1 - g_2|^2, 0, 1)``. More: Frank-Wolfe as Algorithm 2,
    from uniform weights, with two changes that make it exact in a few steps where the paper's
    converges as ``O(1 / iterations)``: each step moves weight from the worst row in the support
    to the best row (pairwise), with Algorithm 1's line search on that pair, and then tries the
    exact min-norm point of the support's affine hull (kept if feasible and lower). At most
    ``iterations`` steps, stopping when the duality gap ``max_support (G a) - min (G a)`` is below
    ``1e-12 max |g_k|^2``. Given the gradients of a shared representation instead of the trunk's
    parameters this is MGDA-UB.

    The weights sum to 1 (the direction is on the scale of one head's gradient, not of the sum).
    Cost: the Gram product, then ``O(K^3)`` per iteration.
    """
    gram, active = head_gram(grads)
    if grads.shape[0] == 2:
        return weighted_direction(grads, min_norm_two(gram, active))
    return weighted_direction(grads, min_norm_simplex(gram, active, iterations))


def cagrad_objective(w, gram, toward_mean, radius):
    """CAGrad's ``g_w . g_0 + radius |g_w|`` for simplex weights ``w`` (batched)."""
    norm = tf.sqrt(tf.maximum(tf.reduce_sum(w * tf.linalg.matvec(gram, w), -1), 0.0))
    return tf.reduce_sum(w * toward_mean, -1) + radius * norm


def cagrad_line_search(slope, curvature, cross, square, radius, upper):
    """The ``x`` in ``[0, upper]`` minimising the convex
    ``slope x + radius sqrt(curvature x^2 + 2 cross x + square)``, in closed form."""
    excess = radius * radius * curvature - slope * slope
    safe_curvature = tf.where(curvature > 0, curvature, 1.0)
    rest = tf.maximum(square - cross * cross / safe_curvature, 0.0)
    offset = -tf.sign(slope) * tf.sqrt(
        tf.math.divide_no_nan(slope * slope * rest, safe_curvature * excess)
    )
    inside = tf.clip_by_value(offset - cross / safe_curvature, 0.0, upper)
    return tf.where(excess > 0, inside, tf.where(slope < 0, upper, tf.zeros_like(upper)))


def cagrad_on_support(gram, support, toward_mean, radius):
    """The two stationary points of CAGrad's objective on a support's affine hull.

    On the support, ``a + radius G w / |g_w| = l 1`` gives ``w ~ z = l p - q`` with
    ``p = G_SS^-1 1``, ``q = G_SS^-1 a`` and ``z^T G z = radius^2``: a quadratic in ``l``.
    Returns both candidates ``(2, K)`` (normalised ``z``) and whether each is usable.
    """
    p = solve_on_support(gram, support, tf.ones_like(support))
    q = solve_on_support(gram, support, toward_mean)
    pp = tf.tensordot(p, tf.linalg.matvec(gram, p), 1)
    pq = tf.tensordot(p, tf.linalg.matvec(gram, q), 1)
    qq = tf.tensordot(q, tf.linalg.matvec(gram, q), 1)
    disc = pq * pq - pp * (qq - radius * radius)
    root = tf.sqrt(tf.maximum(disc, 0.0))
    levels = tf.stack([pq + root, pq - root]) / tf.where(pp > 0, pp, 1.0)
    z = levels[:, None] * p[None, :] - q[None, :]
    total = tf.reduce_sum(z, axis=1)
    w = tf.maximum(z / tf.where(total > 0, total, 1.0)[:, None], 0.0)
    usable = (disc >= 0) & (pp > 0) & (total > 0)
    usable &= tf.reduce_all(z >= -1e-9 * tf.abs(total)[:, None], axis=1)
    return w / tf.reduce_sum(w, axis=1, keepdims=True), usable


def cagrad(grads, c=0.5, iterations=20):
    """CAGrad, Liu et al. 2021, "Conflict-Averse Gradient Descent for Multi-task Learning".

    Algorithm 1: with ``g_0`` the mean gradient and ``sqrt(phi) = c |g_0|``, find simplex weights
    ``w`` minimising ``g_w . g_0 + sqrt(phi) |g_w|`` (the dual of its max-min problem), then
    move along ``g_0 + sqrt(phi) / |g_w| g_w``: the direction in the ball of radius ``c |g_0|``
    around the mean that most improves the worst head. ``c = 0`` is the mean gradient; large ``c``
    approaches MGDA. Solved as ``mgda``: pairwise Frank-Wolfe steps with an exact (closed-form)
    line search, each followed by the exact stationary point on the support (kept if feasible
    and lower); at most ``iterations`` steps, stopping when the duality gap is below
    ``1e-12 max |g_k|^2``. The official code solves it with SciPy's SLSQP.

    As in the paper, not the official code, the direction is not divided by ``1 + c^2``: it is
    on the scale of the mean gradient. Cost: the Gram product, then ``O(K^3)`` per iteration.
    """
    k = grads.shape[0]
    gram, active = head_gram(grads)
    squares = tf.linalg.diag_part(gram)
    limit = 1e-12 * tf.reduce_max(squares)
    mean = tf.math.divide_no_nan(active, tf.reduce_sum(active))
    toward_mean = tf.linalg.matvec(gram, mean)  # g_k . g_0
    radius = c * tf.sqrt(tf.maximum(tf.tensordot(mean, toward_mean, 1), 0.0))

    def slopes_of(w):
        products = tf.linalg.matvec(gram, w)
        norm = tf.sqrt(tf.maximum(tf.tensordot(w, products, 1), 0.0))
        slopes = toward_mean + radius * tf.math.divide_no_nan(products, norm)
        t = tf.argmin(tf.where(active > 0, slopes, float("inf")))
        s = tf.argmax(tf.where(w > 0, slopes, -float("inf")))
        return products, norm, t, s, tf.gather(slopes, s) - tf.gather(slopes, t)

    def step(w, gap):
        products, norm, t, s, gap = slopes_of(w)
        gamma = cagrad_line_search(
            tf.gather(toward_mean, t) - tf.gather(toward_mean, s),
            tf.gather(squares, t) + tf.gather(squares, s) - 2.0 * gram[t, s],
            tf.gather(products, t) - tf.gather(products, s),
            norm * norm,
            radius,
            tf.gather(w, s),
        )
        w += gamma * (tf.one_hot(t, k, dtype=tf.float64) - tf.one_hot(s, k, dtype=tf.float64))
        candidates, usable = cagrad_on_support(
            gram, tf.cast(w > 0, tf.float64), toward_mean, radius
        )
        values = tf.where(
            usable, cagrad_objective(candidates, gram, toward_mean, radius), float("inf")
        )
        best = tf.argmin(values)
        better = tf.gather(values, best) <= cagrad_objective(w, gram, toward_mean, radius)
        w = tf.where(better, tf.gather(candidates, best), w)
        return w, slopes_of(w)[4]

    w, _ = tf.while_loop(
        lambda w, gap: gap > limit,
        step,
        (mean, slopes_of(mean)[4]),
        maximum_iterations=iterations,
    )
    norm = tf.sqrt(tf.maximum(tf.tensordot(w, tf.linalg.matvec(gram, w), 1), 0.0))
    return weighted_direction(grads, mean + tf.math.divide_no_nan(radius, norm) * w)


def imtl_g(grads):
    """IMTL-G, Liu et al. 2021, "Towards Impartial Multi-task Learning", its gradient balance.

    The weighted sum, with weights summing to 1, whose projection onto every head's unit
    gradient is the same. Computed as ``v = pinv(G) |g|`` normalised to sum 1, which equals the
    paper's closed form ``a_{2:K} = g_1 U^T (D U^T)^-1`` (``D``, ``U``: differences of the
    gradients and of the unit gradients to the first) for independent gradients and extends it
    to dependent ones, as torchjd does; weights 0 where ``sum(v)`` is 0 (exactly opposed
    gradients). Weights may be negative. Cost: the Gram product, an ``O(K^3)`` pseudo-inverse.
    """
    gram, active = head_gram(grads)
    k = grads.shape[0]
    norms = tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), 0.0))
    v = tf.linalg.matvec(tf.linalg.pinv(gram, rcond=k * FLOAT32_EPS), norms) * active
    total = tf.reduce_sum(v)
    usable = tf.abs(total) > 1e-9 * tf.reduce_sum(tf.abs(v))
    return weighted_direction(
        grads, tf.where(usable, v / tf.where(usable, total, 1.0), tf.zeros_like(v))
    )


def aligned_mtl(grads):
    """Aligned-MTL, Senushkin et al. 2023, "Independent Component Alignment for Multi-Task
    Learning", Algorithm 1.

    Replaces the rows by ``sigma_min U V^T`` (every singular value of the gradient matrix set to
    the smallest non-zero one: a perfectly conditioned system) and sums them. From the Gram
    eigendecomposition ``G = Q L Q^T``: ``B = sqrt(l_min) Q L^-1/2 Q^T`` and weights ``B 1`` (as the
    official code: summed, on the scale of the sum of the rows). Eigenvalues below
    ``K eps_float32 l_max`` count as zero. Cost: the Gram product, an ``O(K^3)`` eigensolve.
    """
    gram, active = head_gram(grads)
    k = grads.shape[0]
    values, vectors = tf.linalg.eigh(gram)
    kept = values > tf.reduce_max(values) * k * FLOAT32_EPS
    smallest = tf.reduce_min(tf.where(kept, values, float("inf")))
    scale = tf.where(tf.reduce_any(kept), tf.sqrt(smallest), 0.0)
    inverse_roots = tf.where(kept, tf.math.rsqrt(tf.where(kept, values, 1.0)), 0.0)
    balance = tf.matmul(vectors * inverse_roots, vectors, transpose_b=True) * scale
    return weighted_direction(grads, tf.linalg.matvec(balance, active) * active)


def nash_mtl(grads, iterations=20):
    """Nash-MTL, Navon et al. 2022, "Multi-Task Learning as a Bargaining Game", Algorithm 1.

    The Nash bargaining solution ``a > 0`` with ``G a = 1 / a``, direction ``a @ grads``,
    whose norm is ``sqrt(K)``. Instead of the paper's sequence of convex programs, ``a`` is the
    unique minimiser of the self-concordant ``a^T G a / 2 - sum(log a)``, whose stationarity
    condition is that equation, found by damped Newton (Nesterov: step ``/ (1 + decrement)``, stays
    positive, quadratic near the solution) from ``a_k ~ 1 / |g_k|``: at most ``iterations`` steps,
    stopping when the Newton decrement is below ``1e-9`` (then ``|a_k (G a)_k - 1| < ~1e-9``).
    ``G``'s eigenvalues are clipped at 0 (float32 rounding can leave it slightly indefinite) and
    ``1e-12 max |g_k|^2`` is added to its diagonal, so a solution exists even for exactly opposed
    heads, where the paper's has none; the weights are then large and the direction short.
    The official code also caps the direction's norm (``max_norm``); this does not.
    Cost: the Gram product, an ``O(K^3)`` eigensolve, then ``O(K^3)`` per iteration.
    """
    gram, active = head_gram(grads)
    k = grads.shape[0]
    largest = tf.reduce_max(tf.linalg.diag_part(gram))
    largest = tf.where(largest > 0, largest, 1.0)
    system = gram / largest * active[:, None] * active[None, :] + tf.linalg.diag(1.0 - active)
    values, vectors = tf.linalg.eigh(system)
    system = tf.matmul(vectors * tf.maximum(values, 0.0), vectors, transpose_b=True)
    system += 1e-12 * tf.eye(k, dtype=tf.float64)
    start = tf.math.rsqrt(tf.linalg.diag_part(system))
    start *= tf.sqrt(k / tf.tensordot(start, tf.linalg.matvec(system, start), 1))
    identity = tf.eye(k, dtype=tf.float64)

    def step(alpha, decrement):
        slope = tf.linalg.matvec(system, alpha) - 1.0 / alpha
        # The Hessian G + D^-2 (D = diag(a)) is D^-1 (D G D + I) D^-1, and D G D + I >= I.
        scaled = system * alpha[:, None] * alpha[None, :] + identity
        solved = tf.linalg.cholesky_solve(tf.linalg.cholesky(scaled), (alpha * slope)[:, None])
        newton = alpha * solved[:, 0]
        decrement = tf.sqrt(tf.maximum(tf.tensordot(slope, newton, 1), 0.0))
        return alpha - newton / (1.0 + decrement), decrement

    alpha, _ = tf.while_loop(
        lambda alpha, decrement: decrement > 1e-9,
        step,
        (start, tf.constant(float("inf"), tf.float64)),
        maximum_iterations=iterations,
    )
    return weighted_direction(grads, alpha * active * tf.math.rsqrt(largest))


def upgrad(grads, iterations=100):
    """UPGrad, Quinton & Rey 2024, "Jacobian Descent for Multi-Objective Optimization".

    The mean of each head's gradient projected onto the dual cone of the rows (the directions
    that conflict with no head), so the direction has a non-negative inner product with every
    head's gradient. By their Proposition 1 the projection of ``g_i`` is ``v @ grads`` with
    ``v = argmin v^T G v`` subject to ``v >= e_i``. The ``K`` problems are solved together by
    cyclic coordinate descent (each weight in turn set to its optimum, clipped at its bound),
    each sweep followed by the exact solution on the free weights (kept if feasible and lower):
    at most ``iterations`` sweeps, stopping when a sweep changes no weight by more than
    ``1e-12 / K``. Weights sum to at least 1 (the scale of the mean gradient).
    Cost: the Gram product, then ``O(K^3)`` per sweep (``O(K^4)`` with the exact solutions).
    """
    gram, active = head_gram(grads)
    k = grads.shape[0]
    squares = tf.linalg.diag_part(gram)
    bounds = tf.linalg.diag(tf.math.divide_no_nan(active, tf.reduce_sum(active)))

    def energy(weights):
        return tf.reduce_sum(weights * tf.matmul(weights, gram), axis=1)

    def sweep(weights, change):
        before = weights
        for j in range(k):
            column = tf.linalg.matvec(weights, gram[:, j])
            best = weights[:, j] - column / tf.where(squares[j] > 0, squares[j], 1.0)
            best = tf.where(squares[j] > 0, tf.maximum(bounds[:, j], best), bounds[:, j])
            weights += (best - weights[:, j])[:, None] * tf.one_hot(j, k, dtype=tf.float64)
        free = tf.cast(weights > bounds, tf.float64)
        exact = bounds + solve_on_support(gram, free, -tf.matmul(bounds, gram))
        better = tf.reduce_all(exact >= bounds - 1e-9 * tf.reduce_max(bounds), axis=1)
        better &= energy(exact) <= energy(weights)
        weights = tf.where(better[:, None], tf.maximum(exact, bounds), weights)
        return weights, tf.reduce_max(tf.abs(weights - before))

    weights, _ = tf.while_loop(
        lambda weights, change: change > 1e-12 / k,
        sweep,
        (bounds, tf.constant(float("inf"), tf.float64)),
        maximum_iterations=iterations,
    )
    return weighted_direction(grads, tf.reduce_sum(weights, axis=0) * active)


def gradnorm(grads, weights):
    """GradNorm's update direction: ``(weights @ grads, weights)`` for the current weights.

    The weights themselves follow ``gradnorm_update``. Cost: one ``O(K P)`` combination.
    """
    return weighted_direction(grads, weights)


def gradnorm_update(weights, grad_norms, losses, initial_losses, alpha=1.5, lr=0.025):
    """One GradNorm step on the loss weights, Chen et al. 2018, "GradNorm", Section 3.

    ``grad_norms`` are the unweighted per-head gradient norms ``|grad_W L_k|``, so
    ``G_k = w_k |grad_W L_k|``. With the inverse training rates ``r_k = L~_k / mean(L~)``,
    ``L~_k = L_k / L_k(0)``, the GradNorm loss is ``sum_k |G_k - mean(G) r_k^alpha|`` with the
    target held constant, whose gradient is ``sign(G_k - target_k) |grad_W L_k|``. One plain
    gradient-descent step of size ``lr``; weights are kept above ``1e-3`` and renormalised to
    sum to ``K``. Returns the new weights. Cost: ``O(K)`` given the norms.
    """
    weights = tf.cast(weights, tf.float32)
    grad_norms = tf.cast(grad_norms, tf.float32)
    ratios = tf.math.divide_no_nan(tf.cast(losses, tf.float32), tf.cast(initial_losses, tf.float32))
    rates = tf.math.divide_no_nan(ratios, tf.reduce_mean(ratios))
    norms = weights * grad_norms
    target = tf.stop_gradient(tf.reduce_mean(norms) * rates**alpha)
    stepped = tf.maximum(weights - lr * tf.sign(norms - target) * grad_norms, 1e-3)
    return stepped * tf.cast(tf.size(stepped), tf.float32) / tf.reduce_sum(stepped)


GRADIENT_METHODS = {
    "pcgrad": pcgrad,
    "gradnorm": gradnorm,
    "mgda": mgda,
    "cagrad": cagrad,
    "imtl_g": imtl_g,
    "aligned_mtl": aligned_mtl,
    "nash_mtl": nash_mtl,
    "upgrad": upgrad,
}

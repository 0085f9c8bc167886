"""Loss-based balancing of the heads, and schedules of a head's base weight over the epochs.

Each method turns the heads' unweighted loss terms into one total from the loss values alone,
so it costs one backward pass like a fixed weighted sum. Per-head values come and go as dicts
keyed by head name, in the order of the heads. A returned weight is the factor by which the
total changes with that head's loss (the derivative of the total by the loss): what the head
effectively weighs in the step.

A head's loss is exactly 0 in a batch that holds no labelled row for it (the masked mean of
nothing). Methods that take the log of a loss or divide by it leave such a head out of that
batch instead of producing -inf or nan; each function says how.
"""

import math

import keras
import tensorflow as tf
from keras import ops

#: The loss-based balancing methods defined here.
LOSS_METHODS = ("uw", "dwa", "rlw", "gls", "famo")

#: Schedules of a head's base weight over the epochs, with their parameters and defaults.
WEIGHT_SCHEDULES = {
    "constant": {},
    "linear_warmup": {"start": 0.0, "warmup": 5},
    "step": {"gamma": 0.5, "every": 10},
    "cosine": {"minimum": 0.0},
}


def stack_heads(values, heads):
    """The heads' scalar values (tensors, variables or floats) as one float32 vector."""
    return ops.stack([ops.cast(ops.convert_to_tensor(values[head]), "float32") for head in heads])


def labelled_heads(losses):
    """Boolean vector: True where a head's loss is above 0 (it had labelled rows)."""
    return ops.greater(losses, 0.0)


def uncertainty_log_vars(heads):
    """The trainable log variances ``s_k = log sigma_k^2`` of ``uw``, one per head, all 0."""
    return {
        head: keras.Variable(0.0, dtype="float32", name=f"log_var_{head}".replace("/", "_"))
        for head in heads
    }


def uncertainty_total(losses, log_vars):
    """``uw`` uncertainty weighting: ``total = sum_k exp(-s_k) * L_k + s_k``.

    Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene
    Geometry and Semantics", CVPR 2018, eq. 7 written with ``s_k = log sigma_k^2`` (their
    sec. 3.2) and the factor 1/2 dropped. LibMTL's ``UW`` keeps it, ``sum 1/2 (exp(-s) L + s)``
    with ``s`` starting at -0.5: the same optimum (``s_k = log L_k``, weight ``1 / L_k``) at
    twice our gradient scale. Here ``s`` starts at 0, so the first steps equal the plain sum,
    and every head gets the same form whatever its loss (no likelihood is assumed).

    ``log_vars`` are trainable variables (``uncertainty_log_vars``) that the optimizer trains
    with the model. A head whose loss is 0 in the batch (no labelled row) adds no ``s_k``
    term, so its ``s_k`` does not drift down while it has no labels. Returns the total and
    the weights ``exp(-s_k)``. Cost: one backward pass, one extra variable per head.
    """
    heads = list(losses)
    values = stack_heads(losses, heads)
    log_vars_now = stack_heads(log_vars, heads)
    factors = ops.exp(-log_vars_now)
    present = ops.cast(labelled_heads(values), "float32")
    total = ops.sum(factors * values + present * log_vars_now)
    factors = ops.stop_gradient(factors)
    return total, {head: factors[i] for i, head in enumerate(heads)}


def dwa_weights(previous, before_previous, temperature=2.0, heads=None):
    """``dwa`` dynamic weight average: ``w_k = K exp(r_k / T) / sum_j exp(r_j / T)``.

    Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019, eq. 7,
    with ``r_k = L_k(t-1) / L_k(t-2)`` the ratio of a head's mean training loss over the two
    epochs before; as in the paper and LibMTL's ``DWA``, the weights sum to K. Called at an
    epoch's end with the epoch-mean losses (dicts head -> float) of the epoch just finished
    (``previous``) and the one before (``before_previous``); either is None in the first two
    epochs, which get equal weights 1 (pass ``heads`` then). A ratio that cannot be formed
    from two finite losses above 0 (a head without a labelled row in an epoch) counts as 1.
    Returns a dict head -> float. Cost: none per step (one softmax per epoch).
    """
    if not temperature > 0:
        raise ValueError(f"the dwa temperature must be above 0, got {temperature}")
    if heads is None:
        if previous is None:
            raise ValueError("dwa_weights needs the heads: pass heads=[...] before two epochs")
        heads = list(previous)
    heads = list(heads)
    if previous is None or before_previous is None or not heads:
        return {head: 1.0 for head in heads}
    ratios = []
    for head in heads:
        now, before = previous.get(head), before_previous.get(head)
        usable = now is not None and before is not None and math.isfinite(now)
        usable = usable and math.isfinite(before) and now > 0 and before > 0
        ratios.append(now / before if usable else 1.0)
    top = max(ratios) / temperature
    powers = [math.exp(r / temperature - top) for r in ratios]
    scale = len(heads) / sum(powers)
    return {head: scale * p for head, p in zip(heads, powers, strict=True)}


def random_weights(heads, seed, step):
    """``rlw`` random loss weighting: ``w = K softmax(x)``, ``x ~ N(0, I)`` drawn every step.

    Lin, Ye, Xu, Shi & Zhang, "Reasonable Effectiveness of Random Weighting: A Litmus Test for
    Multi-Task Learning", TMLR 2022, sec. 3 (normal distribution, softmax). The paper and
    LibMTL's ``RLW`` use the softmax itself (weights summing to 1); here it is scaled by the
    number of heads K so that the weights sum to K, like the default weights 1 of a plain
    sum, and a switch to ``rlw`` does not shrink the step by K. The draw is stateless, seeded
    by ``(seed, step)``: the same seed and step give the same weights, in any run and on every
    replica. ``step`` may be a tensor (the optimizer's iteration count). (A step compiled
    with XLA, Keras' default on a GPU, draws other numbers than one that is not.) Returns a
    dict head -> scalar tensor. Cost: one backward pass.
    """
    heads = list(heads)
    pair = ops.stack([ops.cast(seed, "int64"), ops.cast(step, "int64")])
    draws = tf.random.stateless_normal((len(heads),), seed=pair, dtype="float32")
    weights = len(heads) * ops.softmax(draws)
    return {head: weights[i] for i, head in enumerate(heads)}


def geometric_total(losses):
    """``gls`` geometric loss strategy: ``total = (prod_k L_k)^(1/K)``.

    Chennupati, Sistu, Yogamani & Rawashdeh, "MultiNet++: Multi-Stream Feature Aggregation
    and Geometric Loss Strategy for Multi-Task Learning", CVPR Workshops 2019, eq. 3; computed
    as ``exp(mean_k log L_k)``, which neither overflows nor underflows. The effective weight is
    ``d total / d L_k = total / (K L_k)``: the head with the smaller loss weighs more. (LibMTL's
    ``GLS`` reports ``L_k / (K prod L)`` as the weight, which is not this derivative.)

    A head whose loss is 0 in the batch (no labelled row) would make the product 0 and stop
    every head; it is left out of the batch's product instead, K counting the others, and its
    weight is 0. With no head above 0 the total is 0. Returns the total and the weights.
    Cost: one backward pass.
    """
    heads = list(losses)
    values = stack_heads(losses, heads)
    present = labelled_heads(values)
    count = ops.sum(ops.cast(present, "float32"))
    logs = ops.where(present, ops.log(ops.where(present, values, 1.0)), 0.0)
    total = ops.where(count > 0, ops.exp(ops.divide_no_nan(ops.sum(logs), count)), 0.0)
    safe = ops.where(present, values, 1.0)
    weights = ops.where(present, ops.stop_gradient(total) / (count * safe), 0.0)
    return total, {head: weights[i] for i, head in enumerate(heads)}


def famo_logits(heads):
    """The logits ``xi`` of ``famo``, one per head, all 0: changed by ``famo_update`` only."""
    return {
        head: keras.Variable(
            0.0,
            dtype="float32",
            trainable=False,
            aggregation="only_first_replica",
            name=f"famo_logit_{head}".replace("/", "_"),
        )
        for head in heads
    }


def famo_moments(heads):
    """The Adam state of the ``famo`` logits (first and second moments, step count), all 0."""

    def zeros(what):
        return {
            head: keras.Variable(
                0.0,
                dtype="float32",
                trainable=False,
                aggregation="only_first_replica",
                name=f"famo_{what}_{head}".replace("/", "_"),
            )
            for head in heads
        }

    step = keras.Variable(
        0.0, dtype="float32", trainable=False, aggregation="only_first_replica", name="famo_step"
    )
    return {"first": zeros("first"), "second": zeros("second"), "step": step}


def famo_total(losses, logits, epsilon=1e-8):
    """``famo`` total: ``c sum_k z_k log(L_k + eps)``, ``z = softmax(xi)``,
    ``c = 1 / sum_k (z_k / (L_k + eps))``.

    Liu, Feng, Stone & Liu, "FAMO: Fast Adaptive Multitask Optimization", NeurIPS 2023,
    Algorithm 1: the parameters move along ``c sum_k (z_k / L_k) grad L_k``, the gradient of
    this total with ``c`` held fixed. ``eps = 1e-8`` and the loss floor 0 are the authors' (their
    ``min_losses`` are 0 unless set). The effective weight of head k is ``c z_k / (L_k + eps)``;
    the weights sum to 1.
    A head whose loss is 0 in the batch (no labelled row) is left out of the sum and of ``c``
    (with eps alone, ``c`` would become ~1e-8 and stop every other head); its weight is 0.
    The total is a weighted sum of logs: it can be negative and is not on the scale of the
    losses. Returns the total and the weights. Cost: one backward pass; ``famo_update`` adds
    one forward pass per step.
    """
    heads = list(losses)
    values = stack_heads(losses, heads)
    present = labelled_heads(values)
    shares = ops.softmax(ops.stop_gradient(stack_heads(logits, heads)))
    shifted = ops.where(present, values, 1.0) + epsilon
    ratios = ops.where(present, shares / shifted, 0.0)
    scale = ops.stop_gradient(ops.divide_no_nan(1.0, ops.sum(ratios)))
    total = scale * ops.sum(ops.where(present, shares * ops.log(shifted), 0.0))
    weights = ops.stop_gradient(scale * ratios)
    return total, {head: weights[i] for i, head in enumerate(heads)}


def famo_update(logits, previous_losses, new_losses, lr=0.025, decay=1e-3, moments=None):
    """One ``famo`` step of the logits, after the optimizer's step.

    ``previous_losses`` are the heads' losses before the step (what ``famo_total`` saw),
    ``new_losses`` those of the same batch after it. Algorithm 1 of Liu et al. 2023:
    ``delta = J_z^T [log L_k(t) - log L_k(t+1)]_k = z * (d - z.d)`` with ``z = softmax(xi)``,
    and ``xi <- xi - lr (delta + decay xi)``. A head whose loss is 0 before or after (no
    labelled row) has ``d_k = 0``. Without ``moments`` the step is that plain one; with
    ``moments`` (``famo_moments``) ``delta + decay xi`` goes through Adam (betas 0.9, 0.999,
    eps 1e-8) as in the authors' code and LibMTL's ``FAMO``, which the defaults lr 0.025 and
    decay 1e-3 were tuned for (the plain step moves the logits far more slowly). Cost: the
    new losses need one more forward pass per step; no backward pass.
    """
    epsilon = 1e-8
    heads = list(logits)
    before = stack_heads(previous_losses, heads)
    after = stack_heads(new_losses, heads)
    present = ops.logical_and(labelled_heads(before), labelled_heads(after))
    drops = ops.where(
        present,
        ops.log(ops.where(present, before, 1.0) + epsilon)
        - ops.log(ops.where(present, after, 1.0) + epsilon),
        0.0,
    )
    current = stack_heads(logits, heads)
    shares = ops.softmax(current)
    gradient = shares * (drops - ops.sum(shares * drops)) + decay * current
    if moments is None:
        change = lr * gradient
    else:
        beta1, beta2 = 0.9, 0.999
        step = moments["step"].value + 1.0
        moments["step"].assign(step)
        first = beta1 * stack_heads(moments["first"], heads) + (1.0 - beta1) * gradient
        second = beta2 * stack_heads(moments["second"], heads) + (1.0 - beta2) * gradient**2
        for i, head in enumerate(heads):
            moments["first"][head].assign(first[i])
            moments["second"][head].assign(second[i])
        corrected_first = first / (1.0 - ops.power(beta1, step))
        corrected_second = second / (1.0 - ops.power(beta2, step))
        change = lr * corrected_first / (ops.sqrt(corrected_second) + epsilon)
    updated = current - change
    for i, head in enumerate(heads):
        logits[head].assign(updated[i])


def scheduled_weight(kind, base, epoch, epochs, **params):
    """A head's weight in epoch ``epoch`` (0-based) of ``epochs``, following a schedule.

    - ``constant``: ``base``.
    - ``linear_warmup`` (``start``, ``warmup``): from ``start * base`` in epoch 0 to ``base``
      in epoch ``warmup`` and after, in equal steps.
    - ``step`` (``gamma``, ``every``): ``base * gamma ** (epoch // every)``.
    - ``cosine`` (``minimum``): from ``base`` in the first epoch to ``minimum * base`` in the
      last, along half a cosine; ``minimum * base`` after the last (training extended).

    ``start`` and ``minimum`` are fractions of the base, so a schedule keeps its shape when
    the base weight changes.

    Parameters left out take their defaults from ``WEIGHT_SCHEDULES``. Plain floats, called
    at the start of each epoch; costs nothing per step.
    """
    if kind not in WEIGHT_SCHEDULES:
        raise ValueError(
            f"unknown weight schedule {kind!r}; choose one of {', '.join(WEIGHT_SCHEDULES)}"
        )
    unknown = sorted(set(params) - set(WEIGHT_SCHEDULES[kind]))
    if unknown:
        allowed = ", ".join(WEIGHT_SCHEDULES[kind]) or "none"
        raise ValueError(
            f"the {kind} schedule has no parameter {', '.join(unknown)}; its parameters: {allowed}"
        )
    if epoch < 0 or epochs < 1:
        raise ValueError(f"epoch must be >= 0 and epochs >= 1, got epoch {epoch} of {epochs}")
    values = {**WEIGHT_SCHEDULES[kind], **params}
    base = float(base)
    if kind == "linear_warmup":
        if values["warmup"] < 0:
            raise ValueError(f"warmup must be >= 0 epochs, got {values['warmup']}")
        if epoch >= values["warmup"]:
            return base
        start = float(values["start"]) * base
        return start + (base - start) * epoch / values["warmup"]
    if kind == "step":
        if values["every"] < 1 or values["gamma"] < 0:
            raise ValueError(
                f"the step schedule needs every >= 1 and gamma >= 0, got every "
                f"{values['every']} and gamma {values['gamma']}"
            )
        return base * float(values["gamma"]) ** (epoch // int(values["every"]))
    if kind == "cosine":
        minimum = float(values["minimum"]) * base
        progress = min(1.0, epoch / (epochs - 1) if epochs > 1 else float(epoch))
        return minimum + (base - minimum) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return base


class LossBalancing:
    """A loss-based method as a model's balancer (``MultiHeadModel.balance_with``).

    ``total(losses, model, training)`` gets the heads' weighted losses over the whole batch
    (dict head -> scalar, no gradient) and returns the method's total and each head's weight
    (the derivative of the total by that loss). ``trainable`` lists variables the step trains
    along with the model; ``own_step`` is True when the model's step must call
    ``after_step`` or train them.
    """

    own_step = False

    def __init__(self, heads):
        self.heads = list(heads)
        self.trainable = []

    def prepare(self, model):
        """Called once the model is compiled (and under its distribution strategy)."""

    def total(self, losses, model, training):
        raise NotImplementedError

    def start_epoch(self, epoch):
        """Called as each epoch begins (``LossWeightSchedule``)."""

    def end_epoch(self, epoch, logs):
        """Called with each epoch's logs as it ends (``LossWeightSchedule``)."""

    def after_step(self, model, x, y, sample_weight, before):
        """Called after each optimizer step with the weighted losses the step saw."""


class UncertaintyWeighting(LossBalancing):
    """``uw``: see ``uncertainty_total``. The model's optimizer trains the log variances with
    the model's weights (it is built for both; the model does not save them)."""

    own_step = True

    def __init__(self, heads):
        super().__init__(heads)
        self.log_vars = uncertainty_log_vars(self.heads)
        self.trainable = list(self.log_vars.values())

    def prepare(self, model):
        if model.optimizer.built:
            raise ValueError("balance_with(UncertaintyWeighting(...)) must come before training")
        model.optimizer.build(list(model.trainable_variables) + self.trainable)

    def total(self, losses, model, training):
        return uncertainty_total(losses, {head: self.log_vars[head] for head in losses})


class DynamicWeightAverage(LossBalancing):
    """``dwa``: see ``dwa_weights``; the weights change as each epoch begins."""

    def __init__(self, heads, temperature=2.0):
        super().__init__(heads)
        self.temperature = temperature
        self.epoch_losses = []
        self.weights = {
            head: keras.Variable(1.0, trainable=False, name=f"dwa_weight_{head}")
            for head in self.heads
        }

    def total(self, losses, model, training):
        weights = {head: self.weights[head] for head in losses}
        return sum(weights[head] * losses[head] for head in losses), weights

    def end_epoch(self, epoch, logs):
        self.epoch_losses.append({head: logs.get(f"{head}_loss") for head in self.heads})

    def start_epoch(self, epoch):
        previous = self.epoch_losses[-1] if self.epoch_losses else None
        before = self.epoch_losses[-2] if len(self.epoch_losses) > 1 else None
        weights = dwa_weights(previous, before, self.temperature, heads=self.heads)
        for head, weight in weights.items():
            self.weights[head].assign(weight)


class RandomLossWeighting(LossBalancing):
    """``rlw``: see ``random_weights``, drawn from the seed and the optimizer's step count."""

    def __init__(self, heads, seed=0):
        super().__init__(heads)
        self.seed = seed

    def total(self, losses, model, training):
        weights = random_weights(list(losses), self.seed, model.optimizer.iterations)
        return sum(weights[head] * losses[head] for head in losses), weights


class GeometricLossStrategy(LossBalancing):
    """``gls``: see ``geometric_total``."""

    def total(self, losses, model, training):
        return geometric_total(losses)


class Famo(LossBalancing):
    """``famo``: see ``famo_total``; ``famo_update`` after each step, on the same batch's
    losses computed again in training mode (as in the authors' code)."""

    own_step = True

    def __init__(self, heads, lr=0.025, decay=1e-3):
        super().__init__(heads)
        self.lr, self.decay = lr, decay
        self.logits = famo_logits(self.heads)
        self.moments = famo_moments(self.heads)

    def total(self, losses, model, training):
        return famo_total(losses, {head: self.logits[head] for head in losses})

    def after_step(self, model, x, y, sample_weight, before):
        terms, _ = model.loss_terms(y, model(x, training=True), sample_weight)
        after = model.whole_losses(terms)
        logits = {head: self.logits[head] for head in before}
        famo_update(logits, before, after, self.lr, self.decay, self.moments)


class LossWeightSchedule(keras.callbacks.Callback):
    """Sets each head's loss weight as every epoch begins, from its base weight and schedule
    (``scheduled_weight``), and tells the model's balancer that epochs begin and end.

    ``base``: head -> base weight; ``schedules``: head -> ``(kind, params)``, constant when
    left out; ``epochs``: the run's length (for ``cosine``). ``set_base`` gives heads new base
    weights during training, applied at once; it returns those it applied.
    """

    def __init__(self, base, schedules=None, epochs=1):
        super().__init__()
        self.base = {head: float(weight) for head, weight in base.items()}
        self.schedules = dict(schedules or {})
        self.epochs = epochs
        self.epoch = 0

    def weight(self, head, epoch):
        """The weight of ``head`` in ``epoch`` (0-based)."""
        kind, params = self.schedules.get(head, ("constant", {}))
        return scheduled_weight(kind, self.base[head], epoch, self.epochs, **params)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.model.head_weights.assign({head: self.weight(head, epoch) for head in self.base})
        if getattr(self.model, "balancer", None) is not None:
            self.model.balancer.start_epoch(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if getattr(self.model, "balancer", None) is not None:
            self.model.balancer.end_epoch(epoch, logs or {})

    def set_base(self, weights):
        applied = {head: float(value) for head, value in weights.items() if head in self.base}
        self.base.update(applied)
        self.model.head_weights.assign({head: self.weight(head, self.epoch) for head in applied})
        return applied

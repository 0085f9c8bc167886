"""Gradient-based balancing inside a model's training step (TensorFlow).

Each head's weighted loss is differentiated on its own (``K`` backward passes). The variables
that more than one head's loss reaches are the shared trunk's: their per-head gradients form
the ``(K, P)`` rows an aggregator of ``gradient_balancing`` combines into one direction. Every
other variable belongs to one head and gets that head's own gradient; regularization adds its
gradient to every variable. One optimizer step applies it all.

Under ``tf.distribute`` the rows are summed over the replicas before aggregating, so every
replica combines the gradients of the whole batch (aggregating each replica's own rows and
adding the directions would not equal the one-device step: the aggregators are not linear).
"""

import math

import keras
import tensorflow as tf


def per_head_gradients(tape, losses, variables):
    """Each loss's gradient with respect to ``variables``, flattened: a ``(K, P)`` tensor.

    ``tape`` is a persistent ``tf.GradientTape`` that recorded ``losses`` (``K`` scalars); a
    variable a loss does not reach gives zeros. Costs ``K`` backward passes.
    """
    return flat_rows([tape.gradient(loss, variables) for loss in losses], variables)


def flat_rows(gradients, variables):
    """Per-loss gradient lists (``None`` where a loss does not reach a variable) as one
    ``(K, P)`` tensor, each row the loss's gradients flattened and joined."""
    rows = []
    for parts in gradients:
        flat = [
            tf.zeros([math.prod(v.shape)], v.dtype)
            if g is None
            else tf.reshape(tf.convert_to_tensor(g), [-1])
            for g, v in zip(parts, variables, strict=True)
        ]
        rows.append(tf.concat(flat, 0))
    return tf.stack(rows)


def split_like(direction, variables):
    """``direction`` ``(P,)`` cut into tensors shaped like ``variables`` (``apply_gradients``)."""
    parts = tf.split(direction, [math.prod(v.shape) for v in variables])
    return [tf.reshape(part, v.shape) for part, v in zip(parts, variables, strict=True)]


def shared_indices(gradients):
    """Positions of the variables that more than one loss reaches (``None`` elsewhere)."""
    count = len(gradients[0]) if gradients else 0
    return [i for i in range(count) if sum(parts[i] is not None for parts in gradients) > 1]


class GradientBalancing:
    """A gradient-based method as a model's balancer (``MultiHeadModel.balance_with``).

    ``aggregate`` is the method's function of ``gradient_balancing`` (``pcgrad``, ``mgda``…),
    ``params`` its parameters; ``gradnorm`` also takes ``update`` (``gradnorm_update``) and
    its ``alpha`` and ``lr``. ``pcgrad`` draws its order from ``seed`` and the optimizer's
    step count. The weight logged for a head is the factor of its loss's gradient in the
    shared layers' update. Validation (and the logged ``loss``) use the weighted sum.
    """

    own_step = True
    trainable = []

    def __init__(self, method, aggregate, heads, seed=0, update=None, **params):
        self.method = method
        self.aggregate = aggregate
        self.heads = list(heads)
        self.seed = seed
        self.update = update
        self.params = params
        if method == "gradnorm":

            def variable(value, what, head):
                return keras.Variable(
                    value,
                    trainable=False,
                    dtype="float32",
                    aggregation="only_first_replica",
                    name=f"gradnorm_{what}_{head}",
                )

            self.weights = {head: variable(1.0, "weight", head) for head in self.heads}
            self.initial = {head: variable(0.0, "initial_loss", head) for head in self.heads}

    def prepare(self, model):
        """Called once the model is compiled."""

    def start_epoch(self, epoch):
        """Nothing changes between epochs."""

    def end_epoch(self, epoch, logs):
        """Nothing changes between epochs."""

    def total(self, losses, model, training):
        """The weighted sum (used for validation, where no step is taken)."""
        return sum(losses.values()), {head: 1.0 for head in losses}

    def combine(self, rows, model, heads, terms):
        """The update direction and the heads' weights for the rows of the whole batch."""
        if self.method == "pcgrad":
            return self.aggregate(rows, seed=self.seed, step=model.optimizer.iterations)
        if self.method != "gradnorm":
            return self.aggregate(rows, **self.params)
        weights = tf.stack([self.weights[head].value for head in heads])
        direction, used = self.aggregate(rows, weights)
        losses = model.whole_losses(terms, weighted=False)
        losses = tf.stack([losses[head] for head in heads])
        initial = tf.stack([self.initial[head].value for head in heads])
        initial = tf.where(initial > 0, initial, losses)  # L(0): a head's first labelled step
        new = self.update(weights, tf.norm(rows, axis=1), losses, initial, **self.params)
        for i, head in enumerate(heads):
            self.initial[head].assign(initial[i])
            self.weights[head].assign(new[i])
        return direction, used

    def train_step(self, model, data):
        """One step: per-head gradients, the shared layers' direction, one optimizer step."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape(persistent=True) as tape:
            y_pred = model(x, training=True)
            terms, _ = model.loss_terms(y, y_pred, sample_weight)
            model.track_terms(terms, y_pred)
            heads = list(terms)
            if len(heads) < 2:
                raise ValueError(
                    f"{self.method} combines the gradients of two or more heads, but "
                    f"{len(heads)} head(s) have a loss; give another head a loss or use fixed "
                    "weights"
                )
            weighted = [model.head_weights[head] * terms[head] for head in heads]
            regularization = model.regularization()
            loss = sum(weighted) + regularization
            model.track_loss(loss, x)
            # Mixed precision scales losses (and so gradients) up; the aggregators see true
            # gradients and the optimizer gets scaled ones, as it expects.
            scale = model.optimizer.scale_loss(tf.ones((), "float32"))
            scaled = [scale * value for value in weighted]
            scaled_regularization = scale * regularization
        variables = list(model.trainable_variables)
        gradients = [tape.gradient(value, variables) for value in scaled]
        shared = shared_indices(gradients)
        if not shared:
            raise ValueError(
                f"{self.method} balances the heads' gradients on the layers they share, but "
                "no layer is trained by two heads' losses; give the heads a shared trunk or "
                "use fixed weights"
            )
        shared_variables = [variables[i] for i in shared]
        rows = flat_rows([[parts[i] for i in shared] for parts in gradients], shared_variables)
        rows = model.sum_over_replicas(rows / scale)
        direction, weights = self.combine(rows, model, heads, terms)
        # The optimizer adds the replicas' gradients: each gives its share of the direction.
        share = split_like(direction * scale / model.replicas(), shared_variables)
        parts = dict(zip(shared, share, strict=True))
        extra = [None] * len(variables)
        if model.losses:
            extra = tape.gradient(scaled_regularization, variables)
        del tape
        combined = []
        for i in range(len(variables)):
            own = [g[i] for g in gradients if g[i] is not None]
            gradient = parts[i] if i in parts else (sum(own[1:], own[0]) if own else None)
            if extra[i] is not None:
                gradient = extra[i] if gradient is None else gradient + extra[i]
            combined.append(gradient)
        model.optimizer.apply_gradients(zip(combined, variables, strict=True))
        model.weight_tracker.update_state(
            {head: weights[i] * model.head_weights[head] for i, head in enumerate(heads)}
        )
        return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

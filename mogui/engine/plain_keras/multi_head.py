"""Functional models whose loss is a weighted sum over named heads, logged per head.

``loss`` and every ``<head>_loss`` are means over samples, so that with a short last batch an
epoch's ``loss`` still equals the sum of ``weight * <head>_loss`` (plus regularization) while
the weights stay the same. (``compile(loss=dict)`` logs each head's loss as a mean over batches
instead.) Two kinds: :class:`HeadLossModel`, one Keras loss per head, and
:class:`JointLossModel`, one function that sees every head at once. A loss given to compile()
is called once per head with that head's targets only, so it cannot couple heads; overriding
``compute_loss`` is the Keras way to get all of them in one call.

Each head's weight is a variable read in every step (:class:`HeadWeights`), so it can change
between steps without compiling again (a schedule, an edit during a pause). A balancer given
to :meth:`MultiHeadModel.balance_with` combines the heads' losses instead of the weighted sum;
the weight each head's loss gets in a step is logged as ``weight_<head>`` (mean over the
epoch's steps). Under ``tf.distribute`` every head's loss is this replica's share of its mean
over the whole batch, so the replicas' gradients add up to the one-device gradient.

Inside the compiled steps the heads' losses and weights leave the graph as one vector each,
not one scalar per head: every tensor a step returns costs the same host-side work whatever
its size, which at 40 heads was a fifth of a step. The model's train and test functions turn
the vectors back into one log value per head, so callbacks, ``fit``'s history and
``evaluate`` see ``<head>_loss`` and ``weight_<head>`` as usual. For the same reason the
heads' sample weights may come in as one matrix, a column per head (``packed_weights``).
"""

import inspect

import keras
import tensorflow as tf
from keras import ops

from mogui.engine.plain_keras.head_trackers import HeadMeans, HeadWeights, as_number
from mogui.engine.plain_keras.reduction import (
    reduce_term,
    reduce_terms,
    replica_count,
    sum_over_replicas,
)


def make_joint_loss():
    """The joint loss function ``loss(y_true, y_pred[, mask])``; defined by whoever builds."""
    raise NotImplementedError("define make_joint_loss() or override make_loss_function()")


def as_float32(tensor):
    """Predictions in float32, also under mixed precision."""
    if keras.backend.standardize_dtype(tensor.dtype) in ("float16", "bfloat16", "float64"):
        return ops.cast(tensor, "float32")
    return tensor


def loss_values(loss, y_true, y_pred):
    """What a Keras loss object computes before its reduction: its ``call`` on tensors of its
    dtype, as ``loss(y_true, y_pred)`` does first (a scalar or one value per sample)."""
    y_true = ops.convert_to_tensor(y_true, dtype=loss.dtype)
    y_pred = ops.convert_to_tensor(y_pred, dtype=loss.dtype)
    return loss.call(y_true, y_pred)


class MultiHeadModel(keras.Model):
    """Functional model that computes its loss from per-head terms and logs each term.

    Subclasses define ``loss_terms(y, y_pred, sample_weight)``, returning the unweighted terms
    keyed by head and their weighted total. Each term is logged as ``<head>_loss``, a mean over
    samples like Keras' ``loss``; the total gets the layers' regularization added. The weight
    each head's term gets in a training step is logged as ``weight_<head>``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The heads are the keys of the outputs dict (Keras' output_names are the layers'
        # names), in the order Keras flattens them (sorted), which is output_names' order.
        outputs = self.output
        self.head_names = sorted(outputs) if isinstance(outputs, dict) else list(self.output_names)
        self.terms_seen = ()
        # Each term is logged as "<head>_loss", each weight in training as "weight_<head>".
        self.term_tracker = HeadMeans(self.head_names, suffix="_loss", name="head_losses")
        self.weight_tracker = HeadMeans(self.head_names, prefix="weight_", name="head_weights")
        self.head_weights = HeadWeights(self.head_names)
        self.balancer = None

    def balance_with(self, balancer):
        """Combine the heads' losses with ``balancer`` (None: the weighted sum); after compile."""
        self.balancer = balancer
        if balancer is not None:
            balancer.prepare(self)

    def by_head(self, values, what):
        """``values`` (dict, or a tuple in output order as TensorFlow passes it) keyed by head."""
        if isinstance(values, dict):
            return dict(values)
        if isinstance(values, list | tuple):
            return dict(zip(self.head_names, values, strict=True))
        return {self.head_names[0]: values}

    def weight_matrix(self, sample_weight, heads=None):
        """The sample weights of ``heads`` (default: all, sorted by name) as one float32
        ``(batch, heads)`` matrix, or None without weights.

        ``sample_weight`` is a dict (or tuple in output order) of per-head weights, where a
        head left out weighs 1, or a matrix packed as ``packed_weights`` packs it: a column per
        head, in the order of the sorted head names. A single column weighs every head.
        """
        heads = list(heads if heads is not None else sorted(self.head_names))
        if sample_weight is None:
            return None
        if isinstance(sample_weight, dict | list | tuple):
            given = {
                head: ops.reshape(ops.cast(value, "float32"), (-1,))
                for head, value in self.by_head(sample_weight, "sample_weight").items()
                if value is not None
            }
            if not given:
                return None
            ones = ops.ones_like(next(iter(given.values())))
            return ops.stack([given.get(head, ones) for head in heads], axis=1)
        matrix = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
        if len(matrix.shape) == 1:
            matrix = ops.reshape(matrix, (-1, 1))
        columns = sorted(self.head_names)
        if matrix.shape[-1] == 1:
            return ops.repeat(matrix, len(heads), axis=1)
        if len(matrix.shape) != 2 or matrix.shape[-1] != len(columns):
            raise ValueError(
                f"sample weights of shape {tuple(matrix.shape)} do not fit {len(columns)} heads: "
                "give a dict of per-head weights or one column per head, sorted by head name"
            )
        if heads == columns:
            return matrix
        return ops.take(matrix, [columns.index(head) for head in heads], axis=1)

    def head_sample_weights(self, sample_weight):
        """The sample weights keyed by head (see :meth:`weight_matrix`); ``{}`` without."""
        if sample_weight is None or isinstance(sample_weight, dict | list | tuple):
            return {} if sample_weight is None else self.by_head(sample_weight, "sample_weight")
        heads = sorted(self.head_names)
        columns = ops.unstack(self.weight_matrix(sample_weight, heads), len(heads), axis=1)
        return dict(zip(heads, columns, strict=True))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # Keras' compiled metrics take one weight array per head.
        if sample_weight is not None and not isinstance(sample_weight, dict | list | tuple):
            sample_weight = self.head_sample_weights(sample_weight)
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def loss_terms(self, y, y_pred, sample_weight=None):
        """The unweighted terms keyed by head and their weighted total (no regularization)."""
        raise NotImplementedError

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.balanced_loss(y, y_pred, sample_weight, training)[0]

    def balanced_loss(self, y, y_pred, sample_weight=None, training=True):
        """This replica's share of the total loss, and the heads' weighted losses over the
        whole batch (empty without a balancer). Logs the terms, and the weights in training."""
        terms, total = self.loss_terms(y, y_pred, sample_weight)
        self.track_terms(terms, y_pred)
        whole = {}
        weights = {head: self.head_weights[head] for head in terms}
        if terms and self.balancer is not None:
            total, weights, whole = self.balance(terms, training)
        if training:
            self.weight_tracker.update_state(weights)
        return total + self.regularization(), whole

    def balance(self, terms, training):
        """The balancer's total as this replica's share, each head's weight, and the weighted
        losses over the whole batch.

        The balancer sees the heads' weighted losses over the whole batch and returns its
        total of them and the derivative of that total by each loss. This replica's share is
        ``sum_k w_k L_k`` over its own rows plus the rest of the total (what depends on the
        balancer's own variables) divided by the replicas: shares that add up to the total
        and whose gradients add up to the total's gradient.
        """
        heads = list(terms)
        local = [self.head_weights[head] * terms[head] for head in heads]
        summed = ops.stop_gradient(sum_over_replicas(ops.stack(local)))
        whole = {head: summed[i] for i, head in enumerate(heads)}
        total, weights = self.balancer.total(whole, self, training)
        weights = {head: ops.stop_gradient(ops.cast(weights[head], "float32")) for head in heads}
        own = sum(weights[head] * value for head, value in zip(heads, local, strict=True))
        rest = total - sum(weights[head] * whole[head] for head in heads)
        shares = {head: weights[head] * self.head_weights[head] for head in heads}
        return own + rest / replica_count(), shares, whole

    def whole_losses(self, terms, weighted=True):
        """The heads' (weighted) losses over the whole batch, without gradient."""
        heads = list(terms)
        values = [self.head_weights[h] * terms[h] if weighted else terms[h] for h in heads]
        summed = ops.stop_gradient(sum_over_replicas(ops.stack(values)))
        return {head: summed[i] for i, head in enumerate(heads)}

    def track_terms(self, terms, y_pred):
        """Log each term as ``<head>_loss``, a mean over samples."""
        # The number of rows in this batch (the last one may be short): each term's tracker
        # weighs the batch by it, as Keras' own "loss" tracker does; a replica's share of a
        # term times the replicas is its mean over the rows of that replica's part.
        batch = ops.shape(next(iter(self.by_head(y_pred, "y_pred").values())))[0]
        replicas = replica_count()
        self.term_tracker.update_state(
            {head: value * replicas for head, value in terms.items()}, sample_weight=batch
        )

    def track_loss(self, loss, x):
        """Log ``loss`` (this replica's share) as Keras' own step does (custom steps)."""
        batch = ops.shape(next(i for i in keras.tree.flatten(x) if i is not None))[0]
        tracker = next(m for m in self.metrics if m.name == "loss")
        tracker.update_state(loss * replica_count(), sample_weight=batch)

    def replicas(self):
        """How many replicas train at once (see ``replica_count``)."""
        return replica_count()

    def sum_over_replicas(self, value):
        """``value`` summed over the replicas (see ``sum_over_replicas``)."""
        return sum_over_replicas(value)

    def regularization(self):
        """The layers' regularization penalties, as this replica's share."""
        if not self.losses:
            return 0.0
        return sum(ops.sum(loss) for loss in self.losses) / replica_count()

    def train_step(self, data):
        balancer = self.balancer
        if balancer is None or not balancer.own_step:
            return super().train_step(data)
        if hasattr(balancer, "train_step"):  # gradient-based: the balancer's own step
            return balancer.train_step(self, data)
        # Keras' step, plus the balancer's own variables (the optimizer was built for them too)
        # and its work after the step.
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss, before = self.balanced_loss(y, y_pred, sample_weight, training=True)
            self.track_loss(loss, x)
            scaled = self.optimizer.scale_loss(loss)
        variables = list(self.trainable_variables) + balancer.trainable
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        balancer.after_step(self, x, y, sample_weight, before)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        # Weights are logged for training steps only: no val_weight_<head>.
        logs = super().test_step(data)
        weights = {*self.weight_tracker.keys, self.weight_tracker.packed_key}
        return {key: value for key, value in logs.items() if key not in weights}

    def head_trackers(self):
        """The trackers whose values leave compiled steps as one vector each."""
        trackers = (getattr(self, "term_tracker", None), getattr(self, "weight_tracker", None))
        return [t for t in trackers if t is not None]

    def get_metrics_result(self):
        """Every metric's result; inside a compiled step the per-head means are one vector
        per tracker (see :meth:`unpack_logs`)."""
        if tf.executing_eagerly():
            return super().get_metrics_result()
        packed = {id(t): t for t in self.head_trackers()}
        results = {}
        for metric in self.metrics:
            tracker = packed.get(id(metric))
            result = tracker.packed_result() if tracker is not None else metric.result()
            if isinstance(result, dict):
                results.update(result)
            else:
                results[metric.name] = result
        return results

    def unpack_logs(self, logs):
        """A step's logs with each tracker's vector turned back into one value per head."""
        if not isinstance(logs, dict):
            return logs
        trackers = {t.packed_key: t for t in self.head_trackers()}
        if not any(key in trackers for key in logs):
            return logs
        out = {}
        for key, value in logs.items():
            if key in trackers:
                trackers[key].unpack(value, out)
            else:
                out[key] = as_number(value)
        return out

    def make_train_function(self, force=False):
        super().make_train_function(force)
        self.train_function = self._unpacking(self.train_function)
        return self.train_function

    def make_test_function(self, force=False):
        super().make_test_function(force)
        self.test_function = self._unpacking(self.test_function)
        return self.test_function

    def _unpacking(self, step_function):
        """``step_function`` returning :meth:`unpack_logs` of its logs (once wrapped only)."""
        if step_function is None or getattr(step_function, "unpacks_head_logs", False):
            return step_function

        def unpacked(iterator):
            return self.unpack_logs(step_function(iterator))

        unpacked.unpacks_head_logs = True
        return unpacked

    @property
    def metrics(self):
        # Report only the heads that have a term.
        seen = getattr(self, "terms_seen", ())
        for tracker in (getattr(self, "term_tracker", None), getattr(self, "weight_tracker", None)):
            if tracker is not None:
                tracker.shown = tuple(seen)
        if not seen:
            hidden = {
                id(getattr(self, "term_tracker", None)),
                id(getattr(self, "weight_tracker", None)),
            }
            return [m for m in super().metrics if id(m) not in hidden]
        return super().metrics


class HeadLossModel(MultiHeadModel):
    """Functional model trained by one Keras loss per head: ``sum(weight * head loss)``.

    Compile it as usual with dicts keyed by head name: ``compile(loss={head: loss},
    loss_weights={head: weight}, ...)``. A head whose loss is ``None`` is not trained. Each
    loss is averaged over the head's labelled rows (sample weight not 0), as Keras'
    ``"mean_with_sample_weight"`` reduction does.
    """

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, **kwargs):
        losses = {str(k): v for k, v in dict(loss or {}).items()}
        unknown = sorted(set(losses) - set(self.head_names))
        if unknown:
            raise ValueError(f"losses for {unknown}, which name no output {self.head_names}")
        self.head_losses = {
            k: None if v is None else keras.losses.get(v) for k, v in losses.items()
        }
        for head, value in self.head_losses.items():
            if value is not None and not isinstance(value, keras.losses.Loss):
                raise TypeError(
                    f"the loss of head {head!r} must be a keras.losses.Loss object, e.g. "
                    f"keras.losses.MeanSquaredError(), not {value!r}"
                )
        weights = dict(loss_weights or {})
        self.loss_weights = {k: float(weights.get(k, 1.0)) for k in self.head_losses}
        self.head_weights.assign(self.loss_weights)
        self.terms_seen = tuple(k for k, v in self.head_losses.items() if v is not None)
        super().compile(optimizer=optimizer, **kwargs)
        self.loss = dict(self.head_losses)

    def loss_terms(self, y, y_pred, sample_weight=None):
        y_true = self.by_head(y, "y")
        preds = self.by_head(y_pred, "y_pred")
        values = {
            head: loss_values(loss, y_true[head], preds[head])
            for head, loss in self.head_losses.items()
            if loss is not None
        }
        terms = reduce_terms(values, self.weight_matrix(sample_weight, list(values)))
        total = sum(self.head_weights[head] * value for head, value in terms.items())
        return terms, total

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and getattr(self, "head_losses", None) is not None:
            config["loss"] = keras.saving.serialize_keras_object(self.head_losses)
            config["loss_weights"] = dict(self.loss_weights)
        return config

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)


class JointLossModel(MultiHeadModel):
    """Functional model whose loss is ``loss(y_true, y_pred)`` over dicts of every head.

    Build it like a functional model: ``JointLossModel(inputs, outputs, term_weights=...)``.
    The function returns a scalar or a dict of terms keyed by head name; each term is logged
    unweighted as ``<head>_loss`` and the total is ``sum(term_weight * term)`` plus the layers'
    regularization. A per-sample term is averaged over the head's labelled rows (sample weight
    not 0). A function declared ``loss(y_true, y_pred, mask)`` also gets ``mask[head]``: 1.0
    for labelled rows, 0.0 for the others, shape ``(batch,)``.
    """

    def __init__(self, *args, term_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.term_weights = {str(k): float(v) for k, v in (term_weights or {}).items()}
        self.head_weights.assign(self.term_weights)
        self.loss_fn = self.make_loss_function()
        self.wants_mask = "mask" in inspect.signature(self.loss_fn).parameters

    def make_loss_function(self):
        """The joint loss function."""
        return make_joint_loss()

    def call_loss(self, y_true, y_pred, mask):
        """Call the loss function (with the mask when it asks for one)."""
        if self.wants_mask:
            return self.loss_fn(y_true, y_pred, mask)
        return self.loss_fn(y_true, y_pred)

    def reduce(self, value, weight, what):
        """One term (or the returned value) as a scalar; see ``reduce_term``."""
        return reduce_term(value, weight)

    def loss_terms(self, y, y_pred, sample_weight=None):
        """Call the loss function once; its reduced terms (unweighted) and their total.

        The total leaves out regularization. A scalar return gives no terms, which a balancer
        cannot weigh: it raises then.
        """
        y_true = {k: ops.convert_to_tensor(v) for k, v in self.by_head(y, "y").items()}
        preds = {
            k: as_float32(ops.convert_to_tensor(v))
            for k, v in self.by_head(y_pred, "y_pred").items()
        }
        weights = self.head_sample_weights(sample_weight)
        mask = None
        if self.wants_mask:
            batch = ops.shape(next(iter(preds.values())))[0]
            mask = {
                head: ops.reshape(ops.cast(weights[head], "float32"), (-1,))
                if head in weights
                else ops.ones((batch,), "float32")
                for head in preds
            }
        result = self.call_loss(y_true, preds, mask)
        if isinstance(result, dict):
            terms = {
                head: self.reduce(value, weights.get(head), f"term {head!r}")
                for head, value in result.items()
            }
            self.terms_seen = tuple(terms)
            total = sum(self.head_weights[head] * value for head, value in terms.items())
            return terms, total
        if self.balancer is not None:
            raise ValueError(
                "balancing the heads needs one loss term per head, but the joint loss returns "
                "one value; return a dict of terms keyed by head name, or use fixed weights"
            )
        self.terms_seen = ()
        return {}, self.reduce(result, None, "the returned value")

    def get_config(self):
        return {**super().get_config(), "term_weights": dict(self.term_weights)}
